"""The HTTP API (`spacebot serve`) through real HTTP: uvicorn on loopback, httpx, the sample index.

Answers come from the real answering core over the session's sample index;
only the LLM in the streaming test is a canned loopback server, so the test
can hold the stream open and see tokens arrive before the answer is done.
"""

from __future__ import annotations

import json
import threading

import httpx
import pytest
from api_server import serving
from conftest import free_port, make_settings

from bot.core.service import (
    MAX_QUESTION_CHARS,
    AnswerService,
    QuestionError,
    check_question,
)
from bot.faces.api.app import create_app

pytestmark = pytest.mark.slow

TOKEN = "test-api-token-5f1c"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
QUESTION = "who signed the artemis accords for germany?"
UNANSWERABLE = "how much did the fcc fine viasat over orbital debris?"  # s-015: refused


@pytest.fixture(scope="module")
def api(sample_service, tmp_path_factory):
    """The API over the sample index, with its own state file and a bearer token."""
    settings = make_settings(tmp_path_factory.mktemp("api"), SPACEBOT_API_TOKEN=TOKEN)
    service = AnswerService(settings, index=sample_service.index)
    with serving(create_app(settings, service)) as url, httpx.Client(base_url=url, headers=AUTH, timeout=60) as client:
        yield client


def cli_message(question: str) -> str:
    with pytest.raises(QuestionError) as caught:
        check_question(question)
    return str(caught.value)


def test_ask_returns_the_cli_json_and_a_conversation_that_continues(api, sample_service):
    reply = api.post("/v1/ask", json={"question": QUESTION})
    assert reply.status_code == 200
    body = reply.json()
    expected = sample_service.answer(QUESTION).to_dict()  # what `spacebot ask --json` prints
    conversation = body.pop("conversation_id")
    assert body == expected and "Walther Pelzer" in body["answer"] and body["citations"][0]["url"]
    follow_up = api.post("/v1/ask", json={"question": "when did they sign?", "conversation_id": conversation})
    assert follow_up.status_code == 200 and follow_up.json()["conversation_id"] == conversation
    turns = api.get(f"/v1/conversations/{conversation}").json()["turns"]
    assert [t["question"] for t in turns] == [QUESTION, "when did they sign?"]
    assert turns[0]["article_ids"][0] == expected["citations"][0]["article_id"]
    assert api.get("/v1/conversations/never-started").status_code == 404


def test_filters_and_k_reach_the_answer(api):
    only_nasa = api.post("/v1/ask", json={"question": QUESTION, "source": "nasa", "k": 2}).json()
    assert all(c["source"] == "nasa" for c in only_nasa["citations"])
    future = api.post("/v1/ask", json={"question": QUESTION, "since": "2099-01-01"}).json()
    assert future["refused"] is True and future["citations"] == []
    recent = api.post("/v1/ask", json={"question": QUESTION, "since": "2w"}).json()  # the CLI's relative forms
    assert recent["refused"] is True and recent["citations"] == []  # every sample article is years old
    assert api.post("/v1/ask", json={"question": QUESTION, "until": "last month"}).json()["citations"]
    bad = api.post("/v1/ask", json={"question": QUESTION, "until": "soon"})
    assert bad.status_code == 400
    assert "'soon' is not a date like 2024-01-31, 7d, 2w or last month" in bad.json()["error"]
    assert "\n" not in bad.json()["error"]


def test_sources_lists_the_index_like_the_cli(api, sample_settings):
    from ingest.inventory import take_inventory
    from ingest.store import ChunkStore

    reply = api.get("/v1/sources")
    assert reply.status_code == 200
    assert reply.json() == take_inventory(ChunkStore(sample_settings, create=False)).to_dict()


