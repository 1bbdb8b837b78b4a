"""What a remote caller can make `spacebot serve` do, through a real `spacebot serve` over HTTP.

Two loopback web servers stand in for the network the server runs in: `allowed`
on 127.0.0.2 (named in SPACEBOT_FETCH_ALLOW, an operator's intranet feed) and
`sentinel` on 127.0.0.1, which no URL a caller sends, however it is spelled,
redirected or linked, may ever reach: every test that involves it ends by
asserting it received zero requests.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import httpx
import pytest
from conftest import ROOT, free_port
from serve_process import serve_process
from web_fixture import Site

pytestmark = pytest.mark.slow

ALLOWED_HOST = "127.0.0.2"
TOKENS = {"alice": "tok-alice-7d2e", "bob": "tok-bob-91c4"}
REVOKED = "tok-carol-3a1f"  # carol's token, taken off SPACEBOT_API_TOKENS
RATE = "2/second"
JOB_WAIT = 120  # seconds for an ingest job to finish on a busy 2-core machine


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[name]}"}


def page(title: str, text: str) -> str:
    body = f"<article><h1>{title}</h1><p>{text}</p></article>"
    return f"<html><head><title>{title}</title></head><body>{body}</body></html>"


def rss(title: str, items: list[tuple[str, str, str]]) -> str:
    """An RSS feed of `(title, link, summary)` items."""
    entries = "".join(
        f"<item><title>{html.escape(t)}</title><link>{html.escape(link)}</link>"
        f"<description>{html.escape(s)}</description><pubDate>Wed, 10 Apr 2024 10:00:00 GMT</pubDate></item>"
        for t, link, s in items
    )
    return f'<?xml version="1.0"?><rss version="2.0"><channel><title>{title}</title>{entries}</channel></rss>'


@pytest.fixture(scope="module")
def sentinel():
    site = Site("127.0.0.1")
    site.add("/feed.xml", rss("Secret", [("Internal memo", "http://127.0.0.1/memo", "x " * 40)]), "application/rss+xml")
    yield site
    site.close()


@pytest.fixture(scope="module")
def allowed():
    site = Site(ALLOWED_HOST)
    yield site
    site.close()


class Server:
    """`spacebot serve` over a copy of the sample index, restartable on the same data."""

    def __init__(self, root, env):
        self.root, self.env, self.process, self.url = root, env, None, None

    def start(self) -> str:
        self.process = serve_process(self.root / f"run{time.monotonic_ns()}", self.env)
        self.url = self.process.wait_ready()
        return self.url

    def kill(self) -> None:
        os.killpg(self.process.proc.pid, signal.SIGKILL)
        self.process.proc.wait()


@pytest.fixture(scope="module")
def server(sample_settings, tmp_path_factory):
    root = tmp_path_factory.mktemp("security")
    shutil.copytree(sample_settings.data_dir, root / "data", ignore=shutil.ignore_patterns("state.sqlite3*"))
    env = {
        "SPACEBOT_DATA_DIR": root / "data",
        "SPACEBOT_RERANKER": "none",
        "SPACEBOT_API_TOKENS": ",".join(f"{name}:{token}" for name, token in TOKENS.items()),
        "SPACEBOT_FETCH_ALLOW": ALLOWED_HOST,
        "SPACEBOT_API_RATE": RATE,
        "SPACEBOT_JOB_STALE_SECONDS": "600",  # a cut-off job is found by its dead pid, not by waiting
    }
    server = Server(root, env)
    server.start()
    try:
        yield server
    finally:
        server.process.stop()


def post_ingest(server: Server, urls: list[str], follow_links: bool = False, who: str = "alice") -> str:
    """POST /v1/ingest (waiting out a 429 of the test's own making); the job id."""
    while True:
        reply = httpx.post(
            server.url + "/v1/ingest", json={"urls": urls, "follow_links": follow_links}, headers=auth(who), timeout=60
        )
        if reply.status_code != 429:
            break
        time.sleep(float(reply.headers["retry-after"]))
    assert reply.status_code == 202, reply.text
    body = reply.json()
    assert reply.headers["location"] == body["status_url"] == f"/v1/jobs/{body['job_id']}"
    return body["job_id"]


def wait_for_job(server: Server, job_id: str, seen: list | None = None) -> dict:
    """Poll the job until it is done or failed; every state seen is appended to `seen`."""
    deadline = time.monotonic() + JOB_WAIT
    while True:
        job = httpx.get(f"{server.url}/v1/jobs/{job_id}", headers=auth("alice"), timeout=30).json()
        if seen is not None:
            seen.append(job)
        if job["state"] in ("done", "failed"):
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)


