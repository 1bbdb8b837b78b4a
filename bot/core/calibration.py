"""The answer's confidence: the reader's best logit turned into a probability that the answer holds the fact.

Platt scaling, `1 / (1 + exp(-(a * logit + c * missing + b)))` (`missing`: the question asks
for a typed thing, a name, date or number, that the lead sentence lacks), with `a`, `b` and `c` stored as data in
`bot/models/reader_calibration.json`, one entry per reader (the trained reader and the
cross-encoder stand-in read on different scales). `eval/calibrate_reader.py` refits them;
docs/BENCHMARKS.md ("Confidence") says on what.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CALIBRATION_FILE = Path(__file__).resolve().parent.parent / "models" / "reader_calibration.json"


@dataclass(frozen=True)
class Platt:
    """`confidence(logit, missing) = sigmoid(a * logit + c * missing + b)`."""

    a: float
    b: float
    c: float = 0.0

    def confidence(self, logit: float | None, missing: bool = False) -> float:
        """The probability that an answer led by a sentence with this reader logit holds the fact (0-1);
        `missing`: the lead sentence lacks the asked-for kind of thing."""
        if logit is None:
            return 0.0
        z = self.a * logit + self.b + self.c * float(missing)
        return 1.0 / (1.0 + math.exp(-z)) if z > -60 else 0.0


@lru_cache(maxsize=8)
def calibration(reader: str, path: Path = CALIBRATION_FILE) -> Platt:
    """The stored Platt parameters for `reader` (a reader's `name`); a neutral scale when none are stored."""
    try:
        entry = json.loads(Path(path).read_text(encoding="utf-8"))["readers"][reader]
    except (OSError, KeyError, ValueError):
        return Platt(1.0, 0.0)
    return Platt(float(entry["a"]), float(entry["b"]), float(entry.get("c", 0.0)))
