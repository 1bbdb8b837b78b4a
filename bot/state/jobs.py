"""Ingest jobs of `POST /v1/ingest`, as rows of the state database (`ingest_jobs`).

A job is `queued`, then `running`, then `done` (with the `spacebot ingest --json`
summary as its result) or `failed` (with the reason). The process that runs a job
(its `runner`: host, pid and start time) touches `heartbeat_at` while the job is
queued or running. A job is never silently lost when that process dies:

- at start, a process marks failed the unfinished jobs of earlier processes on
  its own host that are gone (their pid no longer runs, or is its own);
- any process marks failed an unfinished job whose heartbeat is older than
  `stale_seconds` (a replica on another host that stopped), when it starts and
  whenever the job is read.
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from pathlib import Path

from bot.state.db import Clock, Database, as_database

UNFINISHED = ("queued", "running")
CUT_OFF = "cut off: the server process running it stopped before it finished ({why}); submit it again"


def this_runner() -> str:
    """`host:pid:start`, naming this process apart from any earlier one with the same pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{_PROCESS_START:.0f}"


_PROCESS_START = time.time()


class JobStore:
    """Create, advance and read ingest jobs (every call one short transaction)."""

    def __init__(self, db: Database | str | Path, stale_seconds: float = 60.0, *, clock: Clock | None = None) -> None:
        """`db` is opened on first use, so a server starts while its database is down (`/readyz` says so)."""
        self._target, self._clock, self._db = db, clock, None
        self.stale_seconds = float(stale_seconds)
        self.runner = this_runner()

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = as_database(self._target, self._clock)
        return self._db

    def create(self, request: dict, requested_by: str) -> str:
        """A new queued job run by this process; its id (random, unguessable)."""
        from bot.state.schema import ingest_jobs as jobs

        job_id, now = uuid.uuid4().hex, self.db.clock()
        row = dict(id=job_id, state="queued", request=json.dumps(request), requested_by=requested_by)
        row.update(runner=self.runner, progress="{}", created_at=now, heartbeat_at=now)
        with self.db.begin() as connection:
            connection.execute(jobs.insert().values(**row))
        return job_id

    def start(self, job_id: str) -> None:
        self._update(job_id, state="running", started_at=self.db.clock())

    def progress(self, job_id: str, progress: dict) -> None:
        self._update(job_id, progress=json.dumps(progress))

    def finish(self, job_id: str, result: dict, progress: dict) -> None:
        self._update(
            job_id, state="done", result=json.dumps(result), progress=json.dumps(progress), finished_at=self.db.clock()
        )

    def fail(self, job_id: str, error: str) -> None:
        self._update(job_id, state="failed", error=error, finished_at=self.db.clock())

    def heartbeat(self) -> None:
        """Touch every unfinished job this process runs."""
        from sqlalchemy import update

        from bot.state.schema import ingest_jobs as jobs

        with self.db.begin() as connection:
            connection.execute(
                update(jobs)
                .where(jobs.c.runner == self.runner, jobs.c.state.in_(UNFINISHED))
                .values(heartbeat_at=self.db.clock())
            )

    def get(self, job_id: str) -> dict | None:
        """The job as the API shows it (None: no such job); a stale one is marked failed first."""
        from sqlalchemy import select

        from bot.state.schema import ingest_jobs as jobs

        self.fail_stale(job_id)
        with self.db.begin() as connection:
            row = connection.execute(select(jobs).where(jobs.c.id == job_id)).mappings().first()
        if row is None:
            return None
        return {
            "id": row["id"],
            "state": row["state"],
            "request": json.loads(row["request"]),
            "progress": json.loads(row["progress"] or "{}"),
            "result": json.loads(row["result"]) if row["result"] else None,
            "error": row["error"],
            "created_at": row["created_at"],
            "started_at": row["started_at"],
            "finished_at": row["finished_at"],
        }

    def fail_stale(self, job_id: str | None = None) -> int:
        """Mark failed the unfinished jobs (or the one `job_id`) whose runner is gone; how many."""
        from sqlalchemy import select

        from bot.state.schema import ingest_jobs as jobs

        now = self.db.clock()
        query = select(jobs.c.id, jobs.c.runner, jobs.c.heartbeat_at).where(jobs.c.state.in_(UNFINISHED))
        if job_id is not None:
            query = query.where(jobs.c.id == job_id)
        with self.db.begin() as connection:
            rows = connection.execute(query).all()
        failed = 0
        for found, runner, heartbeat in rows:
            why = self._gone(runner, now - heartbeat)
            if why and self._fail_if_unfinished(found, CUT_OFF.format(why=why)):
                failed += 1
        return failed

    def _gone(self, runner: str, silent_for: float) -> str | None:
        """Why the process `runner` no longer runs its jobs, or None when it may still."""
        host, _, rest = runner.partition(":")
        pid = int(rest.split(":", 1)[0]) if rest.split(":", 1)[0].isdigit() else -1
        if runner != self.runner and host == socket.gethostname() and (pid == os.getpid() or not _alive(pid)):
            return "it was restarted or killed"
        if silent_for > self.stale_seconds:
            return f"no heartbeat for {silent_for:.0f} s"
        return None

    def _fail_if_unfinished(self, job_id: str, error: str) -> bool:
        from sqlalchemy import update

        from bot.state.schema import ingest_jobs as jobs

        with self.db.begin() as connection:
            changed = connection.execute(
                update(jobs)
                .where(jobs.c.id == job_id, jobs.c.state.in_(UNFINISHED))
                .values(state="failed", error=error, finished_at=self.db.clock())
            )
        return changed.rowcount == 1

    def _update(self, job_id: str, **values) -> None:
        from sqlalchemy import update

        from bot.state.schema import ingest_jobs as jobs

        values["heartbeat_at"] = self.db.clock()
        with self.db.begin() as connection:
            connection.execute(update(jobs).where(jobs.c.id == job_id).values(**values))


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True
