"""Stories the index learned of in a time window, put back together from their chunks.

"When the bot learned of a story" is the `indexed_at` every chunk carries (set when ingest,
`spacebot watch` or `POST /v1/ingest` wrote that version), so any process that indexes is
seen by any process that reads, with no message between them. Copies of a story come from
the near-duplicate groups of the keyword index (ingest/near_duplicates.py); an article the
keyword index does not list yet is "not settled" (its group may still change) and the alert
dispatcher waits for it, up to `SETTLE_SECONDS`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.article_texts import join_chunks

if TYPE_CHECKING:
    from ingest.settings import Settings

# The longest an alert waits for the keyword index to list a new article (and its copies): an ingest
# rebuilds it at the end of its run, seconds after the chunks are written; a run that died before that
# must not hold alerts back for ever.
SETTLE_SECONDS = 300.0


@dataclass(frozen=True)
class Copy:
    """Another article of the same story (a reprint, the same release under another address)."""

    article_id: str
    title: str
    source: str
    url: str | None
    published: str | None


@dataclass
class Story:
    """One newly indexed article, with the group it belongs to (representative first)."""

    article_id: str
    title: str
    source: str
    url: str | None
    published: str | None
    text: str
    indexed_at: float
    members: tuple[str, ...] = ()
    copies: list[Copy] = field(default_factory=list)
    settled: bool = True

    @property
    def key(self) -> str:
        """The story group's key: its representative's id (the article's own without copies)."""
        return self.members[0] if self.members else self.article_id

    @property
    def lead(self) -> str:
        """The story's first sentence (what a briefing quotes)."""
        from bot.core.sentences import split_sentences

        for sentence in split_sentences(self.text):
            if sentence.strip() and sentence.strip() != self.title.strip():
                return sentence.strip()
        return self.title


class StoryReader:
    """Reads stories from the index of `settings` (Chroma + the keyword index's groups)."""

    def __init__(self, settings: Settings, store=None) -> None:
        self.settings = settings
        self._store = store

    @property
    def store(self):
        if self._store is None:
            from ingest.store import ChunkStore

            self._store = ChunkStore(self.settings, create=False)
        return self._store

    def indexed_between(
        self, since: float, until: float | None = None, sources: list[str] | None = None
    ) -> list[Story]:
        """Every article whose current version was indexed after `since` (and at or before `until`),
        oldest first, each with its copies."""
        clauses: list[dict] = [{"indexed_at": {"$gt": float(since)}}]
        if until is not None:
            clauses.append({"indexed_at": {"$lte": float(until)}})
        if sources:
            clauses.append({"source": {"$in": list(sources)}})
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        page = self.store._guard(
            "reading new stories", self.store.collection.get, where=where, include=["metadatas", "documents"]
        )
        chunks: dict[str, list[tuple[int, dict, str]]] = {}
        for meta, doc in zip(page.get("metadatas") or [], page.get("documents") or []):
            meta = meta or {}
            chunks.setdefault(meta.get("article_id", ""), []).append((int(meta.get("chunk_index", 0)), meta, doc or ""))
        listed, groups = self._keyword_state()
        stories = [self._story(aid, parts, listed, groups) for aid, parts in chunks.items() if aid]
        self._add_copies(stories)
        return sorted(stories, key=lambda s: (s.indexed_at, s.article_id))

    def _story(self, article_id: str, parts: list, listed: set[str] | None, groups) -> Story:
        parts.sort(key=lambda p: p[0])
        meta = parts[0][1]
        return Story(
            article_id=article_id,
            title=meta.get("title", ""),
            source=meta.get("source", ""),
            url=meta.get("url"),
            published=meta.get("published"),
            text=join_chunks([p[2] for p in parts]),
            indexed_at=float(max(p[1].get("indexed_at", 0.0) for p in parts)),
            members=groups.members(article_id) if groups is not None else (article_id,),
            settled=listed is not None and article_id in listed,
        )

    def _keyword_state(self):
        """(article ids the keyword index lists, its groups); (None, None) when there is none."""
        from ingest.near_duplicates import DuplicateGroups

        folder = Path(self.settings.keyword_dir)
        try:
            listed = set(json.loads((folder / "articles.json").read_text(encoding="utf-8")))
            return listed, DuplicateGroups.load(folder)
        except (OSError, ValueError, KeyError):
            return None, None

    def _add_copies(self, stories: list[Story]) -> None:
        """Fill each story's `copies` with the other members of its group (title, source, link)."""
        wanted = sorted({m for s in stories for m in s.members if m != s.article_id})
        if not wanted:
            return
        page = self.store._guard(
            "reading copies",
            self.store.collection.get,
            where={"$and": [{"article_id": {"$in": wanted}}, {"chunk_index": {"$eq": 0}}]},
            include=["metadatas"],
        )
        found = {
            m["article_id"]: Copy(
                m["article_id"], m.get("title", ""), m.get("source", ""), m.get("url"), m.get("published")
            )
            for m in (page.get("metadatas") or [])
            if m and m.get("article_id")
        }
        for story in stories:
            story.copies = [found[m] for m in story.members if m != story.article_id and m in found]


_SOURCES_CACHE: dict[str, tuple[float, list[str]]] = {}


def indexed_sources(settings: Settings) -> list[str]:
    """The source names the index holds (from the keyword index's chunk table; re-read when it changes)."""
    path = Path(settings.keyword_dir) / "chunks.json"
    try:
        mtime = path.stat().st_mtime
    except OSError:
        return []
    cached = _SOURCES_CACHE.get(str(path))
    if cached and cached[0] == mtime:
        return cached[1]
    with open(path, encoding="utf-8") as handle:
        names = sorted({s for s in json.load(handle)["columns"]["source"] if s})
    _SOURCES_CACHE[str(path)] = (mtime, names)
    return names
