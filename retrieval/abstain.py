"""Decide whether the documents answer a question at all.

e5 cosine scores sit in a narrow band (~0.80-0.88), so nothing here is guessed: a linear rule
over the evidence (dense score, its margin, the BM25 score, whether the two retrievers agree)
is fitted on a labelled set with unanswerable questions (`python -m evaluation calibrate`) and
stored in abstention.json next to this file, with the figures it was fitted to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from retrieval.assistant import Evidence

PARAMS = Path(__file__).with_name("abstention.json")
FEATURES = ("dense_top", "dense_margin", "lexical_top", "agreement")


@dataclass(frozen=True)
class Abstainer:
    """Answer when bias + Σ weight·feature ≥ 0."""

    weights: dict[str, float] = field(default_factory=dict)
    bias: float = 0.0
    fitted_on: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.weights) - set(FEATURES)
        if unknown:
            raise ValueError(f"unknown abstention feature(s) {sorted(unknown)}; known: {FEATURES}")

    @classmethod
    def default(cls) -> Abstainer:
        """The fitted rule; without one, never abstain (and say so in the manifest)."""
        if PARAMS.is_file():
            data = json.loads(PARAMS.read_text(encoding="utf-8"))
            return cls(data["weights"], float(data["bias"]), data.get("fitted_on", {}))
        return cls()

    def save(self, path: Path = PARAMS) -> None:
        data = {"weights": self.weights, "bias": self.bias, "fitted_on": self.fitted_on}
        path.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")

    @staticmethod
    def features(evidence: Evidence) -> dict[str, float]:
        return {name: float(getattr(evidence, name)) for name in FEATURES}

    def score(self, evidence: Evidence) -> float:
        f = self.features(evidence)
        return self.bias + sum(w * f[name] for name, w in self.weights.items())

    def answers(self, evidence: Evidence) -> bool:
        return self.score(evidence) >= 0.0
