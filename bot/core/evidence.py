"""How well the retrieved articles support a question: the basis for refusing.

A similarity score does not tell answerable from unanswerable questions. What
does better: whether the question's *specific* terms occur in the best articles
at all: rare names, places, numbers and ordinals ("argentina", "41st", "fcc"),
and any acronym typed in capitals ("ESA"), found as such or spelled out the way
the articles introduce it. If a question names something specific that none of
the top articles mention, the articles don't answer it, however similar they
look. Common words are not checked: paraphrases ("junk", "wreck") are normal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from bot.core.records import ArticleHit
from bot.core.terms import STOP_WORDS

# The refusal weights, explained once. TOP_ARTICLES: a real answer's terms are in one of the three
# best articles (the answerers quote from the best passages, nearly always of these). RARE_SHARE: a
# term in at most 0.2% of chunks (31 of the full corpus's 15,792) is specific; set by hand on
# the dev set (commit 37faef1), where counting common words ("supposed", "turn") as evidence had
# refused 33 of 54 answerable questions; no sweep was recorded. MIN_RARE_CHUNKS: in a small index
# (the 24-article sample) 0.2% is under one chunk, so a term in up to two chunks still counts.
TOP_ARTICLES = 3
RARE_SHARE = 0.002
MIN_RARE_CHUNKS = 2
_WORDS = re.compile(r"[\w][\w\-'.]*")
_ACRONYM = re.compile(r"\b[A-Z]{2,6}\b")


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


@lru_cache(maxsize=1)
def _gazetteer() -> frozenset[str]:
    from bot.core.gazetteer import COUNTRIES
    from ingest.keyword_index import tokenize

    return frozenset(tokenize([" ".join(COUNTRIES)])[0])


def specific_terms(question: str, keyword_index) -> list[str]:
    """The question's rare names and numbers: the terms a real answer must mention."""
    terms = question_terms(question, keyword_index)
    limit = max(RARE_SHARE * len(keyword_index.table), MIN_RARE_CHUNKS)
    countries = _gazetteer()
    out = []
    for term in terms:
        if keyword_index.doc_freq.get(term, 0) > limit:
            continue
        if any(c.isdigit() for c in term) or term in keyword_index.proper or term in countries:
            out.append(term)
    return out


# Month names as index terms; not "mar" (the stem of "Mars") and not "may" (a stop word).
_MONTHS = frozenset(
    "jan januari feb februari march apr april jun june jul juli aug august sep sept septemb "
    "oct octob nov novemb dec decemb".split()
)


def main_name(terms: list[str], keyword_index) -> str | None:
    """The rarest of the question's names (terms the articles write capitalised), months aside."""
    named = [t for t in terms if t in keyword_index.proper and t not in _MONTHS]
    return max(named, key=keyword_index.idf) if named else None


def names(terms: set[str], name: str) -> bool:
    """True if `terms` include `name` or a longer word starting with it ("europ" → "european")."""
    return name in terms or any(t.startswith(name) for t in terms)


def _spellings(term: str) -> list[str]:
    """A term and the other ways articles write it ("fy26" is "2026" in most releases)."""
    fiscal = re.fullmatch(r"fy(?:20)?(\d\d)", term)
    return [term, f"20{fiscal[1]}"] if fiscal else [term]


def acronyms(question: str, keyword_index) -> list[str]:
    """Acronyms typed in capitals ("ESA", "FCC"): each names one thing, however common it is.

    Capitals that are also function words ("US", "IT") and questions typed all in capitals don't count.
    """
    if question.isupper():
        return []
    return [a for a in dict.fromkeys(_ACRONYM.findall(question)) if keyword_index.terms(a)]


def weigh_evidence(question: str, hits: list[ArticleHit], keyword_index) -> Evidence:
    """Which of the question's specific terms and acronyms the top articles (whole, not just passages) lack."""
    specific = specific_terms(question, keyword_index)
    typed = [a for a in acronyms(question, keyword_index) if not set(keyword_index.terms(a)) <= set(specific)]
    if not specific and not typed:
        return Evidence([], [])
    if not hits:
        return Evidence(specific + typed, specific + typed)
    top = {hit.article_id for hit in hits[:TOP_ARTICLES]}

    def mentioned(term: str) -> bool:
        return any(keyword_index.mentions(spelling, top) for spelling in _spellings(term))

    def acronym_mentioned(acronym: str) -> bool:
        if any(mentioned(term) for term in keyword_index.terms(acronym)):
            return True
        texts = keyword_index.table.columns["text"]
        return any(
            name in " ".join(texts[row].split())
            for name in keyword_index.spelled_out(acronym)
            for article_id in top
            for row in keyword_index.rows_of(article_id)
        )

    missing = [t for t in specific if not mentioned(t)] + [a for a in typed if not acronym_mentioned(a)]
    return Evidence(specific + typed, missing)
