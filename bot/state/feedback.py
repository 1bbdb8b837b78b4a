"""Answers shown to users and the 👍/👎 votes they cast, in stdlib SQLite.

`FeedbackStore.remember` stores a posted answer under a short key (the value
of its feedback buttons); `record` stores a vote; `list` reads votes back.
Each call opens its own connection, so threads can share one store.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback_answers (
    key TEXT PRIMARY KEY,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    article_ids TEXT NOT NULL,      -- JSON list of cited article ids
    refused INTEGER NOT NULL DEFAULT 0,
    channel TEXT,
    conversation_id TEXT,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS feedback_votes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    article_ids TEXT NOT NULL,
    vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    user TEXT,
    channel TEXT,
    ts TEXT,
    created_at REAL NOT NULL
);
"""


@dataclass
class Feedback:
    """One vote on one answer."""

    question: str
    answer: str
    article_ids: list[str]
    vote: int
    user: str | None = None
    channel: str | None = None
    ts: str | None = None
    key: str | None = None
    created_at: float = 0.0
    id: int | None = None


@dataclass
class StoredAnswer:
    """An answer as it was posted, found again by its feedback key."""

    key: str
    question: str
    answer: str
    article_ids: list[str] = field(default_factory=list)
    refused: bool = False
    channel: str | None = None
    conversation_id: str | None = None
    created_at: float = 0.0


class FeedbackStore:
    """Votes and the answers they are about, in the SQLite file `db_path`."""

    def __init__(self, db_path: str | Path) -> None:
        self.db_path = Path(db_path)
        self.db_path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as con:
            con.executescript(_SCHEMA)

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        con = sqlite3.connect(self.db_path, timeout=30)
        try:
            with con:  # commit or roll back
                yield con
        finally:
            con.close()

    def remember(
        self,
        question: str,
        answer: str,
        article_ids: Iterable[str],
        *,
        refused: bool = False,
        channel: str | None = None,
        conversation_id: str | None = None,
    ) -> str:
        """Store a posted answer; returns its short key (12 hex chars)."""
        key = secrets.token_hex(6)
        with self._connect() as con:
            con.execute(
                "INSERT INTO feedback_answers VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (key, question, answer, json.dumps(list(article_ids)), int(refused),
                 channel, conversation_id, time.time()),
            )
        return key

    def lookup(self, key: str) -> StoredAnswer | None:
        """The answer stored under `key`, or None."""
        with self._connect() as con:
            row = con.execute(
                "SELECT key, question, answer, article_ids, refused, channel, conversation_id,"
                " created_at FROM feedback_answers WHERE key = ?",
                (key,),
            ).fetchone()
        if row is None:
            return None
        return StoredAnswer(row[0], row[1], row[2], json.loads(row[3]), bool(row[4]), row[5], row[6], row[7])

    def record(
        self,
        question: str,
        answer: str,
        article_ids: Iterable[str],
        vote: int,
        user: str | None = None,
        channel: str | None = None,
        ts: str | None = None,
        *,
        key: str | None = None,
    ) -> int:
        """Store one vote (+1 or -1); returns its row id."""
        if vote not in (1, -1):
            raise ValueError("vote must be +1 or -1")
        with self._connect() as con:
            cur = con.execute(
                "INSERT INTO feedback_votes (key, question, answer, article_ids, vote, user, channel,"
                " ts, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (key, question, answer, json.dumps(list(article_ids)), vote, user, channel, ts,
                 time.time()),
            )
            return int(cur.lastrowid)

    def list(self, limit: int | None = None) -> list[Feedback]:
        """Votes, oldest first (the last `limit` when given)."""
        sql = (
            "SELECT id, key, question, answer, article_ids, vote, user, channel, ts, created_at"
            " FROM feedback_votes ORDER BY id"
        )
        with self._connect() as con:
            rows = con.execute(sql).fetchall()
        if limit is not None:
            rows = rows[-limit:] if limit > 0 else []
        return [
            Feedback(
                question=r[2], answer=r[3], article_ids=json.loads(r[4]), vote=r[5], user=r[6],
                channel=r[7], ts=r[8], key=r[1], created_at=r[9], id=r[0],
            )
            for r in rows
        ]
