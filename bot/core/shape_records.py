"""What a shaped answer holds besides its text: list items, timeline milestones, outlet entries.

Each names the citation numbers (`[n]` of `Answer.citations`) that back it; the faces render
them (one renderer per shape) and `Answer.to_dict` writes them as the `items`, `milestones`
and `outlets` arrays.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class ListItem:
    """One gathered item: its name as shown, the other spellings merged into it, its citations."""

    name: str
    citations: list[int] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)


@dataclass
class Milestone:
    """One dated line of a timeline. `dated_by`: "sentence" (the sentence states the date),
    "article" (the article's publication date), or None (undated: listed last)."""

    date: str | None
    text: str
    citation: int
    dated_by: str | None = None
    source: str = ""


@dataclass
class OutletEntry:
    """One independent outlet: its most relevant quote, its date, and the copies folded into it."""

    outlet: str
    quote: str
    citation: int
    date: str | None = None
    title: str = ""
    also_in: list[str] = field(default_factory=list)


@dataclass
class Shaped:
    """The structured part of a list, timeline or outlets answer (`shape` names which)."""

    shape: str
    items: list[ListItem] = field(default_factory=list)
    milestones: list[Milestone] = field(default_factory=list)
    outlets: list[OutletEntry] = field(default_factory=list)
    as_of: str | None = None  # a timeline: the newest milestone's date
    heading: str = ""  # "7 countries", "3 independent outlets": what the answer opens with

    def to_dict(self) -> dict:
        """`{"items": [...]}`, `{"milestones": [...]}` or `{"outlets": [...]}`, as this shape has."""
        key = {"list": "items", "timeline": "milestones", "outlets": "outlets"}[self.shape]
        out = {key: [asdict(x) for x in getattr(self, key)]}
        if self.as_of:
            out["timeline_as_of"] = self.as_of
        return out
