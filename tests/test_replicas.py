"""Two `spacebot serve` processes sharing one Chroma server and one PostgreSQL database.

Real parts throughout: a `chroma run` server holding a copy of the session's
sample index, the session PostgreSQL server, a fake Slack Web API, and two
`spacebot serve` subprocesses (this checkout's code) on loopback, each with its
own data folder (its own BM25 copy, rebuilt from the server), talked to over
HTTP as a load balancer would. One cluster serves the whole module (starting it
costs most of the time); the test that stops the Chroma server runs last. The
replicas answer on the hybrid path (`SPACEBOT_RERANKER=none`), as fast as
answering gets, so the load test stresses the serving layer, not the CPU.
"""

from __future__ import annotations

import json
import re
import shutil
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from conftest import ChromaServer
from serve_process import serve_process

try:
    from fake_slack import FakeSlack, sign
    from test_slack_app import SECRET, TOKEN, event_envelope, mention_event, new_ts
except ImportError:  # collected as tests.test_replicas
    from tests.fake_slack import FakeSlack, sign
    from tests.test_slack_app import SECRET, TOKEN, event_envelope, mention_event, new_ts

pytestmark = pytest.mark.slow

QUESTION = "who signed the artemis accords for germany?"
# What the load test asks, in turn: answers from different articles, and one refusal (s-015).
LOAD_QUESTIONS = [
    QUESTION,
    "which country was the 40th to sign the artemis accords?",
    "who signed the memorandum on the china-russia lunar station?",
    "how much did the fcc fine viasat over orbital debris?",
]
LOAD_REQUESTS = 200  # the figure
LOAD_CLIENTS = 16  # at most this many requests in flight at once, over both replicas
READY_WAIT = 60  # seconds a restarted Chroma server may take before /readyz must say 200
POLL = 1  # SPACEBOT_INDEX_POLL_SECONDS of the test replicas
FOLLOW_WAIT = 30  # the promise: an article ingested on A is answered by B within 30 s
ARTICLE = """<html><head><title>Freedonia signs the Zorblax Accord</title></head><body><article>
<h1>Freedonia signs the Zorblax Accord</h1>
<p>Freedonia signed the Zorblax Accord on 3 March 2031, pledging to share lunar dust samples.
The accord was signed for Freedonia by Rufus T. Firefly, its minister for space.</p>
<p>The Zorblax Accord commits signatories to publish every lunar sample catalogue.</p>
</article></body></html>"""


@dataclass
class Cluster:
    chroma: ChromaServer
    chroma_path: Path
    replicas: list[str]  # base URLs of replica A and replica B
    slack: FakeSlack


@pytest.fixture(scope="module")
def cluster(sample_settings, postgres_server, tmp_path_factory):
    """A Chroma server over a copy of the sample index, PostgreSQL, a fake Slack and two replicas."""
    root = tmp_path_factory.mktemp("cluster")
    shutil.copytree(sample_settings.chroma_dir, root / "chroma-server")
    cluster = Cluster(ChromaServer(root / "chroma-server"), root / "chroma-server", [], FakeSlack(token=TOKEN).start())
    database = postgres_server.fresh_schema(f"r_{uuid.uuid4().hex[:12]}")
    servers = []
    try:
        for name in ("a", "b"):
            data = root / name / "data"
            shutil.copytree(sample_settings.onnx_dir, data / "model")  # the query model; BM25 comes from the server
            env = {
                "SPACEBOT_DATA_DIR": data,
                "CHROMA_HOST": "127.0.0.1",
                "CHROMA_PORT": cluster.chroma.port,
                "SPACEBOT_DATABASE_URL": database,
                "SPACEBOT_INDEX_POLL_SECONDS": POLL,
                # The hybrid path (~15 ms an answer): the cross-encoder's ~1 s a question would make the
                # 200-question test take minutes, and these tests are about serving, not ranking.
                "SPACEBOT_RERANKER": "none",
                "SPACEBOT_FETCH_ALLOW": "127.0.0.1",  # the test's web server, as an operator's intranet feed
                "SLACK_BOT_TOKEN": TOKEN,
                "SLACK_SIGNING_SECRET": SECRET,
                "SLACK_API_URL": cluster.slack.url,
            }
            servers.append(serve_process(root / name, env))  # both start at once
        cluster.replicas = [server.wait_ready() for server in servers]
        yield cluster
    finally:
        for server in servers:
            server.stop()
        cluster.slack.stop()
        cluster.chroma.stop()  # the one running now (the last test restarts it)


def ask(url: str, question: str, **fields) -> dict:
    reply = httpx.post(url + "/v1/ask", json={"question": question, **fields}, timeout=120)
    assert reply.status_code == 200, reply.text
    return reply.json()


def answers_counted(url: str) -> float:
    """`spacebot_answers_total` as the replica's /metrics reports it."""
    text = httpx.get(url + "/metrics", timeout=30).text
    return float(re.search(r"^spacebot_answers_total (\S+)$", text, re.MULTILINE).group(1))


def test_a_conversation_started_on_one_replica_continues_on_the_other(cluster):
    a, b = cluster.replicas
    first = ask(a, QUESTION)
    conversation = first["conversation_id"]
    assert "Walther Pelzer" in first["answer"]
    second = ask(b, "when did they sign?", conversation_id=conversation)
    assert second["conversation_id"] == conversation and second["refused"] is False
    turns = httpx.get(a + f"/v1/conversations/{conversation}", timeout=60).json()["turns"]
    assert [t["question"] for t in turns] == [QUESTION, "when did they sign?"]
    assert turns[1]["answer"] == second["answer"]


