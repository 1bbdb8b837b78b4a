"""What a channel (or a DM) chose: its own sources, its brief schedule, and the briefs it was sent.

A scheduled brief is posted once across replicas: `claim_brief` is one INSERT on the
(channel, slot) key, and only the caller that inserted it posts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from bot.state.db import Clock, Database, as_database


@dataclass(frozen=True)
class BriefSchedule:
    """`cadence` daily or weekly (then `weekday`, 0 = Monday) at `hour:minute` in time zone `tz`."""

    channel: str
    cadence: str
    weekday: int | None
    hour: int
    minute: int
    tz: str
    created_at: float = 0.0  # when it was set: slots before it are never posted


class ChannelStore:
    """`db`: a `Database`, a SQLite path or a database URL."""

    def __init__(self, db: Database | str | Path, *, clock: Clock | None = None) -> None:
        self.db = as_database(db, clock)

    # -- sources -------------------------------------------------------------------
    def sources(self, channel: str) -> list[str] | None:
        """The sources `channel` draws from; None: all of them."""
        from sqlalchemy import select

        from bot.state.schema import channel_sources as t

        with self.db.begin() as connection:
            raw = connection.execute(select(t.c.sources).where(t.c.channel == channel)).scalar()
        return json.loads(raw) if raw else None

    def set_sources(self, channel: str, sources: list[str] | None, by: str | None = None) -> None:
        """Restrict `channel` to `sources` (None or empty: every source again)."""
        from sqlalchemy import delete

        from bot.state.schema import channel_sources as t

        with self.db.begin() as connection:
            if not sources:
                connection.execute(delete(t).where(t.c.channel == channel))
                return
            values = {"sources": json.dumps(sorted(set(sources))), "updated_by": by, "updated_at": self.db.clock()}
            insert = self.db.insert(t).values(channel=channel, **values)
            connection.execute(insert.on_conflict_do_update(index_elements=[t.c.channel], set_=values))

    # -- brief schedules -----------------------------------------------------------
    def set_schedule(self, schedule: BriefSchedule, by: str | None = None) -> None:
        from bot.state.schema import brief_schedules as t

        values = {
            "cadence": schedule.cadence,
            "weekday": schedule.weekday,
            "hour": schedule.hour,
            "minute": schedule.minute,
            "tz": schedule.tz,
            "created_by": by,
            "created_at": self.db.clock(),
        }
        insert = self.db.insert(t).values(channel=schedule.channel, **values)
        with self.db.begin() as connection:
            connection.execute(insert.on_conflict_do_update(index_elements=[t.c.channel], set_=values))

    def clear_schedule(self, channel: str) -> bool:
        from sqlalchemy import delete

        from bot.state.schema import brief_schedules as t

        with self.db.begin() as connection:
            return connection.execute(delete(t).where(t.c.channel == channel)).rowcount > 0

    def schedule(self, channel: str) -> BriefSchedule | None:
        found = [s for s in self.schedules() if s.channel == channel]
        return found[0] if found else None

    def schedules(self) -> list[BriefSchedule]:
        from sqlalchemy import select

        from bot.state.schema import brief_schedules as t

        with self.db.begin() as connection:
            rows = connection.execute(select(t).order_by(t.c.channel)).all()
        return [BriefSchedule(r.channel, r.cadence, r.weekday, r.hour, r.minute, r.tz, r.created_at) for r in rows]

    # -- briefs sent ---------------------------------------------------------------
    def claim_brief(self, channel: str, slot: float, how: str = "scheduled") -> bool:
        """Record the brief for (`channel`, `slot`); True only for the one caller that inserted it."""
        from bot.state.schema import briefs_sent as t

        insert = self.db.insert(t).values(channel=channel, slot=slot, how=how, sent_at=self.db.clock())
        insert = insert.on_conflict_do_nothing(index_elements=[t.c.channel, t.c.slot]).returning(t.c.channel)
        with self.db.begin() as connection:
            return connection.execute(insert).first() is not None

    def last_brief(self, channel: str) -> float | None:
        """When `channel` was last sent a brief (scheduled or asked for); None: never."""
        from sqlalchemy import func, select

        from bot.state.schema import briefs_sent as t

        with self.db.begin() as connection:
            return connection.execute(select(func.max(t.c.sent_at)).where(t.c.channel == channel)).scalar()
