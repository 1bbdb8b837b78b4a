"""`spacebot ingest`: read inputs, skip what is unchanged, embed the rest, keep BM25 in step.

Consistency rules:
- an article's chunks are written in one upsert call (never half an article);
- chunk ids are `<article id>::<position>`, so a rerun overwrites, never duplicates;
- an article is "unchanged" only if the index holds every chunk of exactly this
  version, so a run killed half-way is finished by the next one.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from ingest.article import Article, InputError
from ingest.interrupts import atomic
from ingest.settings import Settings

BATCH_CHUNKS = 512  # chunks per embed + upsert round (whole articles only)


@dataclass
class IngestSummary:
    """What one run did; `to_dict` is the `--json` shape."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0  # chunks embedded and written in this run
    failed: list[InputError] = field(default_factory=list)
    total_articles: int = 0
    total_chunks: int = 0
    seconds: float = 0.0
    location: str = ""

    def to_dict(self) -> dict:
        return {
            "new": self.new, "changed": self.changed, "unchanged": self.unchanged,
            "removed": self.removed, "chunks": self.chunks,
            "failed": [{"input": e.input, "error": e.reason} for e in self.failed],
            "total_articles": self.total_articles, "total_chunks": self.total_chunks,
            "seconds": round(self.seconds, 2), "index": self.location,
        }


class Progress:
    """Hooks a UI can override; the pipeline itself prints nothing."""

    def read(self, article_or_error) -> None: ...

    def start_embedding(self, articles: int, chunks: int) -> None: ...

    def embedded(self, articles: int, chunks: int) -> None: ...

    def stage(self, name: str) -> None: ...


def _metadata(article: Article, index: int, n_chunks: int, article_hash: str) -> dict:
    meta = {
        "article_id": article.id, "chunk_index": index, "n_chunks": n_chunks,
        "article_hash": article_hash, "title": article.title, "source": article.source,
        "origin": article.origin, "url": article.url, "path": article.path,
        "published": article.published_iso, "published_ts": article.published_ts,
    }
    return {k: v for k, v in meta.items() if v is not None}


class _Embedder:
    """Loads the model only when something needs embedding (a rerun loads nothing)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._model = None

    def get(self):
        if self._model is None:
            from ingest.embedding import DocumentEmbedder
            from ingest.model_files import model_dir

            self._model = DocumentEmbedder(model_dir(self.settings.model_path),
                                           self.settings.embed_batch_size)
        return self._model


def chunking_salt(settings: Settings) -> str:
    """Chunking settings folded into each article's hash: changing them re-embeds."""
    from ingest.model_files import MODEL_SHA256

    return f"{MODEL_SHA256[:12]}:{settings.chunk_size}:{settings.chunk_overlap}:v1"


def _write_batch(store, embedder, batch: list[tuple[Article, str, list]], states, progress) -> int:
    ids, texts, docs, metas, stale = [], [], [], [], []
    for article, article_hash, chunks in batch:
        for chunk in chunks:
            ids.append(chunk.id)
            texts.append(chunk.embed_text)
            docs.append(chunk.text)
            metas.append(_metadata(article, chunk.index, len(chunks), article_hash))
        old = states.get(article.id)
        if old:
            stale.extend(old.chunk_ids - {c.id for c in chunks})
    if not ids:
        return 0
    vectors = embedder.get().encode(texts)
    with atomic():  # Ctrl-C waits for the batch to be written: never half an article
        for start in range(0, len(ids), store.max_batch):
            end = start + store.max_batch
            store.upsert(ids[start:end], vectors[start:end], docs[start:end], metas[start:end])
        if stale:
            store.delete_ids(stale)
        progress.embedded(len(batch), len(ids))  # counted before a held Ctrl-C lands
    return len(ids)


def _batches(pending: list[tuple[Article, str, list]]) -> Iterable[list]:
    batch, size = [], 0
    for item in pending:
        count = len(item[2])
        if batch and size + count > BATCH_CHUNKS:
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += count
    if batch:
        yield batch