def test_the_same_slack_event_posted_to_both_replicas_is_answered_once(cluster):
    replicas, slack = cluster.replicas, cluster.slack
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
        signed = {"Content-Type": "application/json", **sign(SECRET, fenced)}
        assert httpx.post(url + "/slack/events", content=fenced, timeout=60, headers=signed).status_code == 200
    slack.wait_for(
        lambda calls: {c.params.get("thread_ts") for c in calls if c.method == "chat.postMessage"} >= {ts, *fences},
        timeout=120,
    )
    replies = [c for c in slack.calls("chat.postMessage") if c.params.get("thread_ts") == ts]
    assert len(replies) == 1 and "Walther Pelzer" in json.dumps(replies[0].params)


def test_an_article_ingested_through_one_replica_is_answered_by_the_other(cluster):
    from web_fixture import Site

    a, b = cluster.replicas
    question = "who signed the zorblax accord for freedonia?"
    assert "Firefly" not in ask(b, question)["answer"]
    site = Site()
    try:
        url = site.add("/zorblax.html", ARTICLE)
        submitted = httpx.post(a + "/v1/ingest", json={"urls": [url]}, timeout=60)
        assert submitted.status_code == 202
        job = wait_for_job(b, submitted.json()["job_id"])  # the job's row is in PostgreSQL: B reads it too
    finally:
        site.close()
    summary = job["result"]
    assert job["state"] == "done" and summary["new"] == 1 and summary["failed"] == []
    deadline = time.monotonic() + FOLLOW_WAIT
    while "Firefly" not in (answer := ask(b, question))["answer"]:
        assert time.monotonic() < deadline, f"replica B never answered from the new article: {answer}"
        time.sleep(POLL)
    assert "Rufus T. Firefly" in answer["answer"] and answer["citations"][0]["url"] == url


def wait_for_job(url: str, job_id: str, timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while (job := httpx.get(f"{url}/v1/jobs/{job_id}", timeout=30).json())["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline, job
        time.sleep(0.5)
    return job


def test_two_hundred_concurrent_questions_over_both_replicas_are_all_answered(cluster):
    a, b = cluster.replicas
    counted_before = [answers_counted(a), answers_counted(b)]
    limits = httpx.Limits(max_connections=LOAD_CLIENTS, max_keepalive_connections=LOAD_CLIENTS)
    clients = [httpx.Client(base_url=url, timeout=120, limits=limits) for url in (a, b)]

    def one(i: int) -> tuple[int, str, dict | str]:
        question = LOAD_QUESTIONS[i % len(LOAD_QUESTIONS)]
        try:
            reply = clients[i % 2].post("/v1/ask", json={"question": question})
        except httpx.TransportError as exc:  # a reset or a dropped connection counts as lost
            return -1, question, repr(exc)
        return reply.status_code, question, reply.json() if reply.status_code == 200 else reply.text

    try:
        with ThreadPoolExecutor(LOAD_CLIENTS) as pool:
            results = list(pool.map(one, range(LOAD_REQUESTS)))
    finally:
        for client in clients:
            client.close()
    failed = [(status, body) for status, _, body in results if status != 200]
    assert failed == [], f"{len(failed)} of {LOAD_REQUESTS} not answered, e.g. {failed[:3]}"
    expected = {q: ask(a, q) for q in LOAD_QUESTIONS}  # the answer each question gets when asked alone
    for _, question, body in results:
        assert body["answer"] == expected[question]["answer"] and body["refused"] == expected[question]["refused"]
    # None lost: each replica counted its half, and every conversation is stored once, readable anywhere.
    counted = [answers_counted(a) - counted_before[0], answers_counted(b) - counted_before[1]]
    assert counted == [LOAD_REQUESTS / 2 + len(LOAD_QUESTIONS), LOAD_REQUESTS / 2]
    conversations = {body["conversation_id"] for _, _, body in results}
    assert len(conversations) == LOAD_REQUESTS
    with httpx.Client(base_url=b, timeout=60) as reader:
        for _, question, body in results:
            turns = reader.get(f"/v1/conversations/{body['conversation_id']}").json()["turns"]
            assert [t["question"] for t in turns] == [question]


def test_readyz_follows_the_chroma_server(cluster):
    """Runs last in the module: it stops the shared Chroma server (and starts it again)."""
    a, _ = cluster.replicas
    assert httpx.get(a + "/readyz", timeout=60).status_code == 200
    cluster.chroma.stop()
    down = httpx.get(a + "/readyz", timeout=60)
    assert down.status_code == 503 and down.json()["state"] == "ok"
    assert httpx.post(a + "/v1/ask", json={"question": QUESTION}, timeout=60).status_code == 503
    cluster.chroma = ChromaServer(cluster.chroma_path, port=cluster.chroma.port)
    deadline = time.monotonic() + READY_WAIT
    while (status := httpx.get(a + "/readyz", timeout=60).status_code) != 200 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert status == 200
    assert "Walther Pelzer" in ask(a, QUESTION)["answer"]
