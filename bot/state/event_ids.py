"""Remember which Slack `event_id`s were handled, in SQLite, so none is answered twice.

Slack re-sends an event it thinks was not delivered; ids are kept for
`ttl_seconds` (Slack retries within minutes) and older ones are expired.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

DEFAULT_TTL = 24 * 3600.0


class SeenEvents:
    """A persistent set of event ids with timestamps."""

    def __init__(self, db_path: str | Path, ttl_seconds: float = DEFAULT_TTL) -> None:
        self.db_path = Path(db_path)
        self.ttl = float(ttl_seconds)
        self._lock = threading.Lock()
        self._last_expiry = 0.0
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.execute(
                "CREATE TABLE IF NOT EXISTS slack_seen_events ("
                " event_id TEXT PRIMARY KEY, seen_at REAL NOT NULL)"
            )
            con.execute(
                "CREATE INDEX IF NOT EXISTS slack_seen_events_at ON slack_seen_events (seen_at)"
            )

    def _connect(self) -> sqlite3.Connection:
        return sqlite3.connect(self.db_path, timeout=30, isolation_level=None)

    def first_time(self, event_id: str) -> bool:
        """Record `event_id`; True when it had not been seen (atomically, across threads)."""
        now = time.time()
        con = self._connect()
        try:
            if now - self._last_expiry > 60:
                with self._lock:
                    self._last_expiry = now
                con.execute("DELETE FROM slack_seen_events WHERE seen_at < ?", (now - self.ttl,))
            cur = con.execute(
                "INSERT OR IGNORE INTO slack_seen_events (event_id, seen_at) VALUES (?, ?)",
                (event_id, now),
            )
            return cur.rowcount == 1
        finally:
            con.close()

    def __contains__(self, event_id: str) -> bool:
        con = self._connect()
        try:
            row = con.execute(
                "SELECT seen_at FROM slack_seen_events WHERE event_id = ?", (event_id,)
            ).fetchone()
        finally:
            con.close()
        return row is not None and row[0] >= time.time() - self.ttl
