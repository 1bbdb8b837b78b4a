"""Small value types shared by the retriever, the answerers and the faces (CLI, Slack)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import date
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.shape_records import Shaped


@dataclass(frozen=True)
class Filters:
    """Restrict retrieval to one source and/or a publication date range (inclusive).

    `as_of` is "now" for the question: articles published after it do not count
    (undated ones still do, unlike with `until`), and a recency question prefers
    the newest articles up to it. None: the clock's today.
    """

    source: str | tuple[str, ...] | None = None  # a tuple: any of these sources (a channel's own)
    since: date | None = None
    until: date | None = None
    as_of: date | None = None

    def is_empty(self) -> bool:
        return self.source is None and self.since is None and self.until is None and self.as_of is None


@dataclass
class Passage:
    """One retrieved chunk of an article, with its fused retrieval score."""

    chunk_id: str
    article_id: str
    title: str
    text: str
    source: str = ""
    url: str | None = None
    published: str | None = None  # ISO date, e.g. "2024-01-26"
    path: str | None = None
    score: float = 0.0
    also_in: list[str] = field(default_factory=list)  # the article's near-duplicates: URL, else id
    publisher: str | None = None  # as stored at ingest (front matter, site name); None in older indexes


@dataclass
class ArticleHit:
    """An article as retrieval ranks it: it counts once, with its best passages."""

    article_id: str
    title: str
    source: str
    url: str | None
    published: str | None
    path: str | None
    score: float
    passages: list[Passage] = field(default_factory=list)
    reranked: bool = False  # `score` (and its passages' scores) are the cross-encoder's logits
    also_in: list[str] = field(default_factory=list)  # the other copies of this article: URL, else id


@dataclass
class Citation:
    """A numbered source behind an answer: `[n]` in the text points here."""

    n: int
    article_id: str
    title: str
    source: str
    url: str | None
    published: str | None
    quote: str
    score: float
    also_in: list[str] = field(default_factory=list)  # the same story elsewhere ("also in: ..."): URL, else id
    path: str | None = None  # the article's file, shown where it has no URL

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Answer:
    """What the bot says: text with `[n]` markers, its citations, or a refusal."""

    question: str
    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    closest: list[ArticleHit] = field(default_factory=list)  # shown when refused
    note: str | None = None  # e.g. "LLM unavailable; extractive answer shown"
    hits: list[ArticleHit] = field(default_factory=list, repr=False)  # what it was built from, best first
    as_of: str | None = None  # a recency question's answer: the newest cited article's date (ISO)
    short_answer: str | None = None  # the asked-for span of the lead sentence (a name, date, number, place)
    confidence: float | None = None  # calibrated 0-1: of answers given with confidence c, about c hold the fact
    sure: bool = False  # confidence reached the sure level: the answer is stated, not hedged
    shaped: Shaped | None = None  # a list, timeline or outlets answer's items (bot.core.shapes); None: a fact

    @property
    def shape(self) -> str:
        """`fact`, `list`, `timeline` or `outlets` (bot.core.shapes)."""
        return self.shaped.shape if self.shaped is not None else "fact"

    def sources(self) -> list[tuple[list[int], Citation]]:
        """Citations grouped by article, for display: `([1], first citation)` per article (an LLM's
        answer may cite two passages of one article: `([1, 3], ...)`)."""
        groups: dict[str, tuple[list[int], Citation]] = {}
        for citation in self.citations:
            numbers = groups.setdefault(citation.article_id, ([], citation))[0]
            if citation.n not in numbers:
                numbers.append(citation.n)
        return list(groups.values())

    def quotes(self, article_id: str) -> list[str]:
        """The quotes the answer takes from one article, in order."""
        return [c.quote for c in self.citations if c.article_id == article_id and c.quote]

    def to_dict(self) -> dict:
        """The `--json` (and API) shape: answer, refused, short_answer, confidence, sure, citations (each
        with its `published` date), `shape` (with its `items`, `milestones` or `outlets` array), a refusal's
        `closest` articles, and `as_of` when the question asked about now."""
        out = {
            "answer": self.text,
            "refused": self.refused,
            "short_answer": self.short_answer,
            "confidence": None if self.confidence is None else round(self.confidence, 3),
            "sure": self.sure,
            "citations": [c.to_dict() for c in self.citations],
            "shape": self.shape,
        }
        if self.refused:
            out["closest"] = [closest_dict(h) for h in self.closest]
        if self.shaped is not None and not self.refused:
            out.update(self.shaped.to_dict())
        if self.as_of:
            out["as_of"] = self.as_of
        if self.note:
            out["note"] = self.note
        return out


def closest_dict(hit: ArticleHit) -> dict:
    """A refusal's closest article as `--json` and the API show it (what the CLI and Slack list)."""
    return {
        "article_id": hit.article_id,
        "title": hit.title,
        "source": hit.source,
        "url": hit.url,
        "path": hit.path,
        "published": hit.published,
        "also_in": list(hit.also_in),
    }
