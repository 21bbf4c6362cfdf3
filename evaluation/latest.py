"""Read back the newest report (reports/latest/) for the app's "Evaluering" page."""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evaluation.report import LATEST

IMAGES = ("metrics.png", "scores.png")


@dataclass(frozen=True)
class LatestReport:
    folder: Path
    summary: dict[str, Any]
    images: tuple[Path, ...]
    misses: tuple[dict[str, str], ...]

    @property
    def table(self) -> list[dict[str, Any]]:
        """One row per retriever: its name, then every figure in summary.json."""
        return [{"retriever": name, **row} for name, row in self.summary["retrievers"].items()]

    @property
    def significance(self) -> list[dict[str, Any]]:
        comparison = self.summary.get("comparison", {})
        rows = []
        for pair, p_values in comparison.get("p_values", {}).items():
            for metric, p in p_values.items():
                rows.append({"par": pair, "mål": metric, "p": p,
                             "signifikant": p < comparison.get("max_p", 0.05)})
        return rows


def load_latest(reports: Path | str = "reports") -> LatestReport | None:
    """The report in reports/latest/, or None when no run has written one yet."""
    folder = Path(reports) / LATEST
    summary_path = folder / "summary.json"
    if not summary_path.is_file():
        return None
    summary = json.loads(summary_path.read_text(encoding="utf-8"))
    misses: tuple[dict[str, str], ...] = ()
    if (folder / "misses.tsv").is_file():
        with (folder / "misses.tsv").open(encoding="utf-8", newline="") as f:
            misses = tuple(csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE))
    images = tuple(folder / name for name in IMAGES if (folder / name).is_file())
    return LatestReport(folder, summary, images, misses)
