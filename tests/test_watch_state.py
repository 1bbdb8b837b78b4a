"""What `spacebot watch` remembers, on SQLite and on a real PostgreSQL server (`state_target`):
validators, feed entry versions, source schedules, and the backoff they carry across restarts."""

from __future__ import annotations

from pathlib import Path

from conftest import FakeClock

from bot.state.db import Database, sqlalchemy_url
from bot.state.watch_state import WatchStateStore
from ingest.article import InputError
from ingest.watch.records import SourceStatus, Validators
from ingest.watch.source_list import WatchSource
from ingest.watch.source_round import Outcome
from ingest.watch.watcher import Watcher

FEED = "http://127.0.0.1:9/feed.xml"


def _reopened(target, clock=None) -> WatchStateStore:
    """The same database through a new engine: what the next process sees."""
    return WatchStateStore(Database(sqlalchemy_url(target)), clock=clock)


def test_validators_are_remembered_and_replaced(state_target):
    store = WatchStateStore(state_target)
    assert store.validators(FEED) is None
    store.save_validators(FEED, Validators('"v1"', "Tue, 14 Nov 2023 22:13:20 GMT", "ab" * 32))
    store.save_validators(FEED, Validators('"v2"', None, "cd" * 32))
    store.save_validators("/srv/notes", Validators(digest="ef" * 32))
    again = _reopened(state_target)
    assert again.validators(FEED) == Validators('"v2"', None, "cd" * 32)
    assert again.validators("/srv/notes") == Validators(None, None, "ef" * 32)


def test_a_feeds_entry_versions_are_replaced_as_a_set(state_target):
    store = WatchStateStore(state_target)
    store.save_entry_versions(FEED, {"http://x/a": "2024-04-10T12:00:00Z|", "http://x/b": "|Wed, 10 Apr 2024"})
    store.save_entry_versions("http://other/feed", {"http://x/a": "other feed, same link"})
    store.save_entry_versions(FEED, {"http://x/b": "|Wed, 10 Apr 2024", "http://x/c": "sha256:00"})
    again = _reopened(state_target)
    assert again.entry_versions(FEED) == {"http://x/b": "|Wed, 10 Apr 2024", "http://x/c": "sha256:00"}
    assert again.entry_versions("http://other/feed") == {"http://x/a": "other feed, same link"}
    store.save_entry_versions(FEED, {})
    assert again.entry_versions(FEED) == {}


def test_source_status_round_trip(state_target):
    store = WatchStateStore(state_target)
    status = SourceStatus(FEED, 900.0, 1000.0, "failed", "HTTP 500 Internal Server Error", 0, 2800.0, 2)
    store.save_status(status)
    store.save_status(SourceStatus("/srv/notes", 3600.0, 1000.0, "ok", "", 4, 4600.0, 0))
    assert _reopened(state_target).status(FEED) == status
    assert [s.source for s in _reopened(state_target).statuses()] == ["/srv/notes", FEED]
    assert _reopened(state_target).statuses()[0].to_dict()["next_run"] == "1970-01-01T01:16:40+00:00"


def test_backoff_survives_a_restart_and_once_skips_a_source_backing_off(state_target):
    clock = FakeClock()
    store = WatchStateStore(state_target, clock=clock)
    calls: list[str] = []

    def failing(name: str) -> Outcome:  # the round itself is tested against a real server in test_watch.py
        calls.append(name)
        return Outcome("failed", errors=[InputError(name, "HTTP 503 Service Unavailable")])

    sources = [WatchSource(FEED, 600.0)]
    lines: list[str] = []
    Watcher(sources, failing, store, clock=clock, log=lines.append).run_once()
    clock.advance(600)
    Watcher(sources, failing, store, clock=clock, log=lines.append).run_once()  # failure 2: wait 2 x 600
    assert calls == [FEED, FEED]

    clock.advance(600)  # a restart (or the next cron run) inside the backoff: skipped, said in one line
    restarted = Watcher(sources, failing, _reopened(state_target, clock), clock=clock, log=lines.append)
    assert restarted.run_once() == [] and calls == [FEED, FEED]
    assert lines[-1].startswith(f"{FEED}: skipped, backing off after 2 failures until ")
    assert restarted.run_due() == [] and restarted.seconds_to_next() == 600

    clock.advance(600)
    assert [s.failures for s in restarted.run_due()] == [3]


def test_a_database_at_the_first_revision_is_migrated_and_keeps_its_rows(tmp_path: Path):
    from alembic import command
    from alembic.config import Config
    from sqlalchemy import create_engine, text

    from bot.state import db
    from bot.state.conversations import ConversationStore

    path = tmp_path / "state.sqlite3"
    config = Config()
    config.set_main_option("script_location", str(Path(db.__file__).with_name("migrations")))
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            text(
                "INSERT INTO turns (conversation, at, question, answer, article_ids, refused)"
                " VALUES ('c1', 1e12, 'q', 'a', '[]', 0)"
            )
        )
    engine.dispose()
    store = WatchStateStore(path)
    store.save_status(SourceStatus(FEED, 900.0))
    assert store.status(FEED) == SourceStatus(FEED, 900.0)
    assert [t.question for t in ConversationStore(path, clock=lambda: 1e12).history("c1")] == ["q"]
