"""The LLM answer path of `AnswerService`, the CLI and the chat, over real loopback HTTP.

Retrieval runs on the session's sample index (shared and read-only: each service
here gets its own data dir, for conversations, and borrows the loaded index).
The successful LLM path is driven by `http_stub` canned OpenAI streams, since
SmolLM2-135M never writes `[n]` markers; the real llama.cpp server checks the
HTTP contract, streaming and the fallback. Its prompts are kept small (two
passages, a few tokens) so that the whole file runs in well under a minute.
"""

from __future__ import annotations

import io
import json
import logging
import re
import sys
import time

import pytest
from conftest import make_settings

from bot.core.followup import contextual_query
from bot.core.generate import REFUSAL, build_messages
from bot.core.service import DEFAULT_MODE, LLM_FALLBACK_NOTE, REFUSAL_TEXT, AnswerService, LLMLimits, llm_passages

try:
    from tests.llm_server import (
        chat_replies,
        free_port,
        http_stub,
        llama_server,
        silent_server,
        sse,
    )
except ImportError:  # tests/ is not a package: pytest puts tests/ itself on sys.path
    from llm_server import (
        chat_replies,
        free_port,
        http_stub,
        llama_server,
        silent_server,
        sse,
    )

QUESTION = "who signed the artemis accords for germany?"
ANSWER_PIECES = ["Walther", " Pelzer", " signed", " for", " Germany", " [", "42", "]", " in", " 2023", " [1", "]."]
ANSWER = "Walther Pelzer signed for Germany in 2023 [1]."  # the [42] names no passage
UNANSWERABLE = "what did the finnish parliament decide about herring fishing quotas?"
FOLLOW_UP = "and who signed it for india?"
SECRETS = {
    "SPACEBOT_LLM_API_KEY": "sk-test-SECRET-4e1d",
    "SLACK_BOT_TOKEN": "xoxb-test-SECRET-77aa",
    "SLACK_APP_TOKEN": "xapp-test-SECRET-91bc",
    "SLACK_SIGNING_SECRET": "signing-SECRET-0f3e",
}
# Small prompts for the tiny CPU model: the request shape is what is under test.
FAST = LLMLimits(articles=2, per_article=1, max_tokens=24)


def llm_service(sample_service, data_dir, url: str, fast: bool = False, **env) -> AnswerService:
    """A service with the LLM at `url`, its own data dir, and the sample index."""
    env.setdefault("SPACEBOT_LLM_TIMEOUT", 30)
    env.setdefault("SPACEBOT_LLM_MODEL", "stub-model")
    return AnswerService(
        make_settings(data_dir, SPACEBOT_LLM_BASE_URL=url, **env),
        index=sample_service.index,
        llm_limits=FAST if fast else None,
    )


def llm_warnings(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "spacebot.llm" and r.levelno >= logging.WARNING]


# --------------------------------------------------------------------------- canned replies


def test_invalid_markers_are_removed_and_the_valid_one_cited(sample_service, tmp_path):
    with http_stub({"/chat/completions": sse(ANSWER_PIECES)}) as stub:
        service = llm_service(sample_service, tmp_path, stub.url)
        pieces: list[str] = []
        answer = service.answer(QUESTION, on_token=pieces.append)
    hits = answer.hits
    assert answer.text == ANSWER and not answer.refused and answer.note is None
    passages = llm_passages(hits)
    assert [(c.n, c.article_id) for c in answer.citations] == [(1, passages[0].article_id)]
    assert answer.citations[0].quote and passages[0].text.startswith(answer.citations[0].quote)
    # streamed as written, markers checked on the way: "[42]" never reached the screen
    assert len(pieces) > 1 and "".join(pieces) == ANSWER
    assert not any("42" in p for p in pieces)
    (body,) = stub.bodies()
    assert body["stream"] is True and body["model"] == "stub-model"
    assert body["messages"] == build_messages(QUESTION, passages)


def test_answer_without_a_valid_marker_becomes_extractive_with_a_note(sample_service, tmp_path, caplog):
    baseline = sample_service.answer(QUESTION)
    with http_stub({"/chat/completions": sse(["Walther Pelzer", " signed it", " [7]."])}) as stub:
        service = llm_service(sample_service, tmp_path, stub.url, fast=True)
        pieces: list[str] = []
        with caplog.at_level(logging.WARNING, logger="spacebot.llm"):
            answer = service.answer(QUESTION, on_token=pieces.append)
    assert answer.note == LLM_FALLBACK_NOTE and not answer.refused
    assert answer.text == baseline.text and answer.citations == baseline.citations
    # what was streamed stays what the LLM wrote (checked); the extractive text is not appended
    assert "".join(pieces) == "Walther Pelzer signed it."
    assert len(llm_warnings(caplog)) == 1


