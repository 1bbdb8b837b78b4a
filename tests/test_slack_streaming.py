"""Streamed Slack replies: the real Bolt app over HTTP, a fake Slack Web API, an LLM on loopback.

With an LLM, a reply is a placeholder `chat.postMessage`, `chat.update`s at most
about once a second while the answer is written, and a final `chat.update` with
sources and feedback buttons. Without one, it stays a single `chat.postMessage`.
The bot and the fake Slack come from tests/test_slack_app.py; the answers from
the real `AnswerService` over the shared sample index, its LLM a canned stream
(`http_stub`) or the real llama.cpp server.
"""

from __future__ import annotations

import json
import logging
import re
import time

import pytest
from conftest import make_settings

from bot.core.service import LLM_FALLBACK_NOTE, AnswerService, LLMLimits
from bot.faces.slack.blocks import APOLOGY, FEEDBACK_BLOCK_ID, PLACEHOLDER, WRITING
from bot.state.feedback import FeedbackStore

try:
    from test_slack_app import CHANNEL, REAL_QUESTION, fake, make_bot, posted, section_texts  # noqa: F401
except ImportError:  # collected as tests.test_slack_app
    from tests.test_slack_app import CHANNEL, REAL_QUESTION, fake, make_bot, posted, section_texts  # noqa: F401
try:
    from tests.llm_server import chat_replies, free_port, http_stub, llama_server
except ImportError:
    from llm_server import chat_replies, free_port, http_stub, llama_server

QUESTION = "who signed the artemis accords for germany?"
WORDS = "Walther Pelzer signed the Artemis Accords for Germany <!channel> [42] on 14 September 2023 [1]."
FINAL = "Walther Pelzer signed the Artemis Accords for Germany &lt;!channel&gt; on 14 September 2023 [1]."
FAST = LLMLimits(articles=2, per_article=1, max_tokens=24)


def pieces(text: str) -> list[str]:
    words = text.split(" ")
    return [words[0]] + [" " + w for w in words[1:]]


def llm_service(sample_service, data_dir, url: str, limits: LLMLimits | None = None, **env) -> AnswerService:
    env.setdefault("SPACEBOT_LLM_TIMEOUT", 30)
    settings = make_settings(data_dir / "service", SPACEBOT_LLM_BASE_URL=url, **env)
    return AnswerService(settings, index=sample_service.index, llm_limits=limits)


def thread_calls(fake, ts: str):
    """The placeholder post in thread `ts` and every update of it, oldest first."""
    (post,) = [c for c in fake.calls("chat.postMessage") if c.params.get("thread_ts") == ts]
    reply_ts = post.response["ts"]
    updates = [c for c in fake.calls("chat.update") if c.params.get("ts") == reply_ts]
    return post, updates


def wait_finished(fake, ts: str, timeout: float = 30.0):
    """Wait for the update that finishes the reply in thread `ts` (it has buttons, or apologises)."""

    def finished(calls) -> bool:
        posts = [c for c in calls if c.method == "chat.postMessage" and c.params.get("thread_ts") == ts]
        if not posts or posts[0].response is None:
            return False
        reply_ts = posts[0].response["ts"]
        return any(
            c.method == "chat.update"
            and c.params.get("ts") == reply_ts
            and not any(WRITING in t for t in section_texts(c.params))
            for c in calls
        )

    fake.wait_for(finished, timeout)
    return thread_calls(fake, ts)


def assert_throttled(drafts, interval: float = 1.0) -> None:
    """Draft updates came at most about once per `interval` (a little slack for HTTP)."""
    times = [c.at for c in drafts]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(g >= interval * 0.8 for g in gaps), gaps


def test_reply_is_a_placeholder_updated_as_the_llm_writes_then_finished(make_bot, fake, sample_service, tmp_path):
    with http_stub(chat_replies(pieces(WORDS), delay=0.2)) as stub:
        service = llm_service(sample_service, tmp_path, stub.url, SPACEBOT_LLM_MODEL="m")
        bot = make_bot(service)
        ts, (status, _) = bot.mention(QUESTION)
        assert status == 200
        post, updates = wait_finished(fake, ts)
    assert PLACEHOLDER in section_texts(post.params)[0] and post.params["thread_ts"] == ts
    *drafts, final = [c.params for c in updates]
    # about once a second over a ~3 s stream, never once per token (17 pieces)
    assert 2 <= len(drafts) <= 5, [d["text"] for d in drafts]
    assert_throttled(updates[:-1])
    shown = [section_texts(d)[0] for d in drafts]
    assert all(s.endswith(" …") for s in shown)
    texts = [s.removesuffix(" …") for s in shown]
    assert all(FINAL.startswith(t) for t in texts), texts  # each a prefix of the final text
    assert len(set(texts)) == len(texts)
    assert all(WRITING in section_texts(d)[1] for d in drafts)
    for d in drafts:  # no invalid marker shown, the article's mention never pings
        assert "[42]" not in posted(d) and "<!channel>" not in posted(d)
    # the finished answer: text, sources, buttons, in the same message
    assert final["channel"] == CHANNEL and final["ts"] == post.response["ts"]
    final_texts = section_texts(final)
    assert final_texts[0] == FINAL
    assert any(re.match(r"\*Sources\*\n\[1\](\[\d+\])* ", t) for t in final_texts)
    (actions,) = [b for b in final["blocks"] if b["type"] == "actions"]
    assert actions["block_id"] == FEEDBACK_BLOCK_ID
    assert [e["action_id"] for e in actions["elements"]] == ["feedback_up", "feedback_down"]
    stored = FeedbackStore(bot.state_db).lookup(actions["elements"][0]["value"])
    assert stored is not None and stored.question == QUESTION and stored.answer.startswith("Walther Pelzer")
    assert len(fake.calls("chat.postMessage")) == 1
    assert len(stub.bodies()) == 1 and stub.bodies()[0]["stream"] is True


