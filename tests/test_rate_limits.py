"""Rate limits and ingest job rows on both state backends (SQLite file, real PostgreSQL).

Two `Database` engines on one database stand for two replicas; time moves by a fake clock.
"""

from __future__ import annotations

import threading

import pytest
from conftest import FakeClock

from bot.state.db import Database, sqlalchemy_url
from bot.state.jobs import JobStore
from bot.state.rate_limits import Rate, RateLimiter


def test_rates_parse_and_a_bad_one_names_its_variable():
    assert Rate.parse("60/minute") == Rate(60, 60.0)
    assert Rate.parse("2/second") == Rate(2, 1.0)
    assert Rate.parse("10 / 5 minutes") == Rate(10, 300.0)
    for bad in ("", "60", "0/minute", "60/fortnight", "many/minute"):
        with pytest.raises(ValueError, match="SPACEBOT_API_RATE"):
            Rate.parse(bad, "SPACEBOT_API_RATE")


def test_the_limit_holds_across_replicas_and_threads_and_recovers_after_the_window(state_target):
    clock = FakeClock(1_700_000_080.0)  # 40 s into a minute window
    replicas = [
        RateLimiter(Rate(5, 60.0), state_target, scope="api", clock=clock),
        RateLimiter(Rate(5, 60.0), Database(sqlalchemy_url(state_target)), scope="api", clock=clock),
    ]
    barrier, answers = threading.Barrier(12), []

    def one(i: int) -> None:
        barrier.wait()
        answers.append(replicas[i % 2].hit("alice"))

    threads = [threading.Thread(target=one, args=(i,)) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    refused = [a for a in answers if a is not None]
    assert len(refused) == 7  # 5 of 12 let through, whichever replica they reached
    assert {a.header for a in refused} == {"20"}  # the window resets 20 s from now
    assert replicas[0].hit("bob") is None  # per key
    assert RateLimiter(Rate(5, 60.0), state_target, scope="slack", clock=clock).hit("alice") is None  # per scope
    clock.advance(20)
    assert replicas[1].hit("alice") is None


def test_without_a_database_the_limit_is_kept_in_memory():
    clock = FakeClock(1_700_000_000.0)
    limiter = RateLimiter(Rate(2, 1.0), clock=clock)
    assert [limiter.hit("k") for _ in range(2)] == [None, None]
    assert limiter.hit("k").header == "1"
    clock.advance(1)
    assert limiter.hit("k") is None


def test_a_job_goes_from_queued_to_done_with_its_result(state_target):
    store = JobStore(state_target)
    job_id = store.create({"urls": ["https://example.org/a"], "follow_links": False}, "alice")
    assert store.get(job_id)["state"] == "queued"
    store.start(job_id)
    store.progress(job_id, {"stage": "reading inputs", "read": 1})
    assert store.get(job_id)["progress"] == {"stage": "reading inputs", "read": 1}
    store.finish(job_id, {"new": 1, "failed": []}, {"stage": "done"})
    job = store.get(job_id)
    assert job["state"] == "done" and job["result"] == {"new": 1, "failed": []} and job["finished_at"]
    assert store.get("no-such-job") is None


def test_a_job_whose_runner_went_silent_is_failed_by_another_replica(state_target):
    clock = FakeClock()
    running = JobStore(state_target, stale_seconds=60, clock=clock)
    other = JobStore(Database(sqlalchemy_url(state_target)), stale_seconds=60, clock=clock)
    running.runner = "elsewhere:1:0"  # a replica on another host
    job_id = running.create({"urls": []}, "alice")
    running.start(job_id)
    clock.advance(50)
    running.heartbeat()
    clock.advance(50)
    assert other.get(job_id)["state"] == "running"  # heard from 50 s ago
    clock.advance(20)
    job = other.get(job_id)
    assert job["state"] == "failed" and job["error"].startswith("cut off: the server process running it stopped")
    assert "no heartbeat for 70 s" in job["error"]


def test_a_job_of_a_dead_process_on_this_host_is_failed_at_the_next_start(state_target):
    import socket

    store = JobStore(state_target, stale_seconds=3600)
    store.runner = f"{socket.gethostname()}:999999999:0"  # a pid no process has
    job_id = store.create({"urls": []}, "alice")
    restarted = JobStore(Database(sqlalchemy_url(state_target)), stale_seconds=3600)
    assert restarted.fail_stale() == 1
    assert "it was restarted or killed" in restarted.get(job_id)["error"]