@pytest.mark.parametrize(
    "pieces, shown",
    [
        (["[", "1]"], None),  # a bare marker states nothing
        ([], None),  # an empty reply
        # the cited passage (about Germany's signing) holds none of these names, places or numbers
        (
            ["The accord was signed by Kwame Mensah", " in Accra in 2031", " [1]."],
            "The accord was signed by Kwame Mensah in Accra in 2031.",
        ),
    ],
)
def test_replies_that_state_nothing_supported_fall_back_with_a_note(sample_service, tmp_path, caplog, pieces, shown):
    baseline = sample_service.answer(QUESTION)
    with http_stub({"/chat/completions": sse(pieces)}) as stub:
        service = llm_service(sample_service, tmp_path, stub.url)
        streamed: list[str] = []
        with caplog.at_level(logging.WARNING, logger="spacebot.llm"):
            answer = service.answer(QUESTION, on_token=streamed.append)
    assert len(stub.bodies()) == 1
    assert answer.note == LLM_FALLBACK_NOTE and not answer.refused
    assert answer.text == baseline.text and answer.citations == baseline.citations
    # the LLM showed nothing: the extractive text streams; it showed words: they stay, without
    # the marker, and the extractive text is not appended
    assert "".join(streamed) == (baseline.text if shown is None else shown)
    assert len(llm_warnings(caplog)) == 1


def test_a_good_reply_keeps_its_supported_marker_only(sample_service, tmp_path):
    good = "Walther Pelzer signed for Germany in Washington [1]. It was signed by Kwame Mensah in Accra [2]."
    with http_stub({"/chat/completions": sse([good[:30], good[30:70], good[70:]])}) as stub:
        service = llm_service(sample_service, tmp_path, stub.url)
        streamed: list[str] = []
        answer = service.answer(QUESTION, on_token=streamed.append)
    assert answer.note is None and not answer.refused
    assert answer.text == "Walther Pelzer signed for Germany in Washington [1]. It was signed by Kwame Mensah in Accra."
    assert "".join(streamed) == answer.text
    assert [(c.n, c.article_id) for c in answer.citations] == [(1, llm_passages(answer.hits)[0].article_id)]
    assert len(stub.bodies()) == 1


def test_weak_evidence_refuses_without_asking_the_llm(sample_service, tmp_path):
    with http_stub({"/chat/completions": sse(ANSWER_PIECES)}) as stub:
        service = llm_service(sample_service, tmp_path, stub.url)
        pieces: list[str] = []
        answer = service.answer(UNANSWERABLE, on_token=pieces.append)
    assert answer.refused and answer.text == REFUSAL_TEXT
    assert answer.closest == []  # nothing in the sample corpus is close to herring quotas (issue 20, part 5)
    assert stub.requests == [] and pieces == []


def test_llm_refusal_is_a_refusal(sample_service, tmp_path):
    with http_stub(chat_replies(["Not", " in the", " articles."])) as stub:
        answer = llm_service(sample_service, tmp_path, stub.url).answer(QUESTION)
    assert answer.refused and answer.text == REFUSAL_TEXT and answer.closest and not answer.citations
    assert stub.bodies()[0]["stream"] is False  # nobody listens for tokens: not streamed


def test_follow_up_is_rewritten_by_the_llm_before_retrieval(sample_service, tmp_path):
    rewrite = "Who signed the Artemis Accords for India?"
    # words both the Germany and the India article hold: supported either way ("He did [1]."
    # would state nothing, and fall back)
    replies = chat_replies(
        ["It was signed at a ceremony in Washington", " [1]."], rewrite=f"Standalone question: {rewrite}"
    )
    with http_stub(replies) as stub:
        service = llm_service(sample_service, tmp_path, stub.url)
        first = service.ask(QUESTION, conversation_id="c1")
        second = service.ask(FOLLOW_UP, conversation_id="c1", on_token=lambda piece: None)
        assert service.query_for(FOLLOW_UP, [QUESTION]) == rewrite
    said = "It was signed at a ceremony in Washington"
    assert first.text == second.text == f"{said} [1]."
    asked = stub.bodies()
    assert len(asked) == 4  # answer, rewrite, answer, rewrite
    rewrite_request = asked[1]
    assert not rewrite_request.get("stream") and rewrite_request["max_tokens"] <= 96
    assert QUESTION in rewrite_request["messages"][-1]["content"]
    assert FOLLOW_UP in rewrite_request["messages"][-1]["content"]
    # the answer was retrieved for the rewrite: its passages are the rewrite's passages
    hits = sample_service.retriever.search(rewrite, k=10, mode=DEFAULT_MODE)
    assert asked[2]["messages"][-1]["content"] == build_messages(FOLLOW_UP, llm_passages(hits))[-1]["content"]
    # the earlier turn goes along as history, its markers removed
    assert {"role": "assistant", "content": f"{said}."} in asked[2]["messages"]


