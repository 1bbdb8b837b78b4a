"""The state layer on both backends: conversations, feedback votes, Slack event ids.

Every test runs against a SQLite file and a real PostgreSQL server (see
`state_target` in conftest.py); time moves by a fake clock, never by sleeping.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from conftest import FakeClock

from bot.state.conversations import ConversationStore
from bot.state.db import (
    Database,
    StateUnavailable,
    open_database,
    redact,
    sqlalchemy_url,
)
from bot.state.event_ids import SeenEvents
from bot.state.feedback import FeedbackStore

DAY = 86400.0


def _fresh_engine(target) -> Database:
    """The same database through a new engine: what another process (or replica) sees."""
    return Database(sqlalchemy_url(target))


def test_conversation_turns_come_back_in_order_and_survive_a_restart(state_target):
    store = ConversationStore(state_target, clock=FakeClock())
    for n in range(8):
        store.append("c1", f"q{n}", f"a{n}", [f"art{n}"], refused=(n == 3))
    store.append("c2", "other", "x", [], False)
    later = ConversationStore(_fresh_engine(state_target), clock=FakeClock())
    turns = later.history("c1")
    assert [t.question for t in turns] == ["q2", "q3", "q4", "q5", "q6", "q7"]  # the last six, oldest first
    assert turns[1].refused is True and turns[0].refused is False
    assert turns[-1].article_ids == ["art7"]
    assert [t.answer for t in later.history("c1", limit=2)] == ["a6", "a7"]
    assert later.history("nobody") == []


def test_conversations_expire_by_the_clock(state_target):
    clock = FakeClock()
    store = ConversationStore(state_target, ttl_days=1, clock=clock)
    store.append("old", "q1", "a1", ["x"], False)
    clock.advance(0.5 * DAY)
    store.append("new", "q2", "a2", ["y"], False)
    clock.advance(0.6 * DAY)  # "old" is now 1.1 days old, "new" 0.6
    assert store.history("old") == []  # a long-running process does not revive it
    assert [t.question for t in store.history("new")] == ["q2"]
    reopened = ConversationStore(state_target, ttl_days=1, clock=clock)  # sweeps at start
    assert reopened.expire() == 0  # already swept
    assert ConversationStore(state_target, ttl_days=30, clock=clock).history("old") == []  # deleted, not hidden
    assert [t.question for t in reopened.history("new")] == ["q2"]


def test_feedback_round_trip(state_target):
    clock = FakeClock(1234.5)
    store = FeedbackStore(state_target, clock=clock)
    key = store.remember("Q?", "A [1].", ["a1", "a2"], channel="C1", conversation_id="slack:C1:1.2")
    assert len(key) == 12
    stored = FeedbackStore(_fresh_engine(state_target)).lookup(key)
    assert (stored.question, stored.answer, stored.article_ids, stored.refused) == ("Q?", "A [1].", ["a1", "a2"], False)
    assert (stored.channel, stored.conversation_id, stored.created_at) == ("C1", "slack:C1:1.2", 1234.5)
    assert store.lookup("nope") is None
    first = store.record("Q?", "A [1].", ["a1", "a2"], 1, "U1", "C1", "1.2", key=key)
    second = store.record("Q?", "A [1].", ["a1", "a2"], -1, "U2", "C1", "1.2", key=key)
    assert second > first
    votes = FeedbackStore(_fresh_engine(state_target)).list()
    assert [(v.vote, v.user, v.key) for v in votes] == [(1, "U1", key), (-1, "U2", key)]
    assert votes[0].article_ids == ["a1", "a2"] and votes[0].created_at == 1234.5
    assert [v.user for v in store.list(limit=1)] == ["U2"]
    assert store.list(limit=0) == []
    with pytest.raises(ValueError):
        store.record("Q", "A", [], 0)


def test_an_event_is_first_seen_exactly_once_across_threads_and_processes(state_target):
    # Two engines stand for two processes (two replicas on PostgreSQL), five threads each.
    stores = [SeenEvents(state_target), SeenEvents(_fresh_engine(state_target))]
    barrier = threading.Barrier(10)
    firsts = []

    def deliver(seen):
        barrier.wait()
        firsts.append(seen.first_time("Ev1"))

    threads = [threading.Thread(target=deliver, args=(stores[i % 2],)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(firsts) == [False] * 9 + [True]
    assert "Ev1" in stores[1] and "Ev2" not in stores[0]


def test_seen_event_ids_expire_by_the_clock(state_target):
    clock = FakeClock()
    seen = SeenEvents(state_target, ttl_seconds=3600, clock=clock)
    assert seen.first_time("Ev1") is True
    clock.advance(1800)
    assert seen.first_time("Ev1") is False and "Ev1" in seen
    clock.advance(1801)  # an hour after it was first seen
    assert "Ev1" not in seen
    assert seen.first_time("Ev1") is True  # expired: a new delivery counts as new
    assert seen.first_time("Ev1") is False


def test_a_sqlite_file_from_before_migrations_is_read_as_it_was(tmp_path):
    path = tmp_path / "state.sqlite3"
    with sqlite3.connect(path) as con:  # the schema the stores wrote before this layer existed
        con.executescript(LEGACY_SCHEMA)
        con.execute("INSERT INTO turns VALUES ('c', 100.0, 'q1', 'a1', '[\"x\"]', 0)")
        con.execute("INSERT INTO turns VALUES ('c', 100.0, 'q2', 'a2', '[]', 1)")
        con.execute("INSERT INTO slack_seen_events VALUES ('Ev1', 100.0)")
        con.execute(
            "INSERT INTO feedback_votes (key, question, answer, article_ids, vote, user, channel, ts,"
            " created_at) VALUES ('k', 'Q', 'A', '[\"x\"]', 1, 'U1', 'C1', '1.2', 100.0)"
        )
    clock = FakeClock(200.0)
    store = ConversationStore(path, clock=clock)
    store.append("c", "q3", "a3", [], False)
    assert [(t.question, t.refused) for t in store.history("c")] == [("q1", False), ("q2", True), ("q3", False)]
    assert SeenEvents(path, clock=clock).first_time("Ev1") is False
    assert [(v.question, v.user) for v in FeedbackStore(path).list()] == [("Q", "U1")]


def test_head_names_the_newest_migration():
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from bot.state import db
    from bot.state.migrations import HEAD

    config = Config()
    config.set_main_option("script_location", str(Path(db.__file__).with_name("migrations")))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD


def test_replicas_starting_together_migrate_a_new_database_once(postgres_server):
    url = postgres_server.fresh_schema("fresh_migration")
    barrier = threading.Barrier(4)
    errors = []

    def start():
        barrier.wait()
        try:
            SeenEvents(Database(sqlalchemy_url(url))).first_time("E")
        except Exception as exc:  # noqa: BLE001 (collected and shown by the assertion)
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_an_unreachable_database_says_so_without_its_password(postgres_server):
    url = postgres_server.url.replace(f":{postgres_server.port}/", ":1/")  # nothing listens on port 1
    assert postgres_server.password in url
    with pytest.raises(StateUnavailable) as caught:
        open_database(url)
    message = str(caught.value)
    assert postgres_server.password not in message and "***" in message and "127.0.0.1:1" in message
    assert postgres_server.password not in redact(url)
    with pytest.raises(ValueError, match=r"postgresql:// or sqlite:///") as bad:
        sqlalchemy_url("mysql://root:hunter2@db/x")
    assert "hunter2" not in str(bad.value)


def test_ping_follows_the_server(postgres_server):
    database = open_database(postgres_server.url)
    assert database.ping() is True
    broken = Database(database.url, engine=_engine_on_port(database.url, 1))
    assert broken.ping() is False


def _engine_on_port(url: str, port: int):
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    return create_engine(make_url(url).set(port=port), connect_args={"connect_timeout": 2})


LEGACY_SCHEMA = """
CREATE TABLE turns (conversation TEXT NOT NULL, at REAL NOT NULL, question TEXT NOT NULL,
    answer TEXT NOT NULL, article_ids TEXT NOT NULL, refused INTEGER NOT NULL);
CREATE INDEX turns_by_conversation ON turns (conversation, at);
CREATE TABLE slack_seen_events (event_id TEXT PRIMARY KEY, seen_at REAL NOT NULL);
CREATE INDEX slack_seen_events_at ON slack_seen_events (seen_at);
CREATE TABLE feedback_answers (key TEXT PRIMARY KEY, question TEXT NOT NULL, answer TEXT NOT NULL,
    article_ids TEXT NOT NULL, refused INTEGER NOT NULL DEFAULT 0, channel TEXT, conversation_id TEXT,
    created_at REAL NOT NULL);
CREATE TABLE feedback_votes (id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT, question TEXT NOT NULL,
    answer TEXT NOT NULL, article_ids TEXT NOT NULL, vote INTEGER NOT NULL CHECK (vote IN (-1, 1)),
    user TEXT, channel TEXT, ts TEXT, created_at REAL NOT NULL);
"""
