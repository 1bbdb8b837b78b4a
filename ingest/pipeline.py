"""`spacebot ingest` as a pipeline: read -> skip unchanged -> chunk -> embed and write -> prune
-> refresh the derived state (keyword index, query model).

Consistency rules:
- an article's chunks are written in one upsert call (never half an article);
- chunk ids are `<article id>::<position>`, so a rerun overwrites, never duplicates;
- an article is "unchanged" only if the index holds every chunk of exactly this
  version, so a run killed half-way is finished by the next one;
- the derived state is checked against its manifest on every run and rebuilt from
  Chroma (or the installed model) when damaged, even when no article changed.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ingest.article import Article, InputError
from ingest.interrupts import atomic
from ingest.settings import Settings

if TYPE_CHECKING:
    from ingest.readers import Result

# Chunks per embed + upsert round (whole articles only): big enough to keep the model busy,
# small enough that a kill loses little work and a batch stays one Chroma call.
BATCH_CHUNKS = 512


@dataclass
class IngestSummary:
    """What one run did; `to_dict` is the `--json` shape."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    chunks: int = 0  # chunks embedded and written in this run
    failed: list[InputError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)  # inputs ingested with a field dropped
    repaired: list[str] = field(default_factory=list)  # derived state rebuilt because it was damaged
    total_articles: int = 0
    total_chunks: int = 0
    seconds: float = 0.0
    location: str = ""

    def to_dict(self) -> dict:
        return {
            "new": self.new,
            "changed": self.changed,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "chunks": self.chunks,
            "failed": [{"input": e.input, "error": e.reason} for e in self.failed],
            "warnings": self.warnings,
            "repaired": self.repaired,
            "total_articles": self.total_articles,
            "total_chunks": self.total_chunks,
            "seconds": round(self.seconds, 2),
            "index": self.location,
        }


class Progress:
    """Hooks a UI can override; the pipeline itself prints nothing."""

    def read(self, article_or_error) -> None: ...

    def start_embedding(self, articles: int, chunks: int) -> None: ...

    def embedded(self, articles: int, chunks: int) -> None: ...

    def stage(self, name: str) -> None: ...


@dataclass
class PendingArticle:
    """A new or changed article on its way into the index."""

    article: Article
    article_hash: str
    chunks: list = field(default_factory=list)  # `ingest.chunking.Chunk`s, filled by the chunk stage

    def records(self, indexed_at: float | None = None):
        from ingest.chunk_record import ChunkRecord

        n = len(self.chunks)
        return [ChunkRecord.of_chunk(self.article, c, n, self.article_hash, indexed_at) for c in self.chunks]


def chunking_salt(settings: Settings) -> str:
    """Model and chunking settings folded into each article's hash: changing them re-embeds."""
    return f"{settings.embedding.weights_sha256[:12]}:{settings.chunk_size}:{settings.chunk_overlap}:v1"


