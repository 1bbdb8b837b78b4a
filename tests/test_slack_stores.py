"""FeedbackStore, the seen-event store and the app's small helpers (no network)."""

from __future__ import annotations

import threading
import time

import pytest
from conftest import make_settings

from bot.faces.slack.app import conversation_id
from bot.faces.slack.client import api_base_url
from bot.faces.slack.serve import run
from bot.state.event_ids import SeenEvents
from bot.state.feedback import FeedbackStore


def test_feedback_store_round_trip(tmp_path):
    store = FeedbackStore(tmp_path / "sub" / "state.sqlite3")
    key = store.remember("Q?", "A [1].", ["a1", "a2"], channel="C1", conversation_id="slack:C1:1.2")
    assert len(key) == 12
    stored = store.lookup(key)
    assert (stored.question, stored.answer, stored.article_ids, stored.refused) == ("Q?", "A [1].", ["a1", "a2"], False)
    assert store.lookup("nope") is None
    store.record("Q?", "A [1].", ["a1", "a2"], 1, "U1", "C1", "1.2", key=key)
    store.record("Q?", "A [1].", ["a1", "a2"], -1, "U2", "C1", "1.2", key=key)
    votes = FeedbackStore(tmp_path / "sub" / "state.sqlite3").list()
    assert [(v.vote, v.user, v.key) for v in votes] == [(1, "U1", key), (-1, "U2", key)]
    assert votes[0].article_ids == ["a1", "a2"] and votes[0].created_at > 0
    assert [v.user for v in store.list(limit=1)] == ["U2"]
    with pytest.raises(ValueError):
        store.record("Q", "A", [], 0)


def test_seen_events_are_atomic_across_threads_and_expire(tmp_path):
    seen = SeenEvents(tmp_path / "state.sqlite3")
    firsts = []
    threads = [threading.Thread(target=lambda: firsts.append(seen.first_time("Ev1"))) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(firsts) == [False] * 9 + [True]
    assert "Ev1" in seen and "Ev2" not in seen
    short = SeenEvents(tmp_path / "state.sqlite3", ttl_seconds=0.05)
    time.sleep(0.1)
    assert "Ev1" not in short  # expired
    assert short.first_time("Ev3") is True  # the insert also purged the old ids
    assert short.first_time("Ev1") is True


def test_helpers():
    assert api_base_url("https://slack-gov.com/api") == "https://slack-gov.com/api/"
    assert api_base_url("http://127.0.0.1:9/api/") == "http://127.0.0.1:9/api/"
    assert api_base_url("  ") is None and api_base_url(None) is None
    assert conversation_id("C1", "1.2") == "slack:C1:1.2"
    assert conversation_id("D1", None, dm=True) == "slack:D1:dm"
    assert conversation_id("D1", "3.4", dm=True) == "slack:D1:3.4"


def test_run_explains_missing_credentials(tmp_path):
    settings = make_settings(tmp_path, slack_bot_token="xoxb-x", slack_app_token=None,
                             slack_signing_secret=None)
    with pytest.raises(ValueError, match="SLACK_APP_TOKEN"):
        run(settings, service=None)
    with pytest.raises(ValueError, match="SLACK_SIGNING_SECRET"):
        run(settings, service=None, http=True)
