"""A briefing: the stories the bot learned of in a window, one entry per story, newest first.

Stories are taken by when the index learned of them (`indexed_at`: many articles carry no
date), copies folded into one entry (its outlets and links listed), each with its lead
sentence quoted and its date or "undated". A channel's followed topics come first: the
stories already alerted there, then the rest. `--topic` keeps only stories that match a topic
(the follows' matcher). `render_text` is what `spacebot brief` prints; `to_dict` its `--json`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.alerts.stories import Story

UNDATED = "undated"
DEFAULT_WINDOW = 24 * 3600.0  # `brief` without a window: since the channel's last brief, at most a day
_WINDOW = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$", re.IGNORECASE)
_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


class WindowError(ValueError):
    """A window that is not like 30m, 12h, 1d or 2w."""


def parse_window(text: str) -> float:
    """Seconds in a window written `30m`, `12h`, `1d` or `2w`; `WindowError` otherwise."""
    found = _WINDOW.match(text or "")
    if not found or int(found.group(1)) <= 0:
        raise WindowError(f"'{text}' is not a window: write it like 30m, 12h, 1d or 2w")
    return int(found.group(1)) * _UNIT[found.group(2).lower()]


@dataclass
class BriefEntry:
    """One story of a briefing."""

    key: str
    title: str
    lead: str
    published: str | None
    outlets: list[str]
    links: list[tuple[str, str | None]]  # (title, url) of the story and each copy
    learned_at: float
    topic: str | None = None  # the followed topic it was alerted for, if any

    def to_dict(self) -> dict:
        return {
            "story": self.key,
            "title": self.title,
            "lead": self.lead,
            "published": self.published,
            "outlets": self.outlets,
            "links": [{"title": t, "url": u} for t, u in self.links],
            "learned_at": datetime.fromtimestamp(self.learned_at, UTC).isoformat(timespec="seconds"),
            "topic": self.topic,
        }


@dataclass
class Briefing:
    since: float
    until: float
    entries: list[BriefEntry] = field(default_factory=list)

    def to_dict(self) -> dict:
        iso = lambda t: datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds")  # noqa: E731
        return {"since": iso(self.since), "until": iso(self.until), "stories": [e.to_dict() for e in self.entries]}


def build_briefing(
    stories: list[Story], since: float, until: float, followed: dict[str, str] | None = None
) -> Briefing:
    """One entry per story group among `stories`, followed ones (story key -> topic) first, newest first."""
    followed = followed or {}
    groups: dict[str, list[Story]] = {}
    for story in stories:
        groups.setdefault(story.key, []).append(story)
    entries = [_entry(key, members, followed.get(key)) for key, members in groups.items()]
    entries.sort(key=lambda e: (e.topic is None, -e.learned_at, e.key))
    return Briefing(since, until, entries)


def _entry(key: str, members: list[Story], topic: str | None) -> BriefEntry:
    lead = next((m for m in members if m.article_id == key), None) or min(members, key=lambda m: m.article_id)
    links = [(lead.title, lead.url)]
    outlets = [lead.source] if lead.source else []
    extra = [(m.title, m.url, m.source) for m in members if m is not lead]
    extra += [(c.title, c.url, c.source) for c in lead.copies if all(c.article_id != m.article_id for m in members)]
    for title, url, source in extra:
        links.append((title, url))
        if source and source not in outlets:
            outlets.append(source)
    return BriefEntry(
        key=key,
        title=lead.title,
        lead=lead.lead,
        published=lead.published,
        outlets=outlets,
        links=links,
        learned_at=max(m.indexed_at for m in members),
        topic=topic,
    )


def render_text(briefing: Briefing) -> str:
    """The briefing as plain text (the terminal's `spacebot brief`)."""
    since = datetime.fromtimestamp(briefing.since, UTC).strftime("%Y-%m-%d %H:%M UTC")
    if not briefing.entries:
        return f"No new stories since {since}."
    lines = [f"{len(briefing.entries)} new stor{'y' if len(briefing.entries) == 1 else 'ies'} since {since}:", ""]
    for n, e in enumerate(briefing.entries, 1):
        head = f"{n}. {e.title} — {', '.join(e.outlets) or 'unknown source'}, {e.published or UNDATED}"
        lines.append(head + (f" [following: {e.topic}]" if e.topic else ""))
        lines.append(f'   "{e.lead}"')
        for title, url in e.links:
            lines.append(f"   {url or title}")
        lines.append("")
    return "\n".join(lines).rstrip()


def briefing_for(settings, window: float, topic: str | None = None, now: float | None = None, embed=None) -> Briefing:
    """The briefing of the index of `settings` over the last `window` seconds (`spacebot brief`);
    with `topic`, only the stories that match it (the follows' matcher and threshold)."""
    import time

    from bot.alerts.stories import StoryReader

    now = time.time() if now is None else now
    stories = StoryReader(settings).indexed_between(now - window, now)
    if topic:
        from bot.alerts.matching import TopicMatcher
        from bot.core.rerank import load_reranker

        if embed is None:
            from ingest.derived_state import open_query_encoder

            embed = open_query_encoder(settings).encode
        matcher = TopicMatcher(embed, load_reranker(settings.reranker), settings.topic_threshold)
        stories = [s for s in stories if matcher.match(topic, matcher.prepare(s.title, s.text)) is not None]
    return build_briefing(stories, now - window, now, {s.key: topic for s in stories} if topic else None)