def test_without_an_llm_the_reply_is_one_post(make_bot, fake, sample_service):
    bot = make_bot(sample_service)
    ts, _ = bot.mention(QUESTION)
    (reply,) = bot.wait_replies(ts, timeout=30)
    assert any(t.startswith("*Sources*") for t in section_texts(reply))
    assert any(b["type"] == "actions" for b in reply["blocks"])
    assert fake.calls("chat.update") == []


def test_llm_down_still_answers_with_a_note_then_stops_streaming(make_bot, fake, sample_service, tmp_path, caplog):
    service = llm_service(sample_service, tmp_path, f"http://127.0.0.1:{free_port()}/v1", SPACEBOT_LLM_TIMEOUT=2)
    bot = make_bot(service)
    with caplog.at_level(logging.WARNING, logger="spacebot.llm"):
        ts, _ = bot.mention(QUESTION)
        _, updates = wait_finished(fake, ts)
        final = updates[-1].params
        assert f":information_source: {LLM_FALLBACK_NOTE}" in section_texts(final)
        assert any(t.startswith("*Sources*") for t in section_texts(final))
        assert any(b["type"] == "actions" for b in final["blocks"])
        # the server is known to be down: the next question is answered in one post
        t2, _ = bot.mention(QUESTION)
        (reply,) = bot.wait_replies(t2, timeout=30)
    assert f":information_source: {LLM_FALLBACK_NOTE}" in section_texts(reply)
    assert len(fake.calls("chat.update")) == len(updates)
    assert len([r for r in caplog.records if r.name == "spacebot.llm"]) == 1  # logged once


class Exploding:
    """A service with an LLM whose answering fails."""

    def llm_ready(self) -> bool:
        return True

    def ask(self, question, conversation_id=None, on_token=None):
        on_token("Walther")
        raise RuntimeError("index unavailable")


def test_failure_while_streaming_turns_the_draft_into_an_apology(make_bot, fake, caplog):
    caplog.set_level(logging.ERROR, logger="spacebot.slack")
    bot = make_bot(Exploding())
    ts, _ = bot.mention(QUESTION)
    post, updates = wait_finished(fake, ts)
    *drafts, final = [c.params for c in updates]
    assert [section_texts(d)[0] for d in drafts] == ["Walther …"]
    assert final["text"] == APOLOGY and section_texts(final) == [APOLOGY]
    assert "index unavailable" in caplog.text


def test_a_failed_draft_update_does_not_lose_the_answer(make_bot, fake, sample_service, tmp_path, caplog):
    with http_stub(chat_replies(pieces(WORDS), delay=0.05)) as stub:
        service = llm_service(sample_service, tmp_path, stub.url, SPACEBOT_LLM_MODEL="m")
        bot = make_bot(service)
        fake.fail_once("chat.update", status=500)
        with caplog.at_level(logging.WARNING, logger="spacebot.slack"):
            ts, _ = bot.mention(QUESTION)
            _, updates = wait_finished(fake, ts)
    assert updates[0].response is None  # the failed draft; no more drafts after it
    assert len(updates) == 2 and section_texts(updates[1].params)[0] == FINAL
    assert "chat.update of a draft failed" in caplog.text


def test_a_rate_limited_draft_pauses_drafts_without_holding_up_the_answer(make_bot, fake, sample_service, tmp_path):
    with http_stub(chat_replies(pieces(WORDS), delay=0.15)) as stub:
        service = llm_service(sample_service, tmp_path, stub.url, SPACEBOT_LLM_MODEL="m")
        bot = make_bot(service)
        fake.fail_once("chat.update", status=429, retry_after=1)
        started = time.monotonic()
        ts, _ = bot.mention(QUESTION)
        _, updates = wait_finished(fake, ts)
    limited, *rest = updates
    assert limited.response is None  # the 429: not retried by the draft, drafts paused for 1 s
    assert rest[0].at - limited.at >= 0.9
    assert section_texts(rest[-1].params)[0] == FINAL
    assert updates[-1].at - started < 6  # the ~2.5 s stream was not held up


# --------------------------------------------------------------------------- the real llama.cpp server


@pytest.fixture(scope="session")
def llama_url():
    with llama_server(threads=1, ctx=2048, n_predict=32) as url:
        yield url


@pytest.mark.slow
def test_real_llm_reply_is_streamed_and_finished_with_sources_and_buttons(
    make_bot, fake, sample_service, tmp_path, llama_url
):
    with http_stub(upstream=llama_url) as proxy:
        service = llm_service(sample_service, tmp_path, proxy.url, limits=FAST)
        bot = make_bot(service)
        ts, _ = bot.mention(REAL_QUESTION)
        post, updates = wait_finished(fake, ts, timeout=60)
    *drafts, final = updates
    assert drafts, "the tiny model writes tokens: at least one draft is shown"
    assert_throttled(drafts)
    final_texts = section_texts(final.params)
    assert any(re.match(r"\*Sources\*\n\[1\](\[\d+\])* ", t) for t in final_texts)
    assert any(b["type"] == "actions" for b in final.params["blocks"])
    if any(LLM_FALLBACK_NOTE in t for t in final_texts):  # the tiny model cites nothing
        baseline = sample_service.answer(REAL_QUESTION)
        quoted = baseline.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        lead = f"*{baseline.short_answer}* — " if baseline.sure and baseline.short_answer else ""
        assert final_texts[0] == lead + quoted  # the extractive answer, its short answer first when sure
    (body,) = proxy.bodies()
    assert body["stream"] is True and REAL_QUESTION in json.dumps(body["messages"])
