"""What `spacebot watch` remembers, in the state database (`ingest.watch.records.WatchState`).

- validators: per URL its ETag / Last-Modified (and a digest of the body), per folder a digest
  of its listing, saved once a round ingested it;
- entry versions: per feed, the `updated|published` of each entry whose page was read whole;
  saving a feed's versions replaces the old set, so entries gone from the feed are forgotten;
- status: per source its interval, last run, result, new articles, next run and failure streak.

One short transaction per call, like every store here; SQLite or PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

from bot.state.db import Clock, Database, as_database
from ingest.watch.records import SourceStatus, Validators


class WatchStateStore:
    """`db`: a `Database`, a SQLite path or a database URL."""

    def __init__(self, db: Database | str | Path, *, clock: Clock | None = None) -> None:
        self.db = as_database(db, clock)

    def validators(self, locator: str) -> Validators | None:
        from sqlalchemy import select

        from bot.state.schema import watch_validators as t

        with self.db.begin() as connection:
            row = connection.execute(
                select(t.c.etag, t.c.last_modified, t.c.digest).where(t.c.locator == locator)
            ).first()
        return Validators(*row) if row else None

    def save_validators(self, locator: str, validators: Validators) -> None:
        from bot.state.schema import watch_validators as t

        values = {
            "etag": validators.etag,
            "last_modified": validators.last_modified,
            "digest": validators.digest,
            "saved_at": self.db.clock(),
        }
        insert = self.db.insert(t).values(locator=locator, **values)
        with self.db.begin() as connection:
            connection.execute(insert.on_conflict_do_update(index_elements=[t.c.locator], set_=values))

    def entry_versions(self, feed: str) -> dict[str, str]:
        from sqlalchemy import select

        from bot.state.schema import watch_entries as t

        with self.db.begin() as connection:
            rows = connection.execute(select(t.c.link, t.c.version).where(t.c.feed == feed)).all()
        return dict(rows)

    def save_entry_versions(self, feed: str, versions: dict[str, str]) -> None:
        """Make `versions` the feed's whole set (entries not in it are forgotten)."""
        from sqlalchemy import delete

        from bot.state.schema import watch_entries as t

        now = self.db.clock()
        with self.db.begin() as connection:
            connection.execute(delete(t).where(t.c.feed == feed))
            if versions:
                rows = [{"feed": feed, "link": k, "version": v, "saved_at": now} for k, v in versions.items()]
                connection.execute(self.db.insert(t), rows)

    def status(self, source: str) -> SourceStatus | None:
        from sqlalchemy import select

        from bot.state.schema import watch_sources as t

        with self.db.begin() as connection:
            row = connection.execute(select(t).where(t.c.source == source)).first()
        return _status(row) if row else None

    def save_status(self, status: SourceStatus) -> None:
        from bot.state.schema import watch_sources as t

        values = {
            "interval_seconds": status.interval,
            "last_run_at": status.last_run,
            "result": status.result,
            "detail": status.detail,
            "new_articles": status.new_articles,
            "next_run_at": status.next_run,
            "failures": status.failures,
        }
        insert = self.db.insert(t).values(source=status.source, **values)
        with self.db.begin() as connection:
            connection.execute(insert.on_conflict_do_update(index_elements=[t.c.source], set_=values))

    def statuses(self) -> list[SourceStatus]:
        """Every source ever watched with this database, by name."""
        from sqlalchemy import select

        from bot.state.schema import watch_sources as t

        with self.db.begin() as connection:
            rows = connection.execute(select(t).order_by(t.c.source)).all()
        return [_status(r) for r in rows]


def _status(row) -> SourceStatus:
    return SourceStatus(
        source=row.source,
        interval=row.interval_seconds,
        last_run=row.last_run_at,
        result=row.result,
        detail=row.detail or "",
        new_articles=row.new_articles,
        next_run=row.next_run_at,
        failures=row.failures,
    )
