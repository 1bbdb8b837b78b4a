"""`ChunkRecord`: one chunk and everything stored with it; the one place its keys are spelled.

A chunk lives in three forms, all converted here and nowhere else:
- a Chroma record: id, document (the chunk text), metadata (every other field);
- a row of the keyword index's chunk table (`TABLE_FIELDS`, column-wise on disk);
- a Chroma `where` filter on source and publication date (`chroma_where`).
Records written by earlier versions lack some keys; they read back with defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

# Fields of the chunk table the query side reads (row i of the table is BM25 document i).
# Bookkeeping fields (n_chunks, article_hash, origin) stay in Chroma only.
TABLE_FIELDS = (
    "id",
    "article_id",
    "title",
    "text",
    "source",
    "url",
    "published",
    "published_ts",
    "path",
    "chunk_index",
    "canonical_url",
    "publisher",
)
_NOT_METADATA = ("id", "text")  # Chroma keeps these as the record's id and document


@dataclass(frozen=True)
class ChunkRecord:
    """One chunk of one article version, as the index stores it.

    `id` is `<article id>::<position>`; `article_hash` is the content hash of the
    article version (salted with model and chunk settings); `n_chunks` is how many
    chunks that version has, so the store alone tells whether an article is whole.
    """

    id: str
    article_id: str
    chunk_index: int
    text: str
    title: str = ""
    source: str = ""
    n_chunks: int = 0
    article_hash: str = ""
    origin: str = ""
    url: str | None = None
    path: str | None = None
    published: str | None = None  # ISO date, "2024-05-16"
    published_ts: int | None = None  # the same date as epoch seconds (UTC midnight), for range filters
    canonical_url: str | None = None  # the address the page declares canonical (near-duplicate groups)
    # who published it: front matter `publisher`, a page's site name. Not in the content hash's fields of its
    # own (it is in `extra`, which is): indexes written before it read back None and are not re-embedded.
    publisher: str | None = None
    # When this version was written to the index (epoch seconds, Chroma metadata only): what alerts and
    # briefs read as "when the bot learned of the story". None in indexes written before it existed.
    indexed_at: float | None = None

    @classmethod
    def of_chunk(cls, article, chunk, n_chunks: int, article_hash: str, indexed_at: float | None = None) -> ChunkRecord:
        """The record for `chunk` (an `ingest.chunking.Chunk`) of `article`."""
        return cls(
            id=chunk.id,
            article_id=article.id,
            chunk_index=chunk.index,
            text=chunk.text,
            title=article.title,
            source=article.source,
            n_chunks=n_chunks,
            article_hash=article_hash,
            origin=article.origin,
            url=article.url,
            path=article.path,
            published=article.published_iso,
            published_ts=article.published_ts,
            canonical_url=article.canonical_url,
            publisher=article.extra.get("publisher") or None,
            indexed_at=indexed_at,
        )

    def metadata(self) -> dict:
        """Chroma metadata: every field but id and text, None values left out (Chroma rejects them)."""
        return {
            f.name: getattr(self, f.name)
            for f in fields(self)
            if f.name not in _NOT_METADATA and getattr(self, f.name) is not None
        }

    @classmethod
    def from_chroma(cls, chunk_id: str, metadata: dict | None, document: str | None) -> ChunkRecord:
        """A record read back from Chroma (metadata may lack keys an older version did not write)."""
        meta = metadata or {}
        return cls(
            id=chunk_id,
            article_id=meta.get("article_id", chunk_id.rsplit("::", 1)[0]),
            chunk_index=int(meta.get("chunk_index", -1)),
            text=document or "",
            title=meta.get("title", ""),
            source=meta.get("source", ""),
            n_chunks=int(meta.get("n_chunks", 0)),
            article_hash=meta.get("article_hash", ""),
            origin=meta.get("origin", ""),
            url=meta.get("url"),
            path=meta.get("path"),
            published=meta.get("published"),
            published_ts=meta.get("published_ts"),
            canonical_url=meta.get("canonical_url"),
            publisher=meta.get("publisher"),
            indexed_at=meta.get("indexed_at"),
        )

    def table_row(self) -> dict:
        """The row the keyword index's chunk table keeps for this chunk."""
        row = {name: getattr(self, name) for name in TABLE_FIELDS}
        row["chunk_index"] = max(row["chunk_index"], 0)
        return row


def chroma_where(
    source: str | tuple[str, ...] | None = None, since_ts: int | None = None, until_ts: int | None = None
) -> dict | None:
    """A Chroma `where` filter: one source (or any of several) and/or a publication range (epoch seconds,
    inclusive)."""
    clauses = []
    if isinstance(source, tuple):
        clauses.append({"source": {"$in": list(source)}})
    elif source is not None:
        clauses.append({"source": {"$eq": source}})
    if since_ts is not None:
        clauses.append({"published_ts": {"$gte": since_ts}})
    if until_ts is not None:
        clauses.append({"published_ts": {"$lte": until_ts}})
    if not clauses:
        return None
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}
