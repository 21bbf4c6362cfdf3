"""The console side of a Ray build's progress: texts done / total and the rate.

The dashboard shows the same work as Ray tasks, one row per stage (`encode passages (N
batches)`); this line counts texts and says how fast they go, which is what a log of a
cluster build needs to estimate the rest.
"""

from __future__ import annotations

import time
from typing import TextIO


class Progress:
    """Texts done / total and the rate on the console: a line that rewrites itself on a
    terminal, a line per tenth otherwise (logs of cluster jobs)."""

    def __init__(self, stage: str, total: int, workers: int, stream: TextIO,
                 show: bool) -> None:
        self.stage, self.total, self.workers, self.stream, self.show = (
            stage, total, workers, stream, show)
        self.done = 0
        self.start = time.perf_counter()
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.next_line = 0.1

    def line(self) -> str:
        seconds = max(time.perf_counter() - self.start, 1e-9)
        return (f"Ray: {self.done:,}/{self.total:,} {self.stage} encoded, "
                f"{self.done / seconds:.1f}/s on {self.workers} worker(s), {seconds:.0f} s")

    def add(self, count: int) -> None:
        self.done += count
        if not self.show:
            return
        if self.tty:
            print(f"\r{self.line()}", end="", file=self.stream, flush=True)
        elif self.done >= self.next_line * self.total and self.done < self.total:
            print(self.line(), file=self.stream, flush=True)
            self.next_line = (int(10 * self.done / self.total) + 1) / 10

    def finish(self) -> None:
        print(("\r" if self.tty and self.show else "") + self.line(), file=self.stream,
              flush=True)
