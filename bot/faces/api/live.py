"""The answering service a server uses, kept in step with the index it reads.

Every `poll_seconds` (SPACEBOT_INDEX_POLL_SECONDS, 10 by default) a daemon
thread reads the fingerprint stored on the Chroma collection (one metadata
read) and compares it with the one the current service's BM25 copy was built
for. When they differ (an ingest through this process or through another
replica sharing the Chroma server), a fresh `AnswerService` is opened beside
the old one, its local BM25 copy rebuilt from the store, and swapped in;
questions already in flight finish on the old one. So a replica answers from
a newly ingested article at most `poll_seconds` plus one BM25 rebuild after
the ingest.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger("spacebot.api")

_NOT_LOADED = object()  # `current` has not loaded the index yet: any fingerprint differs


class LiveService:
    """Holds `current`, the service questions go to; `refresh()` swaps in a fresh one when needed."""

    def __init__(
        self, settings, factory: Callable[[], object] | None = None, service=None, poll_seconds: float = 0.0
    ) -> None:
        """`factory()` opens a new service (None: `service` is used as is and never replaced)."""
        self.settings = settings
        self.factory = factory
        self.poll_seconds = poll_seconds
        self._current = service if service is not None else factory()
        self._loaded: object = _NOT_LOADED  # the collection's fingerprint when `current` loaded it
        self._swap = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def current(self):
        return self._current

    def collection_fingerprint(self) -> str | None:
        """The fingerprint the collection carries now (raises StoreUnavailable when unreachable)."""
        from ingest.store import ChunkStore

        return (ChunkStore(self.settings, create=False).collection.metadata or {}).get("fingerprint")

    def refresh(self, force: bool = False) -> bool:
        """Open a fresh service if the collection changed since `current` loaded (or `force`);
        True when one was swapped in. Raises StoreUnavailable when the index is unreachable."""
        if self.factory is None:
            return False
        with self._swap:
            remote = self.collection_fingerprint()
            if not force and remote == self._loaded:
                return False
            fresh = self.factory()
            fresh.index  # noqa: B018 (opens Chroma and rebuilds the local BM25 copy if it is stale)
            # Read before loading: an ingest meanwhile makes the next check load once more.
            self._current, self._loaded = fresh, remote
            log.info("index changed; answering from the new contents")
            return True

    def start(self) -> None:
        """Load the index now (if reachable) and poll it every `poll_seconds` (0: never)."""
        if self.factory is None:
            return
        self._check()
        if self.poll_seconds > 0:
            self._thread = threading.Thread(target=self._poll, name="spacebot-index-poll", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def _poll(self) -> None:
        while not self._stop.wait(self.poll_seconds):
            self._check()

    def _check(self) -> None:
        from ingest.store import StoreUnavailable

        try:
            self.refresh()
        except StoreUnavailable as exc:  # readyz reports it; keep answering what we can
            log.warning("index check failed: %s", exc)
        except Exception:  # a poll must never die
            log.exception("index check failed")
