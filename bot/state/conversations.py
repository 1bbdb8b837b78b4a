"""Conversations by id (a chat session, a Slack thread), in the state database; old ones expire.

History is read from the database on every turn, so a conversation continues
on whichever process (or replica) gets its next question.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bot.state.db import Clock, Database, as_database

EXPIRE_EVERY = 200  # turns appended (by this process) between sweeps of expired conversations
SECONDS_PER_DAY = 86400


@dataclass
class Turn:
    question: str
    answer: str
    article_ids: list[str]
    refused: bool


class ConversationStore:
    """Turns of each conversation, oldest first. Safe to share between threads.

    `db`: a `Database`, a SQLite path or a database URL. A conversation whose last
    turn is older than `ttl_days` (by `clock`) is forgotten.
    """

    def __init__(self, db: Database | str | Path, ttl_days: float = 30.0, *, clock: Clock | None = None):
        self.db = as_database(db, clock)
        self.ttl_seconds = ttl_days * SECONDS_PER_DAY
        self._appended = 0
        self.expire()

    def expire(self) -> int:
        """Forget conversations whose last turn is older than the TTL; returns turns removed."""
        from sqlalchemy import delete, func, select

        from bot.state.schema import turns

        stale = (
            select(turns.c.conversation).group_by(turns.c.conversation).having(func.max(turns.c.at) < self._cutoff())
        )
        with self.db.begin() as connection:
            return connection.execute(delete(turns).where(turns.c.conversation.in_(stale))).rowcount

    def history(self, conversation: str, limit: int = 6) -> list[Turn]:
        """The last `limit` turns, oldest first."""
        from sqlalchemy import select

        from bot.state.schema import turns

        query = (
            select(turns.c.question, turns.c.answer, turns.c.article_ids, turns.c.refused)
            .where(
                turns.c.conversation == conversation, turns.c.at >= self._cutoff()
            )  # a long-running bot must not revive old threads
            .order_by(turns.c.at.desc(), turns.c.id.desc())
            .limit(limit)
        )
        with self.db.begin() as connection:
            rows = connection.execute(query).all()
        return [Turn(q, a, json.loads(ids), bool(r)) for q, a, ids, r in reversed(rows)]

    def append(self, conversation: str, question: str, answer: str, article_ids: list[str], refused: bool) -> None:
        """Add one turn at the clock's now."""
        from sqlalchemy import insert

        from bot.state.schema import turns

        with self.db.begin() as connection:
            connection.execute(
                insert(turns).values(
                    conversation=conversation,
                    at=self.db.clock(),
                    question=question,
                    answer=answer,
                    article_ids=json.dumps(article_ids),
                    refused=int(refused),
                )
            )
        self._appended += 1
        if self._appended % EXPIRE_EVERY == 0:
            self.expire()

    def close(self) -> None:
        """Nothing to do: connections belong to the shared engine (kept for callers that close)."""

    def _cutoff(self) -> float:
        return self.db.clock() - self.ttl_seconds
