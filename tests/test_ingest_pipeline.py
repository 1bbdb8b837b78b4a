"""The ingest pipeline's parts: one chunk record type, an injectable embedder, small functions."""

from __future__ import annotations

import ast

from conftest import ROOT, make_settings


def test_a_chunk_record_round_trips_through_chroma_metadata():
    from ingest.chunk_record import ChunkRecord

    record = ChunkRecord(
        id="a.md::2",
        article_id="a.md",
        chunk_index=2,
        text="Chunk text.",
        title="T",
        source="s",
        n_chunks=3,
        article_hash="h",
        origin="/x",
        url=None,
        path="a.md",
        published="2024-05-16",
        published_ts=1715817600,
        indexed_at=1765000000.25,  # when ingest wrote it: what alerts and briefs read
    )
    meta = record.metadata()
    assert None not in meta.values(), "Chroma rejects None metadata values"
    assert "id" not in meta and "text" not in meta
    assert ChunkRecord.from_chroma(record.id, meta, record.text) == record


def test_records_in_the_sample_index_are_whole_chunk_records(sample_settings):
    from ingest.store import ChunkStore

    records = list(ChunkStore(sample_settings, create=False).iter_chunks())
    assert len(records) > 24
    assert all(
        r.article_id and r.title and r.text and r.n_chunks > r.chunk_index >= 0 and r.article_hash for r in records
    )


class CountingEmbedder:
    """The real model behind a counter: proves the pipeline embeds with the object it is given."""

    def __init__(self, inner):
        self.inner = inner
        self.texts: list[str] = []

    def encode(self, texts):
        self.texts.extend(texts)
        return self.inner.encode(texts)


def test_the_pipeline_embeds_with_the_embedder_it_is_given(tmp_path, embedder):
    from ingest.pipeline import IngestPipeline

    folder = tmp_path / "one"
    folder.mkdir()
    (folder / "a.txt").write_text("Lunar treaty talks\n\n" + "Delegates met to discuss the lunar treaty. " * 40)
    counting = CountingEmbedder(embedder)
    settings = make_settings(tmp_path / "data")
    summary = IngestPipeline(settings, embedder=counting).run([str(folder)])
    assert summary.new == 1 and summary.chunks > 1
    assert len(counting.texts) == summary.chunks
    assert all(text.startswith("Lunar treaty talks\n") for text in counting.texts)


MAX_FUNCTION_LINES = 80  # the project's habit: a function a reader can hold in view


def test_no_function_in_ingest_is_longer_than_80_lines():
    long = []
    for path in sorted((ROOT / "ingest").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_FUNCTION_LINES:
                    long.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({lines} lines)")
    assert not long, long
