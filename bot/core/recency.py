"""Recency-aware answers: a question about the current state prefers the newest articles that answer it.

Three parts, each plugged into the stage chain by `bot.core.compose`:

- `asks_for_recent(question)`: does the question ask about now? Read from its
  spaCy parse (the pipeline `bot.core.entities` loads), with a small closed
  lexicon of temporal cue words (`TEMPORAL_ADVERBS`, `RECENT_ADJECTIVES`,
  `DEICTIC_WORDS`, `CUE_PHRASES`): a temporal adverb modifying the clause
  ("who is the administrator *now*", "who *currently* leads"), an adjective
  of recency ("the *latest* report", "the *current* budget"), a DATE entity
  anchored to the speaker's now ("*this week*", "*last month*"), or "so far" /
  "to date". "now that X signed" (a conjunction) is not a cue, nor is
  "as of 2023" (a date given: a point in time, not now).
- `RecencyRanker`: the ranking stage. Articles published after "now" (the
  question's `as_of`, else the clock) are dropped; for a recency question the
  articles that pass the relevance bar (reranked, within `RELEVANCE_MARGIN`
  logits of the best and not below the gate's threshold) come first, newest
  first; undated ones follow them, then the rest in relevance order.
- `RecencyAnswerer`: wraps the answerer. For a recency question the quoted
  sentences are put newest article first, a sentence from a dated article
  older than the newest quoted one is dropped (a newer article supersedes it),
  and the draft says `as_of`: the newest cited article's date.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date

from bot.core.records import ArticleHit, Passage
from bot.core.stages import AnswerRequest, Claim, Draft, Query

# The closed lexicon of temporal cue words (English), read with the parse, never alone:
# adverbs that place a clause at the time of asking ...
TEMPORAL_ADVERBS = frozenset(
    {"now", "currently", "presently", "nowadays", "recently", "lately", "today", "yet", "still", "anymore"}
)
# ... adjectives that ask for the newest state ...
RECENT_ADJECTIVES = frozenset({"current", "latest", "newest", "recent", "ongoing", "up-to-date"})
# ... words that anchor a DATE entity to the time of asking ("this week", "the past year") ...
DEICTIC_WORDS = frozenset({"this", "last", "past", "current", "recent", "today", "now", "tonight", "yesterday"})
# ... and two-word adverbials the parser splits.
CUE_PHRASES = frozenset({("so", "far"), ("to", "date")})
_LEXICON = TEMPORAL_ADVERBS | RECENT_ADJECTIVES | DEICTIC_WORDS
_WORD = re.compile(r"[\w-]+")

# Articles "pass the relevance bar" when their best passage's cross-encoder logit is within this many
# logits of the best article's. 2.0 is sentence_choice.MARGIN, the margin within which a second sentence
# counts as close to the first; not tuned here: dev and dev2 hold three questions with a recency cue.
RELEVANCE_MARGIN = 2.0


@functools.lru_cache(maxsize=256)
def asks_for_recent(question: str) -> bool:
    """True when `question` asks about the current state or recent events."""
    words = [w.lower() for w in _WORD.findall(question)]
    if any(pair in CUE_PHRASES for pair in zip(words, words[1:])):
        return True
    if not _LEXICON.intersection(words):
        return False  # every other cue holds one of these words: no need to parse
    from bot.core.entities import load_nlp

    doc = load_nlp()(question)
    for ent in doc.ents:
        if ent.label_ == "DATE" and any(t.lower_ in DEICTIC_WORDS for t in ent):
            return True
    return any(_is_cue(token) for token in doc)


def _is_cue(token) -> bool:
    word = token.lower_
    if word in TEMPORAL_ADVERBS and token.pos_ in ("ADV", "NOUN"):
        # "now that Malaysia signed": "now" heads a clause, as a conjunction does
        return not (word == "now" and any(c.dep_ in ("ccomp", "advcl") for c in token.children))
    return word in RECENT_ADJECTIVES and token.pos_ == "ADJ"


def published_after(published: str | None, now: date) -> bool:
    """True when an ISO `published` date lies after `now` (an undated article never does)."""
    return bool(published) and published[:10] > now.isoformat()


class RecencyRanker:
    """The ranking stage: drops articles published after "now"; for a recency question,
    the articles that pass the relevance bar come first, newest first."""

    def __init__(self, inner=None, clock: Callable[[], date] = date.today, margin: float = RELEVANCE_MARGIN):
        self.inner = inner
        self.clock = clock
        self.margin = margin

    def rank(self, query: Query, hits: list[ArticleHit]) -> list[ArticleHit]:
        if self.inner is not None:
            hits = self.inner.rank(query, hits)
        now = query.as_of or self.clock()
        hits = [h for h in hits if not published_after(h.published, now)]
        if not hits or not asks_for_recent(query.question):
            return hits
        return newest_first(hits, self.margin)


def newest_first(hits: list[ArticleHit], margin: float = RELEVANCE_MARGIN) -> list[ArticleHit]:
    """`hits` with those that pass the relevance bar first: dated ones newest first, then undated
    ones; the rest keep their order. Only reranked hits have a bar (their logits); others stay."""
    from bot.core.rerank_gate import REFUSE_BELOW

    if not hits[0].reranked:
        return hits
    bar = max(max(h.score for h in hits) - margin, REFUSE_BELOW)
    passing = [h for h in hits if h.reranked and h.score >= bar]
    dated = sorted((h for h in passing if h.published), key=lambda h: h.published, reverse=True)
    undated = [h for h in passing if not h.published]
    chosen = {id(h) for h in passing}
    return dated + undated + [h for h in hits if id(h) not in chosen]


def newest_date(passages: list[Passage]) -> str | None:
    """The newest publication date among `passages` (ISO), or None when none is dated."""
    return max((p.published for p in passages if p.published), default=None)


def newest_claims(claims: list[Claim]) -> list[Claim]:
    """Claims from the newest dated article first, then undated ones; claims from dated
    articles older than the newest are dropped (the newer article supersedes them)."""
    newest = newest_date([c.passage for c in claims])
    if newest is None:
        return claims
    return [c for c in claims if c.passage.published == newest] + [c for c in claims if not c.passage.published]


class RecencyAnswerer:
    """Wraps an answerer: for a recency question its quotes prefer the newest article, and the
    draft carries `as_of` (the newest cited article's date)."""

    def __init__(self, inner):
        self.inner = inner

    def draft(self, request: AnswerRequest) -> Draft | None:
        draft = self.inner.draft(request)
        if draft is None or draft.refused or draft.failed or not draft.claims:
            return draft
        if not asks_for_recent(request.question):
            return draft
        if draft.text is None:  # quotes not yet written: the newest article's come first
            draft = replace(draft, claims=newest_claims(draft.claims))
        return replace(draft, as_of=newest_date([c.passage for c in draft.claims]))
