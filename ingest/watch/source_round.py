"""One watched source, once: find out cheaply whether it changed, and ingest it only if it did.

- A URL is fetched with a conditional GET; a 304 (or the same bytes as last time) ends the
  round: nothing parsed, embedded or written.
- A changed feed runs the ingest pipeline; with `--follow-links`, an entry whose link is
  indexed whole and whose `updated`/`published` did not change is kept without fetching its page.
- A folder is ingested only when its file listing (names, sizes, mtimes) changed.

What is remembered (validators, entry versions) is saved only after the pipeline finished,
so a round that was stopped or failed is simply done again next time.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from ingest.article import InputError
from ingest.settings import Settings
from ingest.watch.records import Validators, WatchState

# Chunks per embed + write round when watching. A stop (SIGTERM) lets the batch in hand finish:
# 64 chunks is about 1.5 s of embedding at the 41 chunks/s `make bench-ingest` measured on 2 cores.
WATCH_BATCH_CHUNKS = 64


@dataclass
class Outcome:
    """What one round of one source did. result: ok | unchanged | partial | failed."""

    result: str
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    chunks: int = 0
    errors: list[InputError] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def detail(self) -> str:
        """One line: the source's own error, or how many of its inputs failed."""
        if self.result == "failed":
            return self.errors[0].reason if self.errors else "failed"
        if self.errors:
            return f"{len(self.errors)} input{'s' * (len(self.errors) > 1)} failed, e.g. {self.errors[0]}"
        return ""


class SourceRound:
    """Runs one source once (`round(name) -> Outcome`), sharing the model and the store across rounds.

    state: where validators and entry versions are remembered (`WatchState`).
    lock: a context manager factory held while the pipeline writes (the data dir's ingest lock).
    embedder, store: as for `IngestPipeline` (default: the settings' model, loaded on first use; Chroma).
    """

    def __init__(
        self,
        settings: Settings,
        state: WatchState,
        *,
        follow_links: bool = False,
        lock: Callable[[], AbstractContextManager] = nullcontext,
        embedder=None,
        store=None,
    ):
        from ingest.fetch_guard import guard_for
        from ingest.pipeline import LazyEmbedder
        from ingest.sources import Fetcher

        self.settings = settings
        self.state = state
        self.follow_links = follow_links
        self.lock = lock
        self.embedder = embedder or LazyEmbedder(settings)
        self.store = store
        guard = guard_for(settings, remote=False)  # the operator's own sources: guarded only with FETCH_GUARD=all
        self.fetcher = Fetcher(settings.fetch_timeout, int(settings.max_file_mb * 1_000_000), guard)

    def __call__(self, source: str) -> Outcome:
        from ingest.sources import is_url
        from ingest.store import StoreUnavailable

        started = time.perf_counter()
        try:
            outcome = self._url(source) if is_url(source) else self._folder(source)
        except InputError as exc:
            outcome = Outcome("failed", errors=[exc])
        except StoreUnavailable as exc:
            self.store = None  # reconnect next time
            outcome = Outcome("failed", errors=[InputError(source, str(exc))])
        outcome.seconds = time.perf_counter() - started
        return outcome

    def close(self) -> None:
        self.fetcher.close()

    def _url(self, url: str) -> Outcome:
        from ingest.readers import Doc
        from ingest.sources import read_doc
        from ingest.watch.conditional import conditional_get

        known = self.state.validators(url)
        fetched = conditional_get(self.fetcher, url, known)
        if fetched.body is None:
            if fetched.validators != known:
                self.state.save_validators(url, fetched.validators)
            return Outcome("unchanged")
        doc = Doc(name=url, data=fetched.body, article_id=url, origin=url, folder_source="", url=url)
        known_versions = self.state.entry_versions(url) if self.follow_links else {}
        versions: dict[str, str] = {}

        def results(states: dict):
            def keep(link: str, version: str) -> bool:
                versions[link] = version
                held = states.get(link)
                return known_versions.get(link) == version and held is not None and held.complete

            return read_doc(doc, self.follow_links, self.fetcher, keep=keep)

        outcome = self._ingest(url, results)
        if outcome.result == "failed":
            return outcome
        # Only entries read whole are remembered (a failed one is fetched again next round); without
        # --follow-links none is, so a later run with it fetches every page once.
        failed = {e.input for e in outcome.errors}
        kept = {link: v for link, v in versions.items() if link not in failed} if self.follow_links else {}
        self.state.save_entry_versions(url, kept)
        if outcome.result == "ok":  # with failures, the feed must be read again to retry them
            self.state.save_validators(url, fetched.validators)
        return outcome

    def _folder(self, folder: str) -> Outcome:
        path = Path(folder)
        if not path.exists():
            raise InputError(folder, "no such file, folder or URL")
        digest = Validators(digest=listing_digest(path))
        if self.state.validators(folder) == digest:
            return Outcome("unchanged")
        outcome = self._ingest(folder, None)
        if outcome.result != "failed":  # a bad file is read again when it (or anything) changes
            self.state.save_validators(folder, digest)
        return outcome

    def _ingest(self, source: str, results) -> Outcome:
        from ingest.pipeline import IngestPipeline

        pipeline = IngestPipeline(
            self.settings,
            embedder=self.embedder,
            store=self.store,
            batch_chunks=WATCH_BATCH_CHUNKS,
            finish_batch_on_stop=True,
        )
        with self.lock():
            summary = pipeline.run([source], follow_links=self.follow_links, results=results)
        self.store = pipeline.store  # opened once, kept for the next rounds
        own = [e for e in summary.failed if e.input == source]  # the source itself: malformed, no text
        result = "failed" if own else ("partial" if summary.failed else "ok")
        return Outcome(
            result,
            new=summary.new,
            changed=summary.changed,
            unchanged=summary.unchanged,
            chunks=summary.chunks,
            errors=own or summary.failed,
        )


def listing_digest(path: Path) -> str:
    """sha256 of every visible file's relative name, size and mtime under `path` (or of `path` itself)."""
    digest = hashlib.sha256()
    if path.is_file():
        files = [path]
    else:
        files = []
        for root, dirs, names in os.walk(path):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            files.extend(Path(root) / n for n in sorted(names) if not n.startswith("."))
    for file in files:
        try:
            stat = file.stat()
        except OSError:
            continue
        digest.update(
            f"{file.relative_to(path) if file != path else file.name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
        )
    return digest.hexdigest()