class LazyEmbedder:
    """The settings' document embedder, loaded only when something needs embedding (a rerun loads nothing)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._model = None

    @property
    def model(self):
        if self._model is None:
            settings = self.settings
            self._model = settings.embedding.document_embedder(settings.model_path, settings.embed_batch_size)
        return self._model

    @property
    def loaded(self):
        """The model if it is in memory already, else None (never loads it)."""
        return self._model

    def encode(self, texts: list[str]):
        return self.model.encode(texts)


def batches(pending: list[PendingArticle], limit: int = BATCH_CHUNKS) -> Iterator[list[PendingArticle]]:
    """Whole articles grouped into batches of about `limit` chunks (an article is never split)."""
    batch, size = [], 0
    for item in pending:
        if batch and size + len(item.chunks) > limit:
            yield batch
            batch, size = [], 0
        batch.append(item)
        size += len(item.chunks)
    if batch:
        yield batch


class IngestPipeline:
    """One ingest run over one index.

    embedder: anything with `encode(texts) -> unit vectors` for the settings' model
      (`SPACEBOT_EMBED_MODEL`, which the index records); default: that model, loaded on first use.
    store: a `ChunkStore`; default: the settings' Chroma.
    progress: the UI's hooks (`Progress`).
    batch_chunks: chunks per embed + write round.
    finish_batch_on_stop: hold SIGINT/SIGTERM while a batch is embedded too, not only while it is
      written, so a stop lets the articles in hand finish (`spacebot watch`; keep batches small).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        embedder=None,
        store=None,
        progress: Progress | None = None,
        batch_chunks: int = BATCH_CHUNKS,
        finish_batch_on_stop: bool = False,
    ):
        self.settings = settings
        self.embedder = embedder or LazyEmbedder(settings)
        self._store = store
        self.progress = progress or Progress()
        self.batch_chunks = batch_chunks
        self.finish_batch_on_stop = finish_batch_on_stop
        self.summary = IngestSummary(location=settings.index_location)

    @property
    def store(self):
        if self._store is None:
            from ingest.store import ChunkStore

            self._store = ChunkStore(self.settings)
        return self._store

    def run(
        self,
        inputs: list[str],
        *,
        prune: bool = False,
        follow_links: bool = False,
        results: Callable[[dict], Iterable[Result]] | None = None,
        remote: bool = False,
    ) -> IngestSummary:
        """Ingest `inputs` (folders, files, URLs); see the module docstring for the rules.

        remote: the inputs come from a remote caller: every fetch passes the fetch guard.

        results: read these instead of `inputs` (called with the index's article states), for a
          caller that fetched the inputs itself (`spacebot watch`).
        """
        started = time.perf_counter()
        store = self.store
        self.progress.stage("reading the index")
        states = store.article_states()
        store.record_model(self.settings.embed_model)
        self.progress.stage("reading inputs")
        if results:
            pending, seen = self.take(results(states), states)
        else:
            pending, seen = self.read(inputs, states, follow_links, remote)
        if pending:
            self.chunk(pending)
            self.write(pending, states)
        if prune:
            self.summary.removed = self.prune(states, seen, inputs)
        self.progress.stage("updating the keyword index")
        final = store.article_states() if (pending or self.summary.removed) else states
        self.refresh_derived(final)
        self.summary.total_articles = len(final)
        self.summary.total_chunks = sum(len(s.chunk_ids) for s in final.values())
        self.summary.seconds = time.perf_counter() - started
        return self.summary

    def read(
        self, inputs: list[str], states: dict, follow_links: bool, remote: bool = False
    ) -> tuple[list[PendingArticle], set[str]]:
        """Read every input; count unchanged articles, return the new and changed ones and every id seen."""
        from ingest.fetch_guard import guard_for
        from ingest.sources import Fetcher, iter_articles

        max_bytes = int(self.settings.max_file_mb * 1_000_000)
        fetcher = Fetcher(self.settings.fetch_timeout, max_bytes, guard_for(self.settings, remote))
        try:
            found = iter_articles(
                inputs, max_bytes=max_bytes, fetcher=fetcher, follow_links=follow_links, local_files=not remote
            )
            return self.take(found, states)
        finally:
            fetcher.close()

    def take(self, results: Iterable[Result], states: dict) -> tuple[list[PendingArticle], set[str]]:
        """Sort what was read: failures, articles kept or unchanged (counted), new and changed (returned)."""
        from ingest.readers import Kept

        salt = chunking_salt(self.settings)
        pending: list[PendingArticle] = []
        seen: set[str] = set()
        for result in results:
            self.progress.read(result)
            if isinstance(result, InputError):
                self.summary.failed.append(result)
                continue
            if result.id in seen:  # the same article reached twice in one run
                continue
            seen.add(result.id)
            if isinstance(result, Kept):  # known unchanged without reading it again
                self.summary.unchanged += 1
                continue
            self.summary.warnings.extend(result.warnings)
            article_hash = result.content_hash(salt)
            state = states.get(result.id)
            if state and state.complete and state.hash == article_hash:
                self.summary.unchanged += 1
                continue
            pending.append(PendingArticle(result, article_hash))
            if state:
                self.summary.changed += 1
            else:
                self.summary.new += 1
        return pending, seen

    def chunk(self, pending: list[PendingArticle]) -> None:
        from ingest.chunking import Chunker

        self.progress.stage("chunking")
        model, settings = self.settings.embedding, self.settings
        chunker = Chunker(
            model.folder(settings.model_path), settings.chunk_size, settings.chunk_overlap, model.max_tokens
        )
        for item in pending:
            item.chunks = chunker.chunk(item.article)

    def write(self, pending: list[PendingArticle], states: dict) -> None:
        """Embed and write batch by batch; then drop each changed article's surplus old chunks."""
        self.progress.start_embedding(len(pending), sum(len(p.chunks) for p in pending))
        for batch in batches(pending, self.batch_chunks):
            indexed_at = time.time()  # when the index learns of these versions (alerts and briefs read it)
            records = [record for item in batch for record in item.records(indexed_at)]
            texts = [chunk.embed_text for item in batch for chunk in item.chunks]  # title + chunk
            stale = []
            for item in batch:
                old = states.get(item.article.id)
                if old:
                    stale.extend(old.chunk_ids - {c.id for c in item.chunks})
            with atomic() if self.finish_batch_on_stop else nullcontext():
                vectors = self.embedder.encode(texts) if records else None
                with atomic():  # Ctrl-C waits for the batch to be written: never half an article
                    if records:
                        self.store.write(records, vectors)
                    if stale:
                        self.store.delete_ids(sorted(stale))
                    self.summary.chunks += len(records)
                    self.progress.embedded(len(batch), len(records))  # counted before a held Ctrl-C lands

    def prune(self, states: dict, seen: set[str], inputs: list[str]) -> int:
        """Remove articles whose input is gone (never those whose input merely failed to read)."""
        from ingest.pruning import gone_articles

        gone = gone_articles(states, seen, inputs, self.summary.failed)
        for article_id in gone:
            self.store.delete_ids(sorted(states[article_id].chunk_ids))
        return len(gone)

    def refresh_derived(self, states: dict) -> None:
        """Bring the keyword index and the query model in step with the store, repairing damage."""
        from ingest.derived_state import ensure_keyword_index, ensure_query_model

        self.summary.repaired += ensure_keyword_index(self.store, self.settings, states)
        loaded = self.embedder.loaded if isinstance(self.embedder, LazyEmbedder) else self.embedder
        self.summary.repaired += ensure_query_model(self.settings, loaded)


def run_ingest(
    inputs: list[str],
    settings: Settings,
    *,
    prune: bool = False,
    follow_links: bool = False,
    progress: Progress | None = None,
    embedder=None,
    remote: bool = False,
) -> IngestSummary:
    """Ingest `inputs` into the index of `settings` (the pipeline with its default parts;
    `remote`: a remote caller's inputs, fetched through the fetch guard)."""
    pipeline = IngestPipeline(settings, embedder=embedder, progress=progress)
    return pipeline.run(inputs, prune=prune, follow_links=follow_links, remote=remote)