def failures(job: dict) -> dict[str, str]:
    return {f["input"]: f["error"] for f in job["result"]["failed"]}


# --------------------------------------------------------------------------- the fetch guard

SPELLINGS = [
    "http://127.0.0.1:{port}/feed.xml",
    "http://localhost:{port}/feed.xml",
    "http://2130706433:{port}/feed.xml",  # decimal
    "http://127.1:{port}/feed.xml",  # short
    "http://0x7f.0.0.1:{port}/feed.xml",  # hex
    "http://0x7f000001:{port}/feed.xml",
    "http://[::ffff:127.0.0.1]:{port}/feed.xml",  # IPv4-mapped IPv6
    "http://[::ffff:7f00:1]:{port}/feed.xml",
    "http://[::1]:{port}/feed.xml",
    "http://0.0.0.0:{port}/feed.xml",  # unspecified: Linux connects it to loopback
    "http://user@127.0.0.1:{port}/feed.xml",
    "HTTP://127.0.0.1:{port}/feed.xml",
    "http://169.254.169.254/latest/meta-data/",  # cloud instance metadata
    "http://10.0.0.1:{port}/feed.xml",
    "http://[fe80::1]:{port}/feed.xml",
    "http://224.0.0.1:{port}/feed.xml",
]


def test_every_spelling_of_a_private_address_is_refused_and_never_reached(server, sentinel):
    port = sentinel.server.server_address[1]
    urls = [u.format(port=port) for u in SPELLINGS]
    job = wait_for_job(server, post_ingest(server, urls))
    assert job["state"] == "done" and job["result"]["new"] == 0
    refused = failures(job)
    assert set(refused) == set(urls)
    for url, reason in refused.items():
        assert "not allowed" in reason and reason.endswith("see SPACEBOT_FETCH_ALLOW"), (url, reason)
    assert refused[urls[0]].startswith("private address 127.0.0.1 not allowed")
    assert "169.254.169.254" in refused["http://169.254.169.254/latest/meta-data/"]
    assert sentinel.take_requests() == []


def test_the_allow_list_lets_the_operators_feed_in(server, allowed, sentinel):
    feed = allowed.add(
        "/intranet.xml",
        rss(
            "Intranet",
            [
                ("Quarterly launch review", allowed.base + "/review", "The quarterly launch review " * 8),
                ("Budget memo", allowed.base + "/budget", "The budget memo for the launch office " * 8),
            ],
        ),
        "application/rss+xml",
    )
    job = wait_for_job(server, post_ingest(server, [feed]))
    assert job["state"] == "done" and job["result"]["new"] == 2 and job["result"]["failed"] == []
    assert [r.path for r in allowed.take_requests()] == ["/intranet.xml"]
    assert sentinel.take_requests() == []


def test_a_redirect_from_an_allowed_host_to_a_private_one_is_refused(server, allowed, sentinel):
    target = f"{sentinel.base}/feed.xml"
    url = allowed.redirect("/moved.xml", target)
    job = wait_for_job(server, post_ingest(server, [url]))
    reason = failures(job)[url]
    assert reason.startswith(f"redirected to {target}: private address 127.0.0.1 not allowed"), reason
    assert [r.path for r in allowed.take_requests()] == ["/moved.xml"]
    assert sentinel.take_requests() == []


def test_followed_links_to_private_addresses_are_refused(server, allowed, sentinel):
    inside = f"http://2130706433:{sentinel.server.server_address[1]}/memo"
    feed = allowed.add(
        "/links.xml",
        rss("Links", [("A story with a private link", inside, "The story's summary names the private page " * 6)]),
        "application/rss+xml",
    )
    job = wait_for_job(server, post_ingest(server, [feed], follow_links=True))
    assert job["result"]["new"] == 1  # the feed's summary, indexed instead
    assert failures(job)[inside].startswith("private address 127.0.0.1 (host 2130706433) not allowed")
    assert sentinel.take_requests() == []


# --------------------------------------------------------------------------- jobs


