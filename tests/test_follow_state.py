"""Follows, alerts, channel sources and briefs in the state store, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

from conftest import FakeClock

from bot.state.channels import BriefSchedule, ChannelStore
from bot.state.follows import CHANNEL, USER, FollowStore


def test_follows_are_kept_per_channel_and_user(state_target):
    clock = FakeClock()
    store = FollowStore(state_target, clock=clock)
    first = store.add(CHANNEL, "C1", "C1", "artemis accords signatories", "U1")
    clock.advance(5)
    again = store.add(CHANNEL, "C1", "C1", "artemis accords signatories", "U2")
    store.add(CHANNEL, "C2", "C2", "mars sample return", "U1")
    mine = store.add(USER, "U1", "D1", "lunar gateway", "U1")
    assert again == first and again.created_at == clock.now - 5  # no second follow, its first time kept
    assert [f.topic for f in store.of(CHANNEL, "C1")] == ["artemis accords signatories"]
    assert [f.topic for f in store.of(USER, "U1")] == ["lunar gateway"]
    assert [f.owner for f in store.of_channels(["C1", "C2"])] == ["C1", "C2"]
    assert store.remove(mine.id) and not store.remove(mine.id)
    assert store.get(mine.id) is None and len(store.all()) == 2


def test_one_alert_per_follow_and_story_even_when_raced(state_target):
    store = FollowStore(state_target)
    follow = store.add(CHANNEL, "C1", "C1", "artemis")
    wins = []

    def claim():
        wins.append(FollowStore(state_target).claim_alert(follow, "story-a", "a1", "Title"))

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert wins.count(True) == 1
    assert store.alerted_any(follow.id, ["a9", "a1"]) and not store.alerted_any(follow.id, ["a9"])
    assert store.alerts_since("C1", 0) == 1
    assert [a.title for a in store.last_alerts(["C1"])] == ["Title"]


def test_cursor_moves_forward_only(state_target):
    store = FollowStore(state_target)
    assert store.cursor("alerts") is None
    store.advance_cursor("alerts", 10.0)
    store.advance_cursor("alerts", 5.0)
    assert store.cursor("alerts") == 10.0
    store.mark_checked("a1", 12.0)
    store.mark_checked("a1", 12.0)
    assert store.checked(11.0) == {("a1", 12.0)} and store.checked(13.0) == set()


def test_channel_sources_schedules_and_briefs(state_target):
    clock = FakeClock()
    store = ChannelStore(state_target, clock=clock)
    assert store.sources("C1") is None
    store.set_sources("C1", ["NASA", "White House", "NASA"], "U1")
    assert store.sources("C1") == ["NASA", "White House"]
    store.set_sources("C1", None)
    assert store.sources("C1") is None
    store.set_schedule(BriefSchedule("C1", "weekly", 0, 8, 30, "Europe/Paris"))
    assert store.schedule("C1") == BriefSchedule("C1", "weekly", 0, 8, 30, "Europe/Paris", clock.now)
    assert store.claim_brief("C1", 1000.0) and not store.claim_brief("C1", 1000.0)
    assert store.last_brief("C1") == clock.now and store.last_brief("C2") is None
    assert store.clear_schedule("C1") and store.schedules() == []