def test_failed_rewrite_falls_back_to_the_no_llm_query(sample_service, tmp_path, caplog):
    replies = chat_replies(["x [1]."], rewrite=(500, "application/json", '{"error": "boom"}'))
    with http_stub(replies) as stub:
        service = llm_service(sample_service, tmp_path, stub.url)
        with caplog.at_level(logging.WARNING, logger="spacebot.llm"):
            assert service.query_for(FOLLOW_UP, [QUESTION]) == contextual_query(FOLLOW_UP, [QUESTION])
    assert len(stub.bodies()) == 1
    assert len(llm_warnings(caplog)) == 1 and "HTTP 500" in caplog.text
    assert service.llm_ready()  # an HTTP error is no reason to stop asking the server


def test_timeout_falls_back_once_and_the_server_is_then_left_alone(sample_service, tmp_path, caplog):
    baseline = sample_service.answer(QUESTION, mode="hybrid")
    with silent_server() as url:
        service = llm_service(
            sample_service, tmp_path, url, SPACEBOT_LLM_TIMEOUT=1, SPACEBOT_RERANKER="none"
        )  # timing the LLM, not the reranker
        pieces: list[str] = []
        with caplog.at_level(logging.DEBUG, logger="spacebot.llm"):
            start = time.monotonic()
            answer = service.answer(QUESTION, on_token=pieces.append)
            first = time.monotonic() - start
            start = time.monotonic()
            again = service.answer(QUESTION)
            second = time.monotonic() - start
            follow = service.answer(FOLLOW_UP, history=[(QUESTION, answer.text)])
    assert answer.note == LLM_FALLBACK_NOTE and answer.text == baseline.text
    assert pieces == [answer.text]  # nothing came from the LLM: the extractive text is streamed
    assert 0.9 < first < 5
    assert again.note == LLM_FALLBACK_NOTE and second < 0.9  # no second wait for a dead server
    assert follow.note == LLM_FALLBACK_NOTE or follow.refused  # no rewrite attempted either
    (warning,) = llm_warnings(caplog)
    assert "timed out" in warning.getMessage()
    assert not service.llm_ready()


def test_slow_follow_up_waits_one_timeout_not_two(sample_service, tmp_path, caplog):
    with silent_server() as url:
        service = llm_service(
            sample_service, tmp_path, url, SPACEBOT_LLM_TIMEOUT=1, SPACEBOT_RERANKER="none"
        )  # timing the LLM, not the reranker
        with caplog.at_level(logging.WARNING, logger="spacebot.llm"):
            start = time.monotonic()
            answer = service.answer(FOLLOW_UP, history=[(QUESTION, "Walther Pelzer [1].")])
            elapsed = time.monotonic() - start
    assert answer.note == LLM_FALLBACK_NOTE or answer.refused
    assert elapsed < 1.9, elapsed  # the rewrite timed out: the answer was not tried as well
    assert len(llm_warnings(caplog)) == 1


def test_server_down_falls_back_with_a_note(sample_service, tmp_path, caplog):
    service = llm_service(sample_service, tmp_path, f"http://127.0.0.1:{free_port()}/v1")
    with caplog.at_level(logging.WARNING, logger="spacebot.llm"):
        start = time.monotonic()
        answer = service.answer(QUESTION)
    assert time.monotonic() - start < 5
    assert answer.note == LLM_FALLBACK_NOTE and answer.citations and not answer.refused
    (warning,) = llm_warnings(caplog)
    assert "cannot reach" in warning.getMessage()


@pytest.mark.parametrize(
    "reply",
    [
        (200, "text/html", "<html>garbage</html>"),
        (200, "text/event-stream", "data: {not json\n\n"),
        (503, "application/json", '{"error": "loading model"}'),
    ],
)
def test_garbage_falls_back_with_a_note(sample_service, tmp_path, caplog, reply):
    with http_stub({"/chat/completions": reply}) as stub:
        service = llm_service(sample_service, tmp_path, stub.url)
        with caplog.at_level(logging.WARNING, logger="spacebot.llm"):
            answer = service.answer(QUESTION, on_token=lambda piece: None)
            again = service.answer(QUESTION, on_token=lambda piece: None)
    assert answer.note == again.note == LLM_FALLBACK_NOTE and answer.citations
    assert len(stub.bodies()) == 2  # a bad reply is not a dead server: each question tries
    assert len(llm_warnings(caplog)) == 2  # once per question