def run_ingest(inputs: list[str], settings: Settings, *, prune: bool = False,
               follow_links: bool = False, progress: Progress | None = None) -> IngestSummary:
    """Ingest `inputs` (folders, files, URLs) into the index; see the module docstring."""
    from ingest.store import ChunkStore

    progress = progress or Progress()
    started = time.perf_counter()
    summary = IngestSummary(location=settings.index_location)
    store = ChunkStore(settings)
    progress.stage("reading the index")
    states = store.article_states()
    progress.stage("reading inputs")
    pending, seen = _read_inputs(inputs, settings, states, summary, follow_links, progress)
    embedder = _Embedder(settings)
    if pending:
        _embed_and_write(pending, settings, store, embedder, states, summary, progress)
    if prune:
        summary.removed = _prune(store, states, seen, inputs, summary.failed)
    progress.stage("updating the keyword index")
    final_states = store.article_states() if (pending or summary.removed) else states
    _refresh_keyword_index(store, final_states, settings)
    _ensure_query_model(settings, embedder)
    summary.total_articles = len(final_states)
    summary.total_chunks = sum(len(s.chunk_ids) for s in final_states.values())
    summary.seconds = time.perf_counter() - started
    return summary


def _read_inputs(inputs, settings, states, summary, follow_links, progress):
    """Read every input; count unchanged articles, return the new and changed ones to embed."""
    from ingest.sources import Fetcher, iter_articles

    salt = chunking_salt(settings)
    max_bytes = int(settings.max_file_mb * 1_000_000)
    fetcher = Fetcher(settings.fetch_timeout, max_bytes)
    pending: list[tuple[Article, str]] = []
    seen: set[str] = set()
    try:
        for result in iter_articles(inputs, max_bytes=max_bytes, fetcher=fetcher, follow_links=follow_links):
            progress.read(result)
            if isinstance(result, InputError):
                summary.failed.append(result)
                continue
            if result.id in seen:  # the same article reached twice in one run
                continue
            seen.add(result.id)
            article_hash = result.content_hash(salt)
            state = states.get(result.id)
            if state and state.complete and state.hash == article_hash:
                summary.unchanged += 1
                continue
            pending.append((result, article_hash))
            if state:
                summary.changed += 1
            else:
                summary.new += 1
    finally:
        fetcher.close()
    return pending, seen


def _embed_and_write(pending, settings, store, embedder, states, summary, progress) -> None:
    from ingest.chunking import Chunker
    from ingest.model_files import model_dir

    progress.stage("chunking")
    chunker = Chunker(model_dir(settings.model_path), settings.chunk_size, settings.chunk_overlap)
    chunked = [(article, article_hash, chunker.chunk(article)) for article, article_hash in pending]
    progress.start_embedding(len(chunked), sum(len(c) for _, _, c in chunked))
    for batch in _batches(chunked):
        summary.chunks += _write_batch(store, embedder, batch, states, progress)


def _prune(store, states, seen, inputs, failed) -> int:
    """Remove articles whose input is gone (never those whose input merely failed to read)."""
    from ingest.sources import origin_of

    origins = {origin_of(given) for given in inputs}
    unreadable = {_locator_of_failure(e) for e in failed}
    gone = [aid for aid, st in states.items()
            if aid not in seen and (st.origin in origins or _origin_gone(st.origin))
            and st.origin not in unreadable and _locator(st) not in unreadable]
    for article_id in gone:
        store.delete_ids(sorted(states[article_id].chunk_ids))
    return len(gone)


def _refresh_keyword_index(store, states, settings) -> None:
    """Rebuild BM25 (and its chunk table) unless it was built for exactly these chunks."""
    from ingest.keyword_index import build_from_store, read_fingerprint
    from ingest.store import fingerprint

    current = fingerprint(states)
    if read_fingerprint(settings.keyword_dir) != current:
        build_from_store(store, current, settings.keyword_dir)
    store.set_fingerprint(current)


def _locator(state) -> str:
    """The file (or URL) an indexed article was read from."""
    from pathlib import Path

    origin = Path(state.origin)
    if state.origin.startswith("/") and state.path and origin.is_dir():
        return str(origin / state.path)
    return state.origin


def _locator_of_failure(error: InputError) -> str:
    """The file or URL behind a failure ("x.jsonl:3" -> the resolved x.jsonl): never pruned."""
    import re
    from pathlib import Path

    name = error.input
    if name.startswith(("http://", "https://")):
        return name
    return str(Path(re.sub(r"(:\d+|\[\d+\]| entry \d+)$", "", name)).resolve())


def _origin_gone(origin: str) -> bool:
    from pathlib import Path

    return origin.startswith("/") and not Path(origin).exists()


def _ensure_query_model(settings: Settings, embedder: _Embedder) -> None:
    """Make the ONNX copy of the model the query side runs (once)."""
    from ingest.embedding import ONNX_FILE

    if not (settings.onnx_dir / ONNX_FILE).exists():
        embedder.get().export_onnx(settings.onnx_dir)
