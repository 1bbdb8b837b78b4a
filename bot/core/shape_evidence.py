"""What the list, timeline and outlets answerers read: the relevant sentences of every retrieved
article (the cross-encoder judges relevance), who published each, and the dates sentences state.

Unlike the single-fact path, which quotes the best three sentences of the best four passages,
a shaped answer reads every passage retrieval kept for every article (`PASSAGES_PER_ARTICLE`
each) whose cross-encoder score passes `PASSAGE_BAR`, and keeps each sentence that scores at
least `SENTENCE_BAR` (or is the best one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from urllib.parse import urlsplit

from bot.core.records import ArticleHit, Passage
from bot.core.sentence_choice import MAX_SENTENCE_CHARS
from bot.core.sentences import split_sentences

# A passage is read when its cross-encoder logit is within PASSAGE_MARGIN of the best article's and not
# below the gate's refusal bar (rerank_gate.REFUSE_BELOW, -8). 6 logits: three times sentence_choice.MARGIN,
# so articles well below the best still give their items; measured on eval/shapes_dev.jsonl (BENCHMARKS.md).
PASSAGE_MARGIN = 6.0
# A sentence counts as relevant at this cross-encoder logit or above (ms-marco logits: > 0 "relevant").
# Measured (eval/shapes_dev.jsonl and dev's 8 multi questions, docs/BENCHMARKS.md): -2 -> -3 adds one dev
# multi answer (5/8 -> 6/8: a list item stated at -2.7), -4 adds nothing more; shapes_dev unchanged throughout.
SENTENCE_BAR = -3.0
# ... and within SENTENCE_MARGIN logits of the best sentence: where the best sentences are plainly about the
# question (a crew list at logit 8), ones 6 below are about something else (other crews)
SENTENCE_MARGIN = 6.0
# Sentences scored per question at most (best passages first): bounds the cost. 64 -> 40 changed no answer
# and no item on shapes_dev or dev's multi questions (docs/BENCHMARKS.md); 120 cost ~1.5 s under load.
MAX_CANDIDATES = 40


@dataclass
class Relevant:
    """One relevant sentence, its passage, its hit (article) and the cross-encoder's logit."""

    sentence: str
    passage: Passage
    hit: ArticleHit
    score: float


def relevant_sentences(question: str, hits: list[ArticleHit], model) -> list[Relevant]:
    """Sentences of every retrieved article that the cross-encoder judges relevant, best first."""
    from bot.core.rerank_gate import REFUSE_BELOW

    reranked = [h for h in hits if h.reranked]
    if not reranked:
        return []
    bar = max(max(h.score for h in reranked) - PASSAGE_MARGIN, REFUSE_BELOW)
    # articles retrieval found but the reranker did not read (below its depth) are read too, in retrieval order
    ordered = [(p, h) for h in reranked for p in h.passages if p.score >= bar]
    ordered.sort(key=lambda x: -x[0].score)
    ordered += [(p, h) for h in hits if not h.reranked for p in h.passages]
    pairs: list[tuple[str, Passage, ArticleHit]] = []
    seen: set[str] = set()
    for passage, hit in ordered:
        for sentence in split_sentences(passage.text):
            if quotable(sentence) and sentence not in seen and len(pairs) < MAX_CANDIDATES:
                seen.add(sentence)  # a sentence two articles share (a boilerplate paragraph) counts once
                pairs.append((sentence, passage, hit))
    if not pairs:
        return []
    logits = model.score(question, [f"{p.title}. {s}" for s, p, _ in pairs])
    scored = sorted((Relevant(s, p, h, float(x)) for (s, p, h), x in zip(pairs, logits)), key=lambda r: -r.score)
    bar = max(SENTENCE_BAR, scored[0].score - SENTENCE_MARGIN)
    return [r for i, r in enumerate(scored) if i == 0 or r.score >= bar]


_LOWER_WORD = re.compile(r"\b[a-z]{2,}\b")
MIN_WORDS = 4  # a quotable sentence has this many lower-case words at least: not a dateline, contact line or URL


def quotable(sentence: str) -> bool:
    """A sentence fit to quote as an answer's line: not too long, not boilerplate ("-end-", phone lines)."""
    return len(sentence) <= MAX_SENTENCE_CHARS and len(_LOWER_WORD.findall(sentence)) >= MIN_WORDS


def site_name(url: str | None) -> str | None:
    """The site of a URL: "https://www.example.org/a" -> "example.org"."""
    if not url or not url.lower().startswith(("http://", "https://")):
        return None
    host = (urlsplit(url).hostname or "").lower()
    return host.removeprefix("www.") or None


def outlet_of(passage: Passage) -> str:
    """Who published a passage: the stored publisher, else the site in its URL, else its source."""
    return passage.publisher or site_name(passage.url) or passage.source or "unknown outlet"


def copy_outlet(address: str) -> str:
    """How an "also in" copy (a URL or an article id) is named: its site, else the address itself."""
    return site_name(address) or address


# A DATE entity places a sentence in time only when it names a year, a month, a weekday or a day
# relative to the article's date; "204 days" or "the 1960s" (durations, decades) do not.
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
_POINT_IN_TIME = re.compile(
    rf"\b(?:1[89]\d\d|20\d\d)\b|\b(?:{_MONTHS})[a-z]*\b\.?|\b(?:mon|tues|wednes|thurs|fri|satur|sun)day\b"
    r"|\b(?:yesterday|today|tomorrow)\b|\b(?:last|this|next|past) (?:week|month|year)\b",
    re.IGNORECASE,
)
_YEAR = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b")
_PERIODS = {"day": 10, "week": 10, "month": 7, "year": 4}  # ISO characters kept for each precision


def stated_date(entities: list[str], published: str | None) -> str | None:
    """The first date among a sentence's DATE entities, resolved against the article's publication
    date (`dateparser`): ISO, cut to what the text states ("2023", "2023-12", "2023-12-20")."""
    parser = _date_parser(published)
    for text in entities:
        if not _POINT_IN_TIME.search(text) or (published is None and not _YEAR.search(text)):
            continue  # not a point in time; or "April 16" in an undated article: its year is unknown
        data = parser.get_date_data(re.sub(r"^(?:on|in|by|since|the)\s+", "", text.strip(), flags=re.IGNORECASE))
        if data.date_obj is not None:
            return data.date_obj.date().isoformat()[: _PERIODS.get(data.period or "day", 10)]
    return None


def sentence_date(entities: list[str], published: str | None) -> tuple[str | None, str | None]:
    """(date, dated_by): the date the sentence states ("sentence") unless it lies after the article's,
    else its article's ("article"), else (None, None)."""
    stated = stated_date(entities, published)
    # a date after the article's own is a plan ("will launch in 2026"): the line is dated when it was said
    if stated is not None and not (published and stated > published[:10]):
        return stated, "sentence"
    return (published[:10], "article") if published else (None, None)


def asked_years(question: str) -> frozenset[str]:
    """Years a question restricts itself to ("which countries signed in 2024?" -> {"2024"})."""
    return frozenset(_YEAR.findall(question))


def _date_parser(published: str | None):
    from dateparser.date import DateDataParser

    base = datetime.combine(date.fromisoformat(published[:10]), datetime.min.time()) if published else None
    settings = {"PREFER_DAY_OF_MONTH": "first", "RETURN_AS_TIMEZONE_AWARE": False}
    if base is not None:
        settings["RELATIVE_BASE"] = base
    return DateDataParser(languages=["en"], settings=settings)
