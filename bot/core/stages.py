"""The answering core as a chain of stages, each behind a small protocol.

    question check -> query building -> retrieval (candidates + fusion) -> ranking
    -> refusal gate -> answerer -> citation builder

`bot.core.compose.build_stages` builds the default of each from settings;
`AnswerService` runs them in this order. To try another stage (a cross-encoder
reranker, another fusion constant), pass an object with the same method:
`AnswerService(settings, stages=Stages(ranker=MyReranker()))`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Protocol

from bot.core.records import Answer, ArticleHit, Filters, Passage

if TYPE_CHECKING:
    from bot.core.shape_records import Shaped


@dataclass(frozen=True)
class Query:
    """What retrieval is asked: `question` as checked, `text` the query actually searched
    (a follow-up carries its earlier turns, or the LLM's standalone rewrite)."""

    question: str
    text: str
    history: tuple[str, ...] = ()
    as_of: date | None = None  # "now" for this question (articles published later do not count); None: the clock


@dataclass
class AnswerRequest:
    """Everything an answerer may read."""

    question: str
    hits: list[ArticleHit]
    history: list[tuple[str, str]] = field(default_factory=list)  # earlier (question, answer), oldest first
    focus: set[str] | None = None  # article ids the conversation's last answer cited
    k: int = 5  # at most this many sources
    on_token: Callable[[str], object] | None = None


@dataclass
class Claim:
    """One thing an answer says and the passage behind it.

    `sentence` is the quoted sentence (extractive answers); None when the answerer
    cites the passage as a whole (an LLM's `[n]`). `n` is the marker an already
    written text uses for this passage (LLM answers); None lets the citation builder number it.
    """

    passage: Passage
    sentence: str | None = None
    score: float = 0.0
    n: int | None = None


@dataclass
class Draft:
    """An answerer's output, before citations: either `text` with `[n]` markers already
    written (then each claim has its `n`), or only `claims`, which the citation builder
    quotes and numbers. `refused`: the answerer itself found no answer (an LLM saying so)."""

    claims: list[Claim] = field(default_factory=list)
    text: str | None = None
    refused: bool = False
    failed: bool = False  # the answerer tried and has nothing usable (what it streamed stays on screen)
    note: str | None = None
    streamed: str = ""  # what already reached `on_token`
    as_of: str | None = None  # a recency question's answer holds as of this date (newest cited article's)
    short_answer: str | None = None  # the asked-for span of the lead sentence
    confidence: float | None = None  # calibrated 0-1 (bot.core.calibration); None: the answerer has none
    sure: bool = True  # False: the text is hedged ("The articles may not say this directly; ...")
    shaped: Shaped | None = None  # a list, timeline or outlets answer (its text and claims' `n` already written)


@dataclass(frozen=True)
class Refusal:
    """Why the articles do not answer: shown to nobody, logged and tested."""

    reason: str
    confidence: float | None = None  # the answer's confidence when the gate read one


class QueryBuilder(Protocol):
    def build(self, question: str, history: list[str]) -> Query:
        """The retrieval query for `question` after the earlier user turns `history` (oldest first)."""
        ...


class Retrieval(Protocol):
    def search(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid") -> list[ArticleHit]:
        """The best `k` articles for `query`, each with its best passages (candidates, fused)."""
        ...


class Ranker(Protocol):
    """Reorders (and may cut) retrieved articles: where a cross-encoder reranker plugs in."""

    def rank(self, query: Query, hits: list[ArticleHit]) -> list[ArticleHit]: ...


class RefusalGate(Protocol):
    """Every rule that refuses before an answer is written."""

    def check(self, question: str, hits: list[ArticleHit], context: list[str]) -> Refusal | None:
        """A `Refusal` when `hits` cannot answer `question` (`context`: earlier user turns)."""
        ...


class Answerer(Protocol):
    def draft(self, request: AnswerRequest) -> Draft | None:
        """The answer's text or claims; None when this answerer has nothing to offer."""
        ...


class CitationBuilder(Protocol):
    def build(self, question: str, draft: Draft) -> Answer:
        """The `Answer`: text with `[n]` markers, each `[n]` one `Citation` with an exact quote."""
        ...
