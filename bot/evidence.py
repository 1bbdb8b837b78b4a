"""How well the retrieved passages support a question: the basis for refusing.

A single similarity number does not tell answerable from unanswerable
questions. What does better: whether the question's rare terms (names,
numbers, ordinals) actually occur in the best passages. `coverage` is the
IDF-weighted share of the question's terms found in the top articles.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.records import ArticleHit
from bot.terms import STOP_WORDS

# Calibrated on the dev set's unanswerable vs answerable questions (docs/BENCHMARKS.md).
REFUSAL_THRESHOLD = 0.80
TOP_ARTICLES = 3


@dataclass
class Evidence:
    coverage: float  # IDF-weighted share of question terms present in the top passages
    missing: list[str]  # question terms absent from them, rarest first

    def weak(self, threshold: float = REFUSAL_THRESHOLD) -> bool:
        return self.coverage < threshold


def weigh_evidence(question: str, hits: list[ArticleHit], keyword_index) -> Evidence:
    """Score the top articles' passages against the question's terms."""
    terms = [t for t in dict.fromkeys(keyword_index.terms(question)) if t not in STOP_WORDS]
    if not terms or not hits:
        return Evidence(0.0, terms)
    present: set[str] = set()
    for hit in hits[:TOP_ARTICLES]:
        for passage in hit.passages:
            present.update(keyword_index.terms(f"{passage.title}\n{passage.text}"))
    weights = {t: keyword_index.idf(t) for t in terms}
    total = sum(weights.values()) or 1.0
    found = sum(w for t, w in weights.items() if t in present)
    missing = sorted((t for t in terms if t not in present), key=lambda t: -weights[t])
    return Evidence(found / total, missing)
