"""Two API replicas sharing one Chroma server and one PostgreSQL database.

Real parts throughout: a `chroma run` server holding a copy of the session's
sample index, the session PostgreSQL server, two apps each under its own
uvicorn on loopback with its own data folder (its own BM25 copy, rebuilt from
the server), talked to over HTTP.
"""

from __future__ import annotations

import json
import shutil
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from api_server import serving
from conftest import ChromaServer, make_settings

from bot.faces.api.app import create_app

try:
    from test_slack_app import (
        SECRET,
        TOKEN,
        event_envelope,
        fake,
        mention_event,
        new_ts,
    )
except ImportError:  # collected as tests.test_slack_app
    from tests.test_slack_app import (  # noqa: F401
        SECRET,
        TOKEN,
        event_envelope,
        fake,
        mention_event,
        new_ts,
    )
try:
    from fake_slack import sign
except ImportError:
    from tests.fake_slack import sign

pytestmark = pytest.mark.slow

QUESTION = "who signed the artemis accords for germany?"
READY_WAIT = 60  # seconds a restarted Chroma server may take before /readyz must say 200
POLL = 1  # SPACEBOT_INDEX_POLL_SECONDS of the test replicas
FOLLOW_WAIT = 30  # the promise: an article ingested on A is answered by B within 30 s
ARTICLE = """<html><head><title>Freedonia signs the Zorblax Accord</title></head><body><article>
<h1>Freedonia signs the Zorblax Accord</h1>
<p>Freedonia signed the Zorblax Accord on 3 March 2031, pledging to share lunar dust samples.
The accord was signed for Freedonia by Rufus T. Firefly, its minister for space.</p>
<p>The Zorblax Accord commits signatories to publish every lunar sample catalogue.</p>
</article></body></html>"""


@pytest.fixture()
def cluster(sample_settings, postgres_server, tmp_path, fake):
    """(chroma server, [replica A URL, replica B URL]) over a copy of the sample index."""
    shutil.copytree(sample_settings.chroma_dir, tmp_path / "chroma-server")
    chroma = ChromaServer(tmp_path / "chroma-server")
    database = postgres_server.fresh_schema(f"r_{uuid.uuid4().hex[:12]}")
    apps = []
    for name in ("a", "b"):
        data = tmp_path / name
        shutil.copytree(sample_settings.onnx_dir, data / "model")  # the query model; BM25 comes from the server
        settings = make_settings(
            data,
            CHROMA_HOST="127.0.0.1",
            CHROMA_PORT=chroma.port,
            SPACEBOT_DATABASE_URL=database,
            SPACEBOT_INDEX_POLL_SECONDS=POLL,
            SLACK_BOT_TOKEN=TOKEN,
            SLACK_SIGNING_SECRET=SECRET,
            SLACK_API_URL=fake.url,
        )
        apps.append(create_app(settings))
    try:
        with serving(apps[0]) as a, serving(apps[1]) as b:
            yield chroma, [a, b]
    finally:
        chroma.stop()


def test_a_conversation_started_on_one_replica_continues_on_the_other(cluster):
    _, (a, b) = cluster
    first = httpx.post(a + "/v1/ask", json={"question": QUESTION}, timeout=60).json()
    conversation = first["conversation_id"]
    assert "Walther Pelzer" in first["answer"]
    second = httpx.post(
        b + "/v1/ask", json={"question": "when did they sign?", "conversation_id": conversation}, timeout=60
    )
    assert second.status_code == 200
    turns = httpx.get(a + f"/v1/conversations/{conversation}", timeout=60).json()["turns"]
    assert [t["question"] for t in turns] == [QUESTION, "when did they sign?"]
    assert turns[1]["answer"] == second.json()["answer"]


def test_readyz_follows_the_chroma_server(cluster, tmp_path):
    chroma, (a, _) = cluster
    assert httpx.get(a + "/readyz", timeout=60).status_code == 200
    chroma.stop()
    down = httpx.get(a + "/readyz", timeout=60)
    assert down.status_code == 503 and down.json()["state"] == "ok"
    assert httpx.post(a + "/v1/ask", json={"question": QUESTION}, timeout=60).status_code == 503
    restarted = ChromaServer(tmp_path / "chroma-server", port=chroma.port)
    try:
        deadline = time.monotonic() + READY_WAIT
        while (status := httpx.get(a + "/readyz", timeout=60).status_code) != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert status == 200
        assert "Walther Pelzer" in httpx.post(a + "/v1/ask", json={"question": QUESTION}, timeout=60).json()["answer"]
    finally:
        restarted.stop()


def test_the_same_slack_event_posted_to_both_replicas_is_answered_once(cluster, fake):
    _, replicas = cluster
    ts = new_ts()
    body = json.dumps(event_envelope(mention_event(QUESTION, ts)))
    headers = {"Content-Type": "application/json", **sign(SECRET, body)}

    def deliver(url: str) -> int:
        return httpx.post(url + "/slack/events", content=body, headers=headers, timeout=60).status_code

    with ThreadPoolExecutor(4) as pool:  # twice to each replica, all at once
        statuses = list(pool.map(deliver, replicas * 2))
    assert statuses == [200] * 4  # every delivery acknowledged; duplicates were dropped before the ack
    # A fence: one later question on each replica, answered after any duplicate answer would have started.
    fences = [new_ts(), new_ts()]
    for url, fence in zip(replicas, fences):
        fenced = json.dumps(event_envelope(mention_event(QUESTION, fence)))
        assert (
            httpx.post(
                url + "/slack/events",
                content=fenced,
                timeout=60,
                headers={"Content-Type": "application/json", **sign(SECRET, fenced)},
            ).status_code
            == 200
        )
    fake.wait_for(
        lambda calls: {c.params.get("thread_ts") for c in calls if c.method == "chat.postMessage"} >= {ts, *fences},
        timeout=120,
    )
    replies = [c for c in fake.calls("chat.postMessage") if c.params.get("thread_ts") == ts]
    assert len(replies) == 1 and "Walther Pelzer" in json.dumps(replies[0].params)


def test_an_article_ingested_through_one_replica_is_answered_by_the_other(cluster):
    from web_fixture import Site

    _, (a, b) = cluster
    question = "who signed the zorblax accord for freedonia?"
    assert "Firefly" not in httpx.post(b + "/v1/ask", json={"question": question}, timeout=60).text
    site = Site()
    try:
        url = site.add("/zorblax.html", ARTICLE)
        summary = httpx.post(a + "/v1/ingest", json={"urls": [url]}, timeout=300).json()
    finally:
        site.close()
    assert summary["new"] == 1 and summary["failed"] == []
    deadline = time.monotonic() + FOLLOW_WAIT
    while (
        "Firefly" not in (answer := httpx.post(b + "/v1/ask", json={"question": question}, timeout=60).json())["answer"]
    ):
        assert time.monotonic() < deadline, f"replica B never answered from the new article: {answer}"
        time.sleep(POLL)
    assert "Rufus T. Firefly" in answer["answer"] and answer["citations"][0]["url"] == url
