"""The keyword engine: tantivy indexes on disk, opened (memory-mapped), never loaded whole.

Two indexes live in the keyword folder: `chunks/` (one document per chunk: its BM25 terms,
its filters, its table row stored) and `articles/` (one per article: BM25 over its whole
text). Terms are made in Python (`ingest.bm25_search.tokenize`: the same lower-casing,
stop words and Snowball stems as the bm25s index before it) and indexed as they are
(tantivy's whitespace tokenizer), so documents and queries are split exactly one way.

Updates are incremental: an article's documents are deleted by its id and added again;
each commit writes new immutable segment files, and tantivy merges them in the
background. Any number of processes read; one writes at a time (tantivy's writer lock).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CHUNKS_DIR = "chunks"
ARTICLES_DIR = "articles"
BODY = "body"  # the BM25 terms (title, URL slug words, text)
# The writer's memory budget: tantivy's floor is 15 MB per thread; one thread (the machine has two cores,
# shared with the embedder). Segments flush when it fills, so a full build writes a few segments.
WRITER_HEAP_BYTES = 64_000_000


class IndexBusy(Exception):
    """Another process holds the keyword index's writer lock."""


def chunk_schema():
    from tantivy import SchemaBuilder

    builder = SchemaBuilder()
    builder.add_text_field("id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field("article_id", tokenizer_name="raw", index_option="basic")
    builder.add_text_field(BODY, tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("source", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("published_ts", indexed=True, fast=True)
    builder.add_text_field("spelled", tokenizer_name="raw", index_option="basic")  # "ESA\tEuropean Space Agency"
    builder.add_text_field("bands", tokenizer_name="raw", index_option="basic")  # MinHash LSH band keys
    builder.add_bytes_field("row", stored=True)  # the table row (`ChunkRecord.table_row`) as JSON
    return builder.build()


def article_schema():
    from tantivy import SchemaBuilder

    builder = SchemaBuilder()
    builder.add_text_field("article_id", stored=True, tokenizer_name="raw", index_option="basic")
    builder.add_text_field(BODY, tokenizer_name="whitespace", index_option="freq")
    builder.add_text_field("source", tokenizer_name="raw", index_option="basic")
    builder.add_integer_field("published_ts", indexed=True, fast=True)
    return builder.build()


def open_index(folder: Path, schema, create: bool = False):
    """The tantivy index in `folder` (made when `create`); raises ValueError/OSError when unreadable."""
    from tantivy import Index

    folder = Path(folder)
    if create:
        folder.mkdir(parents=True, exist_ok=True)
    elif not (folder / "meta.json").is_file():
        raise FileNotFoundError(f"no keyword index at {folder}")
    return Index(schema, path=str(folder), reuse=True)


def writer(index, wait_s: float = 0.0):
    """The index's only writer, waiting up to `wait_s` for another process to let it go;
    raises `IndexBusy` when it does not."""
    import time

    deadline = time.monotonic() + wait_s
    while True:
        try:
            return index.writer(heap_size=WRITER_HEAP_BYTES, num_threads=1)
        except ValueError as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise IndexBusy(str(exc)) from None
            time.sleep(0.2)


def chunk_document(row: dict, terms: list[str], spelled: list[str], bands: list[str]):
    """The tantivy document of one chunk (`row` is a `ChunkRecord.table_row`)."""
    from tantivy import Document

    doc = Document(id=row["id"], article_id=row["article_id"], source=row["source"] or "")
    doc.add_text(BODY, " ".join(terms))
    if row.get("published_ts") is not None:
        doc.add_integer("published_ts", int(row["published_ts"]))
    for value in spelled:
        doc.add_text("spelled", value)
    for value in bands:
        doc.add_text("bands", value)
    doc.add_bytes("row", json.dumps(row, ensure_ascii=False).encode("utf-8"))
    return doc


def article_document(article_id: str, source: str, published_ts: int | None, terms: list[str]):
    from tantivy import Document

    doc = Document(article_id=article_id, source=source or "")
    doc.add_text(BODY, " ".join(terms))
    if published_ts is not None:
        doc.add_integer("published_ts", int(published_ts))
    return doc


@dataclass(frozen=True)
class Filter:
    """Which documents a search may return: one source (or any of several: a channel's own sources)
    and/or a publication range (epoch seconds).

    since/until keep dated documents in the range; `as_of` drops those published after it
    (undated ones stay), as the chunk table's masks did.
    """

    source: str | tuple[str, ...] | None = None
    since: int | None = None
    until: int | None = None
    as_of: int | None = None

    def is_empty(self) -> bool:
        return self.source is None and self.since is None and self.until is None and self.as_of is None

    def clauses(self, schema) -> list:
        """Boolean clauses that keep exactly the allowed documents and add nothing to their score."""
        from tantivy import FieldType, Occur, Query

        out = []
        if isinstance(self.source, tuple):
            any_of = Query.term_set_query(schema, "source", list(self.source))
            out.append((Occur.Must, Query.const_score_query(any_of, 0.0)))
        elif self.source is not None:
            out.append((Occur.Must, Query.const_score_query(Query.term_query(schema, "source", self.source), 0.0)))
        if self.since is not None or self.until is not None:
            ranged = Query.range_query(schema, "published_ts", FieldType.Integer, self.since, self.until)
            out.append((Occur.Must, Query.const_score_query(ranged, 0.0)))
        if self.as_of is not None:
            later = Query.range_query(schema, "published_ts", FieldType.Integer, self.as_of, None, include_lower=False)
            out.append((Occur.MustNot, later))
        return out


def terms_query(schema, terms: list[str], filter: Filter | None = None, extra: list | None = None):
    """BM25 over `terms` (each occurrence a clause, as bm25s summed them), restricted by `filter`."""
    from tantivy import Occur, Query

    should = Query.boolean_query([(Occur.Should, Query.term_query(schema, BODY, t)) for t in terms])
    clauses = [(Occur.Must, should), *(filter.clauses(schema) if filter else []), *(extra or [])]
    return should if len(clauses) == 1 else Query.boolean_query(clauses)


def band_query(schema, bands: list[str]):
    """Documents sharing any of these LSH band keys (first chunks of possibly similar articles)."""
    from tantivy import Query

    return Query.term_set_query(schema, "bands", bands)