def test_an_ingest_is_a_job_with_progress_and_the_cli_result(server, allowed):
    url = allowed.add("/slow.html", page("Slow page", "A slow page about the lunar gateway budget. " * 10), delay=2)
    job_id = post_ingest(server, [url])
    seen: list[dict] = []
    job = wait_for_job(server, job_id, seen)
    assert job["state"] == "done" and job["error"] is None
    assert any(s["state"] == "running" and s["progress"].get("stage") == "reading inputs" for s in seen), seen
    assert job["progress"]["stage"] == "done" and job["progress"]["read"] == 1
    cli_keys = {"new", "changed", "unchanged", "removed", "chunks", "failed", "warnings", "repaired"}
    assert cli_keys | {"total_articles", "total_chunks", "seconds", "index"} == set(job["result"])
    assert job["result"]["new"] == 1 and job["request"] == {"urls": [url], "follow_links": False}
    missing = httpx.get(server.url + "/v1/jobs/nope", headers=auth("alice"), timeout=30)
    assert missing.status_code == 404


def test_a_job_cut_off_by_a_restart_is_marked_failed(server, allowed):
    url = allowed.add("/stuck.html", page("Stuck", "A page that never finishes loading. " * 10), delay=60)
    job_id = post_ingest(server, [url])
    deadline = time.monotonic() + 30
    while not allowed.take_requests():  # the job is fetching
        assert time.monotonic() < deadline
        time.sleep(0.1)
    server.kill()
    server.start()
    job = httpx.get(f"{server.url}/v1/jobs/{job_id}", headers=auth("alice"), timeout=30).json()
    assert job["state"] == "failed" and job["error"].startswith("cut off: the server process running it stopped")


# --------------------------------------------------------------------------- tokens and rate limits


def test_a_revoked_token_gets_401_while_another_works(server):
    revoked = httpx.get(server.url + "/v1/sources", headers={"Authorization": f"Bearer {REVOKED}"}, timeout=30)
    assert revoked.status_code == 401
    assert httpx.get(server.url + "/v1/sources", headers=auth("bob"), timeout=30).status_code == 200
    metrics = httpx.get(server.url + "/metrics", timeout=30).text
    assert re.search(r'^spacebot_api_requests_by_token_total\{token="bob"\} [1-9]', metrics, re.MULTILINE)
    assert not any(token in metrics for token in [*TOKENS.values(), REVOKED])


def test_the_rate_limit_answers_429_with_retry_after_and_recovers(server):
    replies = [httpx.get(server.url + "/v1/sources", headers=auth("bob"), timeout=30) for _ in range(6)]
    limited = [r for r in replies if r.status_code == 429]
    assert limited and all(r.status_code in (200, 429) for r in replies)  # 6 in well under 2 windows of 2
    assert limited[0].headers["retry-after"] == "1" and "SPACEBOT_API_RATE" in limited[0].json()["error"]
    assert httpx.get(server.url + "/v1/sources", headers=auth("alice"), timeout=30).status_code == 200  # per token
    time.sleep(float(limited[-1].headers["retry-after"]))
    assert httpx.get(server.url + "/v1/sources", headers=auth("bob"), timeout=30).status_code == 200


# --------------------------------------------------------------------------- no open server by accident


def serve_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "bot.faces.cli", "serve", "--port", str(free_port()), *args]


def clean_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SPACEBOT_", "SLACK_", "CHROMA_"))}
    return env | {"PYTHONPATH": str(ROOT), "SPACEBOT_DATA_DIR": str(tmp_path)}


def test_serving_a_public_interface_without_a_token_refuses_to_start(tmp_path):
    done = subprocess.run(
        serve_command("--host", "0.0.0.0"),
        env=clean_env(tmp_path),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,  # it must exit at once; a server that starts instead fails here
    )
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: refusing to serve 0.0.0.0 without a token")
    assert "SPACEBOT_API_TOKENS" in lines[0]


def test_no_auth_serves_a_public_interface_with_a_warning(tmp_path):
    port = free_port()
    command = [sys.executable, "-m", "bot.faces.cli", "serve", "--host", "0.0.0.0", "--port", str(port), "--no-auth"]
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=clean_env(tmp_path), cwd=tmp_path, stdout=out, stderr=out)
    try:
        deadline = time.monotonic() + 120
        while "with no token (--no-auth)" not in log.read_text():
            assert process.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
    finally:
        process.terminate()
        process.wait(30)
