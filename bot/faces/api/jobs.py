"""`POST /v1/ingest` as a job: the request is answered at once (202, a job id), the ingest runs
on this process's one ingest thread, and `GET /v1/jobs/{id}` reads its progress and result
from the state database (any replica can answer it).

Jobs run one at a time per process, in the order submitted; a heartbeat thread keeps this
process's unfinished jobs fresh (see `bot.state.jobs` for what happens when it dies).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from bot.state.jobs import JobStore
from ingest.pipeline import Progress

log = logging.getLogger("spacebot.api")

PROGRESS_EVERY = 1.0  # seconds between progress writes (a stage change is written at once)


class JobProgress(Progress):
    """The pipeline's progress, written to the job's row (at most once a `PROGRESS_EVERY`)."""

    def __init__(self, store: JobStore, job_id: str) -> None:
        self.store, self.job_id = store, job_id
        self.state = {"stage": "queued", "read": 0, "failed": 0, "articles_to_embed": 0, "articles_embedded": 0}
        self._written = 0.0

    def stage(self, name: str) -> None:
        self.state["stage"] = name
        self.write(force=True)

    def read(self, article_or_error) -> None:
        from ingest.article import InputError

        self.state["failed" if isinstance(article_or_error, InputError) else "read"] += 1
        self.write()

    def start_embedding(self, articles: int, chunks: int) -> None:
        self.state["articles_to_embed"] = articles
        self.stage("embedding")

    def embedded(self, articles: int, chunks: int) -> None:
        self.state["articles_embedded"] += articles
        self.write()

    def write(self, force: bool = False) -> None:
        if force or time.monotonic() - self._written >= PROGRESS_EVERY:
            self._written = time.monotonic()
            self.store.progress(self.job_id, self.state)


class IngestJobs:
    """Submits ingest jobs and runs them; `on_done(summary)` is called after each that finishes."""

    def __init__(self, settings, store: JobStore, on_done: Callable) -> None:
        self.settings, self.store, self.on_done = settings, store, on_done
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-job")
        self._stop = threading.Event()
        self._beat = threading.Thread(target=self._heartbeat, name="ingest-job-heartbeat", daemon=True)

    def start(self) -> None:
        """Mark failed the jobs earlier processes left unfinished; start the heartbeat."""
        from bot.state.db import StateUnavailable

        try:
            cut_off = self.store.fail_stale()
        except StateUnavailable as exc:  # the database is down: /readyz says so; a later read fails them
            log.warning("could not check for ingest jobs left unfinished: %s", exc)
            cut_off = 0
        if cut_off:
            log.warning("%d ingest job(s) left unfinished by a stopped server marked failed", cut_off)
        self._beat.start()

    def stop(self) -> None:
        self._stop.set()
        self._pool.shutdown(wait=False, cancel_futures=True)

    def submit(self, urls: list[str], follow_links: bool, requested_by: str) -> str:
        """Queue an ingest of `urls`; the job's id."""
        job_id = self.store.create({"urls": urls, "follow_links": follow_links}, requested_by)
        self._pool.submit(self._run, job_id, urls, follow_links)
        return job_id

    def _run(self, job_id: str, urls: list[str], follow_links: bool) -> None:
        from ingest.pipeline import run_ingest

        progress = JobProgress(self.store, job_id)
        try:
            self.store.start(job_id)
            summary = run_ingest(urls, self.settings, follow_links=follow_links, progress=progress, remote=True)
            progress.state["stage"] = "done"
            self.store.finish(job_id, summary.to_dict(), progress.state)
            self.on_done(summary)
        except Exception as exc:  # noqa: BLE001 (a job's failure is its result, logged with its traceback)
            log.error("ingest job %s failed", job_id, exc_info=exc)
            self.store.fail(job_id, f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}")

    def _heartbeat(self) -> None:
        every = max(0.2, self.store.stale_seconds / 4)
        while not self._stop.wait(every):
            try:
                self.store.heartbeat()
            except Exception as exc:  # noqa: BLE001 (a database blip: the next beat tries again)
                log.warning("ingest job heartbeat failed: %s", exc)
