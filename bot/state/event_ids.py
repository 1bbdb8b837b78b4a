"""Remember which Slack `event_id`s were handled, in the state database, so none is answered twice.

"First time" is one INSERT on the event id's primary key: of two deliveries
of the same event (to one process or to two replicas sharing PostgreSQL)
exactly one inserts the row. Slack re-sends an event within minutes; ids are
kept for `ttl_seconds` and an expired id counts as new again.
"""

from __future__ import annotations

from pathlib import Path

from bot.state.db import Clock, Database, as_database

DEFAULT_TTL = 24 * 3600.0  # a day: far longer than Slack's retry window (about 5 minutes)
SWEEP_EVERY = 60.0  # seconds between deletions of expired ids by one process


class SeenEvents:
    """A persistent set of event ids with the time each was first seen."""

    def __init__(
        self, db: Database | str | Path, ttl_seconds: float = DEFAULT_TTL, *, clock: Clock | None = None
    ) -> None:
        self.db = as_database(db, clock)
        self.ttl = float(ttl_seconds)
        self._last_sweep = float("-inf")

    def first_time(self, event_id: str) -> bool:
        """Record `event_id`; True when it had not been seen (atomically, across threads,
        processes and replicas)."""
        from sqlalchemy import delete

        from bot.state.schema import slack_seen_events as seen

        now = self.db.clock()
        cutoff = now - self.ttl
        insert = self.db.insert(seen).values(event_id=event_id, seen_at=now)
        # An id seen before the cutoff is taken over (counts as new); a live one stays untouched.
        insert = insert.on_conflict_do_update(
            index_elements=[seen.c.event_id], set_={"seen_at": now}, where=seen.c.seen_at < cutoff
        ).returning(seen.c.event_id)
        with self.db.begin() as connection:
            if now - self._last_sweep > SWEEP_EVERY:
                self._last_sweep = now
                connection.execute(delete(seen).where(seen.c.seen_at < cutoff))
            return connection.execute(insert).first() is not None  # a row back: inserted or taken over

    def __contains__(self, event_id: str) -> bool:
        from sqlalchemy import select

        from bot.state.schema import slack_seen_events as seen

        with self.db.begin() as connection:
            seen_at = connection.execute(select(seen.c.seen_at).where(seen.c.event_id == event_id)).scalar()
        return seen_at is not None and seen_at >= self.db.clock() - self.ttl
