"""LLMClient maps every broken reply to LLMError (stub servers on loopback, no model)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import make_settings

from bot.core.llm import LLMClient, LLMError, safe_url

try:
    from tests.llm_server import http_stub
except ImportError:  # tests/ is not a package: pytest puts tests/ itself on sys.path
    from llm_server import http_stub

HI = [{"role": "user", "content": "hi"}]
JSON = "application/json"


def completion(content) -> str:
    return json.dumps(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}],
        }
    )


def client(url: str, **kw) -> LLMClient:
    kw.setdefault("llm_model", "m")
    return LLMClient(make_settings(llm_base_url=url, llm_timeout=5, **kw))


def test_plain_reply_and_request_shape():
    with http_stub({"/chat/completions": (200, JSON, completion("Hello [1]."))}) as stub:
        assert client(stub.url).chat(HI, max_tokens=7) == "Hello [1]."
    ((_, path, body),) = stub.requests
    assert path == "/v1/chat/completions"
    assert body["temperature"] == 0 and body["max_tokens"] == 7 and body["model"] == "m"


def test_model_comes_from_the_server_when_unset():
    models = json.dumps(
        {"object": "list", "data": [{"id": "first", "object": "model"}, {"id": "second", "object": "model"}]}
    )
    replies = {"/models": (200, JSON, models), "/chat/completions": (200, JSON, completion("ok"))}
    with http_stub(replies) as stub:
        c = client(stub.url, llm_model=None)
        assert c.chat(HI) == "ok" and c.chat(HI) == "ok"
    assert [p for _, p, _ in stub.requests].count("/v1/models") == 1  # looked up once
    assert stub.requests[-1][2]["model"] == "first"


@pytest.mark.parametrize(
    "replies, message",
    [
        ({"/chat/completions": (500, JSON, '{"error": "oops"}')}, "HTTP 500"),
        ({"/chat/completions": (404, "text/html", "<h1>no</h1>")}, "HTTP 404"),
        ({"/chat/completions": (200, "text/html", "<html>garbage</html>")}, "unusable"),
        ({"/chat/completions": (200, JSON, "not json at all")}, "unusable"),
        ({"/chat/completions": (200, JSON, '{"choices": []}')}, "unusable"),
        ({"/chat/completions": (200, JSON, completion(None))}, "empty"),
        ({"/chat/completions": (200, JSON, completion("  \n"))}, "empty"),
        ({"/models": (200, JSON, '{"object": "list", "data": []}')}, "lists no models"),
    ],
)
def test_broken_replies_become_llm_error(replies, message):
    with http_stub(replies) as stub:
        c = client(stub.url, llm_model=None if "/models" in replies else "m")
        with pytest.raises(LLMError, match=message):
            c.chat(HI)


def test_broken_stream_becomes_llm_error():
    sse = "data: not-json\n\n"
    with http_stub({"/chat/completions": (200, "text/event-stream", sse)}) as stub:
        with pytest.raises(LLMError):
            client(stub.url).chat(HI, on_token=lambda d: None)
    empty = "data: [DONE]\n\n"
    with http_stub({"/chat/completions": (200, "text/event-stream", empty)}) as stub:
        with pytest.raises(LLMError, match="empty"):
            client(stub.url).chat(HI, on_token=lambda d: None)


def test_stream_pieces_reach_on_token():
    chunks = (
        "".join(
            "data: "
            + json.dumps(
                {
                    "id": "x",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": "m",
                    "choices": [{"index": 0, "delta": {"content": c}}],
                }
            )
            + "\n\n"
            for c in ["Forty", "-three", " [1]."]
        )
        + "data: [DONE]\n\n"
    )
    with http_stub({"/chat/completions": (200, "text/event-stream", chunks)}) as stub:
        pieces: list[str] = []
        assert client(stub.url).chat(HI, on_token=pieces.append) == "Forty-three [1]."
    assert pieces == ["Forty", "-three", " [1]."]
    assert stub.requests[0][2]["stream"] is True


def test_unconfigured_client_is_an_llm_error():
    with pytest.raises(LLMError):
        LLMClient(make_settings(llm_base_url=None))


def test_safe_url_drops_credentials():
    assert safe_url("https://user:pw@llm.example:8443/v1?key=abc") == "https://llm.example:8443/v1"


def test_import_is_cheap():
    code = "import sys, bot.core.llm, bot.core.generate; print('openai' in sys.modules)"
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert out.stdout.strip() == "False"