@pytest.mark.parametrize("question", ["", "   ", "?!? ...", "why " * (MAX_QUESTION_CHARS // 4 + 10)])
def test_a_bad_question_is_a_400_with_the_cli_message(api, question):
    reply = api.post("/v1/ask", json={"question": question})
    assert reply.status_code == 400
    assert reply.json() == {"error": cli_message(question)}


def test_a_malformed_body_is_a_400_naming_the_field(api):
    reply = api.post("/v1/ask", json={"question": QUESTION, "k": 0})
    assert reply.status_code == 400 and "k" in reply.json()["error"]
    assert api.post("/v1/ask", content=b"{not json", headers={"Content-Type": "application/json"}).status_code == 400
    assert api.post("/v1/ingest", json={"urls": ["/etc/passwd"]}).status_code == 400  # no server-side files


def test_v1_needs_the_bearer_token_but_health_does_not(api):
    url = str(api.base_url)
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
    ):
        for method, path in (
            ("POST", "/v1/ask"),
            ("GET", "/v1/sources"),
            ("GET", "/v1/conversations/x"),
            ("POST", "/v1/ingest"),
            ("GET", "/v1/jobs/x"),
        ):
            reply = httpx.request(method, url + path, json={"question": QUESTION}, headers=headers)
            assert reply.status_code == 401, (method, path, headers)
            assert reply.headers["www-authenticate"] == "Bearer"
            assert TOKEN not in reply.text
    assert httpx.get(url + "/healthz").json() == {"status": "ok"}
    assert httpx.get(url + "/readyz").status_code == 200
    assert httpx.get(url + "/metrics").status_code == 200


def test_a_body_over_the_limit_is_a_413(api):
    big = {"question": QUESTION, "conversation_id": "x" * (65 * 1024)}  # default limit 64 KB
    assert api.post("/v1/ask", json=big).status_code == 413

    def chunks():  # no Content-Length: counted as it arrives
        yield b'{"question": "' + b"x" * (40 * 1024)
        yield b"y" * (40 * 1024) + b'"}'

    assert api.post("/v1/ask", content=chunks(), headers={"Content-Type": "application/json"}).status_code == 413


def test_metrics_count_requests_answers_and_refusals(api):
    def sample(name: str, **labels) -> float:
        text = api.get("/metrics").text
        wanted = name + ("{" + ",".join(f'{k}="{v}"' for k, v in sorted(labels.items())) + "}" if labels else "")
        lines = [line for line in text.splitlines() if line.startswith(wanted + " ")]
        return float(lines[0].split()[-1]) if lines else 0.0

    ok = {"method": "POST", "route": "/v1/ask", "status": "200"}
    before = {
        "ok": sample("spacebot_http_requests_total", **ok),
        "bad": sample("spacebot_http_requests_total", method="POST", route="/v1/ask", status="400"),
        "refused": sample("spacebot_refusals_total"),
        "answers": sample("spacebot_answer_seconds_count"),
    }
    api.post("/v1/ask", json={"question": QUESTION})
    assert api.post("/v1/ask", json={"question": UNANSWERABLE}).json()["refused"] is True
    api.post("/v1/ask", json={"question": ""})
    assert sample("spacebot_http_requests_total", **ok) == before["ok"] + 2
    assert sample("spacebot_http_requests_total", method="POST", route="/v1/ask", status="400") == before["bad"] + 1
    assert sample("spacebot_refusals_total") == before["refused"] + 1
    assert sample("spacebot_answer_seconds_count") == before["answers"] + 2


def test_cors_is_off_unless_origins_are_set(api, sample_service, tmp_path):
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in api.options("/v1/ask", headers=preflight).headers
    settings = make_settings(tmp_path, SPACEBOT_CORS_ORIGINS="https://app.example")
    with serving(create_app(settings, AnswerService(settings, index=sample_service.index))) as url:
        reply = httpx.options(url + "/v1/ask", headers=preflight)
        other = httpx.options(url + "/v1/ask", headers={**preflight, "Origin": "https://evil.example"})
    assert reply.headers["access-control-allow-origin"] == "https://app.example"
    assert "access-control-allow-origin" not in other.headers


def test_an_unreachable_index_is_a_503_in_json(tmp_path):
    settings = make_settings(tmp_path, CHROMA_HOST="127.0.0.1", CHROMA_PORT=free_port())  # nobody listens
    with serving(create_app(settings)) as url:
        ask = httpx.post(url + "/v1/ask", json={"question": QUESTION}, timeout=60)
        ready = httpx.get(url + "/readyz", timeout=60)
        sources = httpx.get(url + "/v1/sources", timeout=60)
        health = httpx.get(url + "/healthz")
    assert ask.status_code == 503 and "Chroma server" in ask.json()["error"]
    assert "Traceback" not in ask.text
    assert sources.status_code == 503
    assert ready.status_code == 503 and ready.json()["status"] == "unavailable"
    assert ready.json()["state"] == "ok" and "Chroma" in ready.json()["index"]
    assert health.status_code == 200


def test_stream_sends_tokens_before_the_answer_is_finished(sample_service, tmp_path):
    from llm_server import Pieces, http_stub, sse

    words = ["Walther", " Pelzer", " signed", " for", " Germany", " [1]", "."]
    first_token_seen = threading.Event()
    released_by_test = []

    class HeldStream(list):
        """The LLM's reply: the first word, then nothing until the test has seen it arrive."""

        def __iter__(self):
            for i, part in enumerate(list.__iter__(self)):
                if i == 2:  # after the role event and the first word
                    released_by_test.append(first_token_seen.wait(timeout=20))
                yield part

    def reply(method, path, body):
        if path.endswith("/chat/completions") and body.get("stream") and "Passages:" in json.dumps(body):
            status, ctype, pieces = sse(words)
            return status, ctype, Pieces(HeldStream(pieces.parts))
        return None

    with http_stub(reply) as llm:
        settings = make_settings(tmp_path, SPACEBOT_LLM_BASE_URL=llm.url, SPACEBOT_LLM_MODEL="m")
        service = AnswerService(settings, index=sample_service.index)
        events = []
        with (
            serving(create_app(settings, service)) as url,
            httpx.stream("POST", url + "/v1/ask", json={"question": QUESTION, "stream": True}, timeout=60) as response,
        ):
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            name = None
            for line in response.iter_lines():
                if line.startswith("event:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    events.append((name, json.loads(line.split(":", 1)[1])))
                    if name == "token":
                        first_token_seen.set()
    assert released_by_test == [True]  # the LLM was still holding its reply when the first token arrived
    kinds = [kind for kind, _ in events]
    assert kinds[0] == "token" and kinds[-1] == "answer" and kinds.count("answer") == 1
    streamed = "".join(data["text"] for kind, data in events if kind == "token")
    final = events[-1][1]
    assert final["answer"] == streamed == "Walther Pelzer signed for Germany [1]."
    assert final["citations"][0]["n"] == 1 and final["conversation_id"]
