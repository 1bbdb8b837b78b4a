"""How well the retrieved articles support a question: the basis for refusing.

A similarity score does not tell answerable from unanswerable questions. What
does better: whether the question's *specific* terms (rare names, places,
acronyms, numbers and ordinals, e.g. "argentina", "41st", "fcc") occur in the
best articles at all. If a question names something specific that none of the
top articles mention, the articles don't answer it, however similar they look.
Common words are not checked: paraphrases ("junk", "wreck") are normal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.records import ArticleHit
from bot.terms import STOP_WORDS

TOP_ARTICLES = 3
RARE_SHARE = 0.002  # a term in at most 0.2% of chunks is specific (calibrated: docs/BENCHMARKS.md)
_WORDS = re.compile(r"[\w][\w\-'.]*")


@dataclass
class Evidence:
    specific: list[str]  # the question's specific terms (stemmed)
    missing: list[str]  # those absent from every top article

    @property
    def weak(self) -> bool:
        return bool(self.missing)


def question_terms(question: str, keyword_index) -> list[str]:
    """Index terms of a question, question and function words removed before stemming."""
    words = [w for w in _WORDS.findall(question.lower()) if w.strip("'.") not in STOP_WORDS]
    return list(dict.fromkeys(keyword_index.terms(" ".join(words))))


def specific_terms(terms: list[str], keyword_index) -> list[str]:
    """The rare names and numbers among `terms`."""
    limit = RARE_SHARE * max(len(keyword_index.table), 1)
    out = []
    for term in terms:
        doc_freq = keyword_index.doc_freq.get(term, 0)
        if doc_freq > limit:
            continue
        if any(c.isdigit() for c in term) or term in keyword_index.proper:
            out.append(term)
    return out


def weigh_evidence(question: str, hits: list[ArticleHit], keyword_index) -> Evidence:
    """Which of the question's specific terms the top articles (whole, not just passages) lack."""
    specific = specific_terms(question_terms(question, keyword_index), keyword_index)
    if not specific:
        return Evidence([], [])
    if not hits:
        return Evidence(specific, specific)
    article_of = keyword_index.table.columns["article_id"]
    top = {hit.article_id for hit in hits[:TOP_ARTICLES]}
    missing = [t for t in specific
               if not any(article_of[row] in top for row in keyword_index.rows_with(t))]
    return Evidence(specific, missing)
