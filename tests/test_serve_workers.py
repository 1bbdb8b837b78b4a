"""`spacebot serve --workers 2` as a real subprocess: both workers answer, /metrics counts for both.

The server reads a copy of the session's sample index (embedded Chroma, SQLite
state) and answers on the hybrid path (`SPACEBOT_RERANKER=none`, ~15 ms an
answer), since what is under test is the serving, not the ranking.
"""

from __future__ import annotations

import re
import shutil
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from serve_process import serve_process

pytestmark = pytest.mark.slow

QUESTION = "who signed the artemis accords for germany?"
WORKERS = 2
BATCH = 16  # questions sent at once, each on a new connection, until both workers have answered
MAX_BATCHES = 10  # the kernel hands connections to whichever worker accepts first; this many rounds is plenty
WORKER_HEADER = "X-Spacebot-Worker"


@pytest.fixture(scope="module")
def server(sample_settings, tmp_path_factory):
    root = tmp_path_factory.mktemp("workers")
    shutil.copytree(sample_settings.data_dir, root / "data", ignore=shutil.ignore_patterns("state.sqlite3*"))
    process = serve_process(root, {"SPACEBOT_DATA_DIR": root / "data", "SPACEBOT_RERANKER": "none"}, workers=WORKERS)
    try:
        yield process.wait_ready()
    finally:
        process.stop()


def ask_on_a_new_connection(url: str) -> httpx.Response:
    return httpx.post(url + "/v1/ask", json={"question": QUESTION}, timeout=120)


def answers_total(metrics_text: str) -> float:
    return float(re.search(r"^spacebot_answers_total (\S+)$", metrics_text, re.MULTILINE).group(1))


def test_both_workers_answer_and_metrics_count_them_all(server):
    replies: list[httpx.Response] = []
    with ThreadPoolExecutor(BATCH) as pool:
        for _ in range(MAX_BATCHES):
            replies += pool.map(ask_on_a_new_connection, [server] * BATCH)
            if len({r.headers[WORKER_HEADER] for r in replies}) == WORKERS:
                break
    assert all(r.status_code == 200 and "Walther Pelzer" in r.json()["answer"] for r in replies)
    assert len({r.headers[WORKER_HEADER] for r in replies}) == WORKERS, "one worker answered everything"
    # Whichever worker a scrape reaches, it reports the answers of both.
    scrapes: dict[str, float] = {}
    with ThreadPoolExecutor(BATCH) as pool:
        for _ in range(MAX_BATCHES):
            for reply in pool.map(lambda _: httpx.get(server + "/metrics", timeout=30), range(BATCH)):
                scrapes[reply.headers[WORKER_HEADER]] = answers_total(reply.text)
            if len(scrapes) == WORKERS:
                break
    assert scrapes == {pid: float(len(replies)) for pid in {r.headers[WORKER_HEADER] for r in replies}}
