"""Conversations kept in SQLite by id (a chat session, a Slack thread); old ones expire."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path

EXPIRE_EVERY = 200  # turns appended between sweeps of expired conversations


@dataclass
class Turn:
    question: str
    answer: str
    article_ids: list[str]
    refused: bool


class ConversationStore:
    """Turns of each conversation, oldest first. Safe to share between threads."""

    def __init__(self, path: Path, ttl_days: float = 30.0):
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        self.ttl_seconds = ttl_days * 86400
        self._lock = threading.Lock()
        self._appended = 0
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS turns (conversation TEXT NOT NULL, at REAL NOT NULL,"
            " question TEXT NOT NULL, answer TEXT NOT NULL, article_ids TEXT NOT NULL, refused INTEGER NOT NULL)")
        self._db.execute("CREATE INDEX IF NOT EXISTS turns_by_conversation ON turns (conversation, at)")
        self.expire()

    def expire(self) -> int:
        """Forget conversations whose last turn is older than the TTL; returns turns removed."""
        cutoff = time.time() - self.ttl_seconds
        with self._lock, self._db:
            cursor = self._db.execute(
                "DELETE FROM turns WHERE conversation IN (SELECT conversation FROM turns"
                " GROUP BY conversation HAVING MAX(at) < ?)", (cutoff,))
        return cursor.rowcount

    def history(self, conversation: str, limit: int = 6) -> list[Turn]:
        """The last `limit` turns, oldest first."""
        cutoff = time.time() - self.ttl_seconds  # a long-running bot must not revive old threads
        with self._lock:
            rows = self._db.execute(
                "SELECT question, answer, article_ids, refused FROM turns WHERE conversation = ? AND at >= ?"
                " ORDER BY at DESC, rowid DESC LIMIT ?", (conversation, cutoff, limit)).fetchall()
        return [Turn(q, a, json.loads(ids), bool(r)) for q, a, ids, r in reversed(rows)]

    def append(self, conversation: str, question: str, answer: str, article_ids: list[str],
               refused: bool) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT INTO turns VALUES (?, ?, ?, ?, ?, ?)",
                             (conversation, time.time(), question, answer, json.dumps(article_ids),
                              int(refused)))
        self._appended += 1
        if self._appended % EXPIRE_EVERY == 0:
            self.expire()

    def close(self) -> None:
        self._db.close()
