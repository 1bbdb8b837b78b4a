"""Follows (a channel or a user following a topic) and the alerts sent for them.

"Exactly once" is one INSERT on `alerts_sent`'s unique (follow, story group): of two
dispatchers (threads, processes, `spacebot slack` replicas on one PostgreSQL) that match
the same story for the same follow, exactly one inserts the row, and only that one posts.
The row goes in before the message is posted, so a crash in between loses an alert
rather than sending one twice.

One short transaction per call, like every store here; SQLite or PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bot.state.db import Clock, Database, as_database

CHANNEL = "channel"
USER = "user"


@dataclass(frozen=True)
class Follow:
    """One follow: `owner` (a channel or user id, by `scope`) follows `topic`; alerts go to `deliver_to`."""

    id: int
    scope: str
    owner: str
    deliver_to: str
    topic: str
    created_by: str | None
    created_at: float


@dataclass(frozen=True)
class SentAlert:
    """An alert as recorded: which follow, which story, where and when."""

    follow_id: int
    story: str
    article_id: str
    channel: str
    title: str
    how: str
    sent_at: float


class FollowStore:
    """`db`: a `Database`, a SQLite path or a database URL."""

    def __init__(self, db: Database | str | Path, *, clock: Clock | None = None) -> None:
        self.db = as_database(db, clock)

    # -- follows -------------------------------------------------------------------
    def add(self, scope: str, owner: str, deliver_to: str, topic: str, created_by: str | None = None) -> Follow:
        """Follow `topic` (an existing identical follow is returned as it is, with its first time)."""
        from sqlalchemy import select

        from bot.state.schema import follows as t

        values = dict(scope=scope, owner=owner, deliver_to=deliver_to, topic=topic, created_by=created_by)
        insert = self.db.insert(t).values(created_at=self.db.clock(), **values)
        with self.db.begin() as connection:
            connection.execute(insert.on_conflict_do_nothing(index_elements=[t.c.scope, t.c.owner, t.c.topic]))
            row = connection.execute(
                select(t).where(t.c.scope == scope, t.c.owner == owner, t.c.topic == topic)
            ).first()
        return _follow(row)

    def of(self, scope: str, owner: str) -> list[Follow]:
        """The follows of one channel or user, oldest first (what `following` numbers)."""
        from sqlalchemy import select

        from bot.state.schema import follows as t

        with self.db.begin() as connection:
            rows = connection.execute(select(t).where(t.c.scope == scope, t.c.owner == owner).order_by(t.c.id)).all()
        return [_follow(r) for r in rows]

    def of_channels(self, channels: Iterable[str]) -> list[Follow]:
        """The follows of these channels, oldest first."""
        from sqlalchemy import select

        from bot.state.schema import follows as t

        channels = list(channels)
        if not channels:
            return []
        with self.db.begin() as connection:
            rows = connection.execute(
                select(t).where(t.c.scope == CHANNEL, t.c.owner.in_(channels)).order_by(t.c.id)
            ).all()
        return [_follow(r) for r in rows]

    def all(self) -> list[Follow]:
        from sqlalchemy import select

        from bot.state.schema import follows as t

        with self.db.begin() as connection:
            return [_follow(r) for r in connection.execute(select(t).order_by(t.c.id)).all()]

    def get(self, follow_id: int) -> Follow | None:
        from sqlalchemy import select

        from bot.state.schema import follows as t

        with self.db.begin() as connection:
            row = connection.execute(select(t).where(t.c.id == int(follow_id))).first()
        return _follow(row) if row else None

    def remove(self, follow_id: int) -> bool:
        """Stop a follow; False when there was none with that id."""
        from sqlalchemy import delete

        from bot.state.schema import follows as t

        with self.db.begin() as connection:
            return connection.execute(delete(t).where(t.c.id == int(follow_id))).rowcount > 0

    # -- alerts --------------------------------------------------------------------
    def claim_alert(self, follow: Follow, story: str, article_id: str, title: str = "", how: str = "alert") -> bool:
        """Record that `story` is (about to be) sent for `follow`; True only for the one caller that
        inserted the row (atomically, across threads, processes and replicas)."""
        from bot.state.schema import alerts_sent as t

        insert = self.db.insert(t).values(
            follow_id=follow.id,
            story=story,
            article_id=article_id,
            channel=follow.deliver_to,
            title=title,
            how=how,
            sent_at=self.db.clock(),
        )
        insert = insert.on_conflict_do_nothing(index_elements=[t.c.follow_id, t.c.story]).returning(t.c.id)
        with self.db.begin() as connection:
            return connection.execute(insert).first() is not None

    def set_how(self, follow_id: int, story: str, how: str) -> None:
        """Change how a claimed alert went out (`gathered` into one message, or `failed`)."""
        from sqlalchemy import update

        from bot.state.schema import alerts_sent as t

        with self.db.begin() as connection:
            connection.execute(update(t).where(t.c.follow_id == follow_id, t.c.story == story).values(how=how))

    def alerted_any(self, follow_id: int, article_ids: Iterable[str]) -> bool:
        """True when an alert for `follow_id` was sent for any of these articles (a story's copies)."""
        from sqlalchemy import or_, select

        from bot.state.schema import alerts_sent as t

        ids = list(article_ids)
        with self.db.begin() as connection:
            row = connection.execute(
                select(t.c.id).where(t.c.follow_id == follow_id, or_(t.c.story.in_(ids), t.c.article_id.in_(ids)))
            ).first()
        return row is not None

    def alerts_since(self, channel: str, since: float) -> int:
        """How many single alerts were posted in `channel` since `since` (the hourly cap counts these)."""
        from sqlalchemy import func, select

        from bot.state.schema import alerts_sent as t

        with self.db.begin() as connection:
            return connection.execute(
                select(func.count()).where(t.c.channel == channel, t.c.sent_at >= since, t.c.how == "alert")
            ).scalar_one()

    def last_alerts(self, channels: Iterable[str], limit: int = 5) -> list[SentAlert]:
        """The newest alerts sent to these channels, newest first."""
        from sqlalchemy import select

        from bot.state.schema import alerts_sent as t

        channels = list(channels)
        if not channels:
            return []
        with self.db.begin() as connection:
            rows = connection.execute(
                select(t).where(t.c.channel.in_(channels)).order_by(t.c.sent_at.desc(), t.c.id.desc()).limit(limit)
            ).all()
        return [SentAlert(r.follow_id, r.story, r.article_id, r.channel, r.title, r.how, r.sent_at) for r in rows]

    # -- what the dispatcher has read ----------------------------------------------
    def mark_checked(self, article_id: str, indexed_at: float) -> None:
        from bot.state.schema import stories_checked as t

        insert = self.db.insert(t).values(article_id=article_id, indexed_at=indexed_at, checked_at=self.db.clock())
        with self.db.begin() as connection:
            connection.execute(insert.on_conflict_do_nothing(index_elements=[t.c.article_id, t.c.indexed_at]))

    def checked(self, since: float) -> set[tuple[str, float]]:
        """(article id, indexed_at) of every article version checked that was indexed at `since` or later."""
        from sqlalchemy import select

        from bot.state.schema import stories_checked as t

        with self.db.begin() as connection:
            rows = connection.execute(select(t.c.article_id, t.c.indexed_at).where(t.c.indexed_at >= since)).all()
        return {(r[0], float(r[1])) for r in rows}

    def cursor(self, name: str) -> float | None:
        from sqlalchemy import select

        from bot.state.schema import dispatch_cursors as t

        with self.db.begin() as connection:
            return connection.execute(select(t.c.value).where(t.c.name == name)).scalar()

    def advance_cursor(self, name: str, value: float) -> None:
        """Move the cursor forward to `value` (never back)."""
        from sqlalchemy import case

        from bot.state.schema import dispatch_cursors as t

        insert = self.db.insert(t).values(name=name, value=value)
        insert = insert.on_conflict_do_update(
            index_elements=[t.c.name], set_={"value": case((t.c.value < value, value), else_=t.c.value)}
        )
        with self.db.begin() as connection:
            connection.execute(insert)


def _follow(row) -> Follow:
    return Follow(int(row.id), row.scope, row.owner, row.deliver_to, row.topic, row.created_by, float(row.created_at))
