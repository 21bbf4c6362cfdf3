"""Report figures as PNG: per-metric bars per retriever, and top-score distributions."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from evaluation.metrics import INSTALL, METRICS
from evaluation.records import Evaluation

COLOURS = {"dense": "#1f77b4", "bm25": "#ff7f0e", "hybrid": "#2ca02c"}


def _pyplot() -> Any:
    try:
        import matplotlib

        matplotlib.use("Agg")  # files only, never a window
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"report plots need matplotlib: run `{INSTALL}`") from exc
    return plt


def metric_bars(table: dict[str, dict[str, float]], path: Path, title: str) -> Path:
    """Grouped bars: one group per metric, one bar per retriever, value printed on top."""
    plt = _pyplot()
    names = list(table)
    metrics = list(METRICS)
    width = 0.8 / max(len(names), 1)
    fig, ax = plt.subplots(figsize=(10, 4.5))
    for i, name in enumerate(names):
        xs = [m + (i - (len(names) - 1) / 2) * width for m in range(len(metrics))]
        values = [table[name][m] for m in metrics]
        bars = ax.bar(xs, values, width, label=name, color=COLOURS.get(name))
        ax.bar_label(bars, labels=[f"{v:.2f}" for v in values], fontsize=7, padding=2)
    ax.set_xticks(range(len(metrics)), metrics)
    ax.set_ylim(0, 1.1)
    ax.set_ylabel("score")
    ax.set_title(title)
    ax.legend(loc="lower right")
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _hist(ax: Any, groups: Sequence[tuple[str, list[float], str]], title: str) -> None:
    values = [v for _, vs, _ in groups for v in vs]
    bins = 20
    if values and max(values) > min(values):
        step = (max(values) - min(values)) / bins
        bins = [min(values) + i * step for i in range(21)]  # type: ignore[assignment]
    for label, vs, colour in groups:
        if vs:
            ax.hist(vs, bins=bins, alpha=0.6, label=f"{label} ({len(vs)})", color=colour)
        else:
            ax.plot([], [], label=f"{label} (0)", color=colour)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("top-1 score", fontsize=8)
    ax.legend(fontsize=7)


def score_distributions(evaluation: Evaluation, path: Path) -> Path:
    """Top-1 score per question: answered/abstained (top), answerable/unanswerable (bottom)."""
    plt = _pyplot()
    names = evaluation.retrievers
    fig, axes = plt.subplots(2, len(names), figsize=(4.2 * len(names), 6.5), squeeze=False)
    for col, name in enumerate(names):
        records = [r for r in evaluation.of(name) if r.top_score is not None]
        _hist(axes[0][col], [
            ("answered", [r.top_score for r in records if r.answered], "#2ca02c"),  # type: ignore[misc]
            ("abstained", [r.top_score for r in records if not r.answered], "#d62728"),  # type: ignore[misc]
        ], f"{name}: answered vs abstained")
        _hist(axes[1][col], [
            ("answerable", [r.top_score for r in records if r.answerable], "#1f77b4"),  # type: ignore[misc]
            ("unanswerable", [r.top_score for r in records if not r.answerable], "#9467bd"),  # type: ignore[misc]
        ], f"{name}: answerable vs unanswerable")
    fig.suptitle(f"{evaluation.dataset}: top-1 score per question (no hits: left out)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
