"""`spacebot sources`: what the index holds, per source."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class SourceStats:
    source: str
    articles: int = 0
    chunks: int = 0
    first: str | None = None
    last: str | None = None
    publishers: list[str] = field(default_factory=list)  # as stored at ingest (front matter, site name)


@dataclass
class Inventory:
    location: str
    articles: int = 0
    chunks: int = 0
    sources: list[SourceStats] = field(default_factory=list)

    def to_dict(self) -> dict:
        return asdict(self)


def take_inventory(store) -> Inventory:
    """Article and chunk counts, per source with its date range, read from the store."""
    per_source: dict[str, SourceStats] = {}
    articles: set[str] = set()
    chunks = 0
    for record in store.iter_chunks(with_text=False):
        chunks += 1
        stats = per_source.setdefault(record.source, SourceStats(record.source))
        stats.chunks += 1
        if record.chunk_index == 0:
            stats.articles += 1
            if record.publisher and record.publisher not in stats.publishers:
                stats.publishers.append(record.publisher)
        articles.add(record.article_id)
        if record.published:
            stats.first = min(filter(None, [stats.first, record.published]))
            stats.last = max(filter(None, [stats.last, record.published]))
    ordered = sorted(per_source.values(), key=lambda s: (-s.articles, s.source))
    return Inventory(store.location, len(articles), chunks, ordered)


def has_source(store, name: str) -> bool:
    """True when at least one chunk in the store comes from source `name` (exact match)."""
    page = store._guard("reading the index", store.collection.get, where={"source": {"$eq": name}}, limit=1, include=[])
    return bool(page["ids"])


def source_names(store) -> list[str]:
    """Every source in the store, most articles first (as `spacebot sources` lists them)."""
    return [s.source for s in take_inventory(store).sources]