def test_chat_streams_the_answer_then_prints_sources(sample_service, tmp_path, monkeypatch, capsys):
    from bot.core.records import Filters
    from bot.faces.chat import run_chat

    replies = chat_replies(ANSWER_PIECES, rewrite="Who signed for India?")
    with http_stub(replies) as stub:
        service = llm_service(sample_service, tmp_path, stub.url)
        monkeypatch.setattr(sys, "stdin", io.StringIO(f"{QUESTION}\n{FOLLOW_UP}\n/quit\n"))
        run_chat(service, Filters(), conversation="cli:test")
    out = capsys.readouterr().out
    assert out.count(ANSWER) == 2 and "[42]" not in out  # streamed once per question, never repeated
    assert len(re.findall(r"Sources:\n\[1\](?:\[\d+\])* ", out)) == 2
    turns = service.conversations.history("cli:test")
    assert [t.question for t in turns] == [QUESTION, FOLLOW_UP]


# --------------------------------------------------------------------------- the real llama.cpp server


@pytest.fixture(scope="session")
def llama_url():
    with llama_server(threads=1, ctx=2048, n_predict=32) as url:
        yield url


@pytest.fixture
def proxy(llama_url):
    """A recording proxy in front of the real server."""
    with http_stub(upstream=llama_url) as stub:
        yield stub


@pytest.mark.slow
def test_real_server_gets_the_passages_and_streams_tokens(sample_service, tmp_path, proxy):
    service = llm_service(sample_service, tmp_path, proxy.url, fast=True, SPACEBOT_LLM_MODEL="")
    pieces: list[str] = []
    answer = service.answer(QUESTION, on_token=pieces.append)
    hits = answer.hits
    assert len(pieces) > 1  # tokens arrived one by one
    bodies = proxy.bodies()
    assert len(bodies) == 1  # no history: no rewrite
    body = bodies[0]
    passages = llm_passages(hits, FAST.articles, FAST.per_article)
    assert len(passages) == 2
    assert body["messages"] == build_messages(QUESTION, passages)
    for n, p in enumerate(passages, start=1):
        assert f"[{n}] {' '.join(p.title.split())}" in body["messages"][-1]["content"]
        assert p.text.strip() in body["messages"][-1]["content"]
    assert body["stream"] is True and body["temperature"] == 0 and body["max_tokens"] == FAST.max_tokens
    assert body["model"].endswith(".gguf")  # looked up at /v1/models
    if answer.note:  # the tiny model cites nothing: the extractive answer, LLM text left as streamed
        assert answer.note == LLM_FALLBACK_NOTE and answer.citations
        assert "".join(pieces) != answer.text
    else:  # it cited a passage: what streamed is the final text
        assert answer.refused or "".join(pieces) == answer.text


@pytest.mark.slow
def test_no_secret_reaches_the_llm(sample_service, tmp_path, proxy, monkeypatch):
    for key, value in SECRETS.items():
        monkeypatch.setenv(key, value)
    service = llm_service(sample_service, tmp_path, proxy.url, fast=True)
    assert service.settings.llm_api_key.get_secret_value() == SECRETS["SPACEBOT_LLM_API_KEY"]
    assert service.settings.slack_bot_token.get_secret_value() == SECRETS["SLACK_BOT_TOKEN"]
    first = service.ask(QUESTION, conversation_id="c-secret")
    service.ask(FOLLOW_UP, conversation_id="c-secret", on_token=lambda piece: None)
    bodies = proxy.bodies()
    assert len(bodies) == 3  # answer, rewrite, answer
    sent = json.dumps(proxy.requests)
    assert QUESTION in sent and FOLLOW_UP in sent and first.text
    for secret in SECRETS.values():
        assert secret not in sent


@pytest.mark.slow
def test_spacebot_ask_streams_and_prints_sources(sample_service, sample_settings, tmp_path, llama_url, monkeypatch):
    from typer.testing import CliRunner

    import bot.faces.cli

    service = llm_service(sample_service, tmp_path, llama_url, fast=True, SPACEBOT_LLM_MODEL="")
    shown: list[str] = []
    real_answer = service.answer

    def answer(*args, **kw):  # record what the CLI is handed while it streams
        inner = kw.get("on_token")
        kw["on_token"] = (lambda piece: (shown.append(piece), inner(piece))) if inner else None
        return real_answer(*args, **kw)

    monkeypatch.setattr(service, "answer", answer)
    monkeypatch.setattr(bot.faces.cli, "_service", lambda: service)
    result = CliRunner().invoke(bot.faces.cli.app, ["ask", QUESTION])
    assert result.exit_code == 0, result.output
    assert len(shown) > 1 and result.output.startswith("".join(shown))  # printed as it arrived
    assert re.search(r"\nSources:\n\[1\](?:\[\d+\])* ", result.output)
    if LLM_FALLBACK_NOTE in result.output:  # the tiny model cites nothing: quoted sentences
        baseline = sample_service.answer(QUESTION)
        assert baseline.text in result.output
    assert REFUSAL not in result.output
