"""Answers shown to users and the 👍/👎 votes they cast, in the state database.

`FeedbackStore.remember` stores a posted answer under a short key (the value
of its feedback buttons); `record` stores a vote; `list` reads votes back.
Every call is its own transaction, so threads (and replicas) can share one store.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.state.db import Clock, Database, as_database

KEY_BYTES = 6  # 12 hex characters: fits a Slack button value, and collisions are negligible


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
    """Votes and the answers they are about. `db`: a `Database`, a SQLite path or a database URL."""

    def __init__(self, db: Database | str | Path, *, clock: Clock | None = None) -> None:
        self.db = as_database(db, clock)

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
        from sqlalchemy import insert

        from bot.state.schema import feedback_answers

        key = secrets.token_hex(KEY_BYTES)
        with self.db.begin() as connection:
            connection.execute(
                insert(feedback_answers).values(
                    key=key,
                    question=question,
                    answer=answer,
                    article_ids=json.dumps(list(article_ids)),
                    refused=int(refused),
                    channel=channel,
                    conversation_id=conversation_id,
                    created_at=self.db.clock(),
                )
            )
        return key

    def lookup(self, key: str) -> StoredAnswer | None:
        """The answer stored under `key`, or None."""
        from sqlalchemy import select

        from bot.state.schema import feedback_answers as t

        with self.db.begin() as connection:
            row = connection.execute(
                select(
                    t.c.key,
                    t.c.question,
                    t.c.answer,
                    t.c.article_ids,
                    t.c.refused,
                    t.c.channel,
                    t.c.conversation_id,
                    t.c.created_at,
                ).where(t.c.key == key)
            ).first()
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
        from sqlalchemy import insert

        from bot.state.schema import feedback_votes

        if vote not in (1, -1):
            raise ValueError("vote must be +1 or -1")
        with self.db.begin() as connection:
            result = connection.execute(
                insert(feedback_votes).values(
                    key=key,
                    question=question,
                    answer=answer,
                    article_ids=json.dumps(list(article_ids)),
                    vote=vote,
                    user=user,
                    channel=channel,
                    ts=ts,
                    created_at=self.db.clock(),
                )
            )
            return int(result.inserted_primary_key[0])

    def list(self, limit: int | None = None) -> list[Feedback]:
        """Votes, oldest first (the last `limit` when given)."""
        from sqlalchemy import select

        from bot.state.schema import feedback_votes as t

        if limit is not None and limit <= 0:
            return []
        query = select(
            t.c.id,
            t.c.key,
            t.c.question,
            t.c.answer,
            t.c.article_ids,
            t.c.vote,
            t.c.user,
            t.c.channel,
            t.c.ts,
            t.c.created_at,
        ).order_by(t.c.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with self.db.begin() as connection:
            rows = connection.execute(query).all()
        return [
            Feedback(
                question=r[2],
                answer=r[3],
                article_ids=json.loads(r[4]),
                vote=r[5],
                user=r[6],
                channel=r[7],
                ts=r[8],
                key=r[1],
                created_at=r[9],
                id=r[0],
            )
            for r in reversed(rows)
        ]
