"""What the index holds per article, and a digest of it: the basis of every consistency rule."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field

from ingest.chunk_record import ChunkRecord


@dataclass
class ArticleState:
    """What the index holds for one article, read back from its chunks' records."""

    hashes: set[str] = field(default_factory=set)
    indices: set[int] = field(default_factory=set)
    n_chunks: int = 0
    origin: str = ""
    path: str | None = None
    chunk_ids: set[str] = field(default_factory=set)

    @property
    def complete(self) -> bool:
        """Every chunk present exactly once, all from the same version of the article."""
        return len(self.hashes) == 1 and self.indices == set(range(self.n_chunks))

    @property
    def hash(self) -> str | None:
        return next(iter(self.hashes)) if len(self.hashes) == 1 else None

    def add(self, record: ChunkRecord) -> None:
        self.hashes.add(record.article_hash)
        self.indices.add(record.chunk_index)
        self.n_chunks = max(self.n_chunks, record.n_chunks)
        self.origin = record.origin or self.origin
        self.path = record.path if record.path is not None else self.path
        self.chunk_ids.add(record.id)


def article_states(records: Iterable[ChunkRecord]) -> dict[str, ArticleState]:
    """Per article: which chunk positions and versions `records` hold."""
    states: dict[str, ArticleState] = {}
    for record in records:
        states.setdefault(record.article_id, ArticleState()).add(record)
    return states


def fingerprint(states: dict[str, ArticleState]) -> str:
    """A digest of exactly which chunks of which article versions the store holds."""
    digest = hashlib.sha256()
    for article_id in sorted(states):
        state = states[article_id]
        digest.update(f"{article_id}\0{sorted(state.hashes)}\0{sorted(state.chunk_ids)}\n".encode())
    return digest.hexdigest()
