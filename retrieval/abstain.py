"""Decide whether the documents answer a question at all.

e5 cosine scores sit in a narrow band (~0.80-0.88), so the threshold is never guessed: it is
fitted on a labelled set with unanswerable questions (`python -m evaluation calibrate`) and
stored in abstention.json next to this file.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from retrieval.assistant import Evidence

PARAMS = Path(__file__).with_name("abstention.json")


@dataclass(frozen=True)
class Abstainer:
    threshold: float
    feature: str = "top_score"

    @classmethod
    def default(cls) -> Abstainer:
        if PARAMS.is_file():
            data = json.loads(PARAMS.read_text(encoding="utf-8"))
            return cls(threshold=float(data["threshold"]), feature=str(data["feature"]))
        return cls(threshold=0.0)

    def score(self, evidence: Evidence) -> float:
        return float(getattr(evidence, self.feature))

    def answers(self, evidence: Evidence) -> bool:
        return self.score(evidence) >= self.threshold
