"""The real Bolt app over real HTTP on 127.0.0.1, talking to a fake Slack Web API.

Requests are signed like Slack signs them; the app's `WebClient` points at
`tests.fake_slack.FakeSlack`, whose recorded calls are polled with deadlines.

Answers come from `ScriptedService`. Tests that take the `answers` fixture run
twice: with a `ScriptedService` (exact links, escaping, and the ack arriving
while the answer is held back) and with the real AnswerService over the sample
corpus (`sample_service`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
from bolt_http import BoltOnLoopback
from conftest import make_settings

from bot.core.records import Answer, ArticleHit, Citation
from bot.faces.slack.app import build_app
from bot.faces.slack.blocks import ACTION_UP, FEEDBACK_BLOCK_ID, REFUSAL_HEADER
from bot.faces.slack.serve import serve_socket_mode
from bot.state.feedback import FeedbackStore

try:
    from tests.fake_slack import BOT_ID, BOT_USER_ID, TEAM_ID, FakeSlack, FakeSocketMode, sign
except ModuleNotFoundError:  # pytest started without the project root on sys.path
    from fake_slack import BOT_ID, BOT_USER_ID, TEAM_ID, FakeSlack, FakeSocketMode, sign

SECRET = "test-signing-secret-3c9f1e"
TOKEN = "xoxb-test-token-7d41a0"
CHANNEL = "C0NEWS0001"
ASKER = "U0ASKER001"
# Asked of the real service when `sample_service` exists: the sample corpus must answer it.
REAL_QUESTION = "who signed the artemis accords for india?"
REAL_FOLLOW_UP = "which number signatory did that make them?"


# --------------------------------------------------------------------------- services


class ScriptedService:
    """Stands in for the AnswerService: fixed answers, thread-safe call log."""

    def __init__(self, citations: list[Citation] | None = None, delay: float = 0.0, text: str | None = None) -> None:
        self.text = text
        self.calls: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()
        self.delay = delay
        self.gate: threading.Event | None = None
        self.citations = citations or [
            Citation(
                1,
                "nasa-artemis-2",
                "NASA Confirms Artemis II Crew",
                "NASA",
                "https://www.nasa.gov/news-release/artemis-ii-crew/",
                "2023-04-03",
                "Four astronauts will fly around the Moon on Artemis II.",
                0.91,
            ),
            Citation(
                2,
                "wh-space-policy",
                "United States Space Priorities Framework",
                "White House",
                None,
                "2021-12-01",
                "The framework sets out national space priorities.",
                0.72,
            ),
        ]

    def ask(self, question, conversation_id=None, on_token=None):
        with self.lock:
            self.calls.append((question, conversation_id))
        if self.gate is not None:
            assert self.gate.wait(10), "test never released the gate"
        if self.delay:
            time.sleep(self.delay)
        if "explode" in question:
            raise RuntimeError("index unavailable")
        if "unanswerable" in question:
            return Answer(
                question,
                "No ingested article covers that.",
                True,
                closest=[
                    ArticleHit(
                        "a1", "Mars Sample Return Update", "NASA", "https://www.nasa.gov/msr", "2024-01-09", None, 0.2
                    ),
                ],
            )
        text = self.text or f"You asked: {question}. Artemis II will send four astronauts around the Moon [1][2]."
        return Answer(question, text, False, citations=list(self.citations))


class RecordingService:
    """Wraps any service and records (question, conversation_id) of every call."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.calls: list[tuple[str, str | None]] = []
        self.lock = threading.Lock()

    def ask(self, question, conversation_id=None, on_token=None):
        with self.lock:
            self.calls.append((question, conversation_id))
        return self.inner.ask(question, conversation_id=conversation_id, on_token=on_token)


@pytest.fixture(params=["scripted", "real"])
def answers(request):
    """A `ScriptedService`, then the real `sample_service`: each test taking it runs with both."""
    if request.param == "real":
        return request.getfixturevalue("sample_service")
    return ScriptedService()


def is_real(service) -> bool:
    return not isinstance(service, ScriptedService)


# --------------------------------------------------------------------------- the bot under test


class Bot:
    """A served app plus helpers to send it signed Slack requests."""

    def __init__(self, fake: FakeSlack, service, tmp_path, settings: dict | None = None, **build_kwargs) -> None:
        self.fake = fake
        self.service = service
        settings = make_settings(
            tmp_path,
            slack_bot_token=TOKEN,
            slack_signing_secret=SECRET,
            slack_api_url=fake.url.rstrip("/"),  # build_app must add the trailing slash
            **(settings or {}),
        )
        self.state_db = settings.state_db
        self.app = build_app(settings, service, **build_kwargs)
        self.bolt = BoltOnLoopback(self.app)
        self.url = self.bolt.url

    def close(self) -> None:
        self.bolt.close()

    # -- requests ------------------------------------------------------------
    def post(
        self,
        body: str,
        content_type: str,
        headers: dict[str, str] | None = None,
        secret: str = SECRET,
        timestamp: int | None = None,
    ) -> tuple[int, str]:
        hdrs = {"Content-Type": content_type, **sign(secret, body, timestamp), **(headers or {})}
        req = urllib.request.Request(self.url, data=body.encode(), headers=hdrs, method="POST")
        try:
            with urllib.request.urlopen(req, timeout=10) as resp:
                return resp.status, resp.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def send_event(self, event: dict, event_id: str | None = None, **kw) -> tuple[int, str]:
        return self.post(json.dumps(event_envelope(event, event_id)), "application/json", **kw)

    def mention(
        self, question: str, ts: str | None = None, thread_ts: str | None = None, event_id: str | None = None, **kw
    ) -> tuple[str, tuple[int, str]]:
        ts = ts or new_ts()
        return ts, self.send_event(mention_event(question, ts, thread_ts), event_id, **kw)

    def replies(self, thread_ts: str | None = None) -> list[dict]:
        return [
            c.params
            for c in self.fake.calls("chat.postMessage")
            if thread_ts is None or c.params.get("thread_ts") == thread_ts
        ]

    def wait_replies(self, thread_ts: str, count: int = 1, timeout: float = 10.0) -> list[dict]:
        self.fake.wait_for(
            lambda calls: (
                sum(c.method == "chat.postMessage" and c.params.get("thread_ts") == thread_ts for c in calls) >= count
            ),
            timeout,
        )
        return self.replies(thread_ts)


def event_envelope(event: dict, event_id: str | None = None) -> dict:
    """An Events API `event_callback` body around `event`."""
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM_ID,
        "api_app_id": "A0SPACEBOT",
        "event": event,
        "type": "event_callback",
        "event_id": event_id or f"Ev{uuid.uuid4().hex[:10].upper()}",
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}],
    }


def mention_event(question: str, ts: str, thread_ts: str | None = None) -> dict:
    event = {
        "type": "app_mention",
        "user": ASKER,
        "text": f"<@{BOT_USER_ID}> {question}",
        "ts": ts,
        "channel": CHANNEL,
        "event_ts": ts,
    }
    if thread_ts:
        event["thread_ts"] = thread_ts
    return event


_ts_lock = threading.Lock()
_ts_counter = [0]


def new_ts() -> str:
    with _ts_lock:
        _ts_counter[0] += 1
        return f"{1710000000 + _ts_counter[0]}.{_ts_counter[0]:06d}"


@pytest.fixture
def fake():
    with FakeSlack(token=TOKEN) as f:
        yield f


@pytest.fixture
def make_bot(fake, tmp_path):
    bots: list[Bot] = []

    def make(service) -> Bot:
        bot = Bot(fake, service, tmp_path)
        bots.append(bot)
        return bot

    yield make
    for b in bots:
        b.close()


def posted(params: dict) -> str:
    """Everything a message would show (text and blocks) as one string."""
    return json.dumps({"text": params.get("text"), "blocks": params.get("blocks")}, ensure_ascii=False)


def section_texts(params: dict) -> list[str]:
    out = []
    for b in params.get("blocks") or []:
        if b.get("type") == "section":
            out.append(b["text"]["text"])
        elif b.get("type") == "context":
            out.extend(e.get("text", "") for e in b["elements"])
    return out


# --------------------------------------------------------------------------- tests


def test_mention_gets_one_threaded_reply_with_citations(make_bot, answers):
    service = RecordingService(answers)
    bot = make_bot(service)
    if is_real(answers):
        question = REAL_QUESTION
    else:  # prove the ack does not wait for the answer: hold the service until acked
        answers.gate = threading.Event()
        question = "What is the Artemis II crew doing?"

    ts, (status, _) = bot.mention(question)
    assert status == 200
    if not is_real(answers):  # acked while the answer is still held back
        assert not bot.replies(), "acked only after answering"
        answers.gate.set()

    (reply,) = bot.wait_replies(ts, timeout=60 if is_real(answers) else 10)
    assert reply["channel"] == CHANNEL and reply["thread_ts"] == ts
    assert service.calls == [(question, f"slack:{CHANNEL}:{ts}")]  # mention text stripped
    texts = section_texts(reply)
    assert "[1]" in texts[0]
    sources = next(t for t in texts if t.startswith("*Sources*"))
    assert "[1]" in sources
    if not is_real(answers):
        link = "<https://www.nasa.gov/news-release/artemis-ii-crew/|NASA Confirms Artemis II Crew>"
        assert f"[1] {link} — NASA, 2023-04-03" in sources
        assert "[2] United States Space Priorities Framework — White House, 2021-12-01" in sources
    actions = [b for b in reply["blocks"] if b["type"] == "actions"]
    assert [e["action_id"] for e in actions[0]["elements"]] == ["feedback_up", "feedback_down"]
    assert reply["text"] and reply["unfurl_links"] is False
    # still exactly one reply a moment later (polled against a later marker event)
    marker_ts, _ = bot.mention("unanswerable marker")
    bot.wait_replies(marker_ts, timeout=60)
    assert len(bot.replies(ts)) == 1


def test_forged_and_stale_requests_get_401_and_no_reply(make_bot, fake, caplog):
    caplog.set_level(logging.DEBUG)
    service = ScriptedService()
    bot = make_bot(service)
    _, (status, _) = bot.mention("forged?", secret="not-the-secret")
    assert status == 401
    _, (status, _) = bot.mention("stale?", timestamp=int(time.time()) - 6 * 60)
    assert status == 401
    # unsigned: no headers at all
    req = urllib.request.Request(
        bot.url, data=b'{"type":"event_callback"}', method="POST", headers={"Content-Type": "application/json"}
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 401
    marker_ts, (status, _) = bot.mention("a signed one")
    assert status == 200
    bot.wait_replies(marker_ts)
    assert [c[0] for c in service.calls] == ["a signed one"]
    assert len(fake.calls("chat.postMessage")) == 1
    assert SECRET not in caplog.text and TOKEN not in caplog.text
    assert "invalid request signature" in caplog.text.lower()
    assert "legacy-verification-token" not in caplog.text  # Bolt logs bodies of rejected requests


def test_url_verification_challenge(make_bot):
    bot = make_bot(ScriptedService())
    body = json.dumps(
        {
            "token": "legacy",
            "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
            "type": "url_verification",
        }
    )
    status, text = bot.post(body, "application/json")
    assert status == 200
    assert json.loads(text)["challenge"] == "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"
    status, _ = bot.post(body, "application/json", secret="wrong")
    assert status == 401


def test_retried_and_duplicate_events_are_not_answered_twice(make_bot, fake):
    service = ScriptedService()
    bot = make_bot(service)
    ts = new_ts()
    _, (status, _) = bot.mention("Who signed the Artemis Accords?", ts=ts, event_id="Ev0DUP0001")
    assert status == 200
    bot.wait_replies(ts)
    # Slack's retry of the same event, with the retry headers
    _, (status, _) = bot.mention(
        "Who signed the Artemis Accords?",
        ts=ts,
        event_id="Ev0DUP0001",
        headers={"X-Slack-Retry-Num": "1", "X-Slack-Retry-Reason": "http_timeout"},
    )
    assert status == 200
    # the same event_id again without headers (e.g. a resend after a restart)
    _, (status, _) = bot.mention("Who signed the Artemis Accords?", ts=ts, event_id="Ev0DUP0001")
    assert status == 200
    # a retry whose first delivery we never saw is dropped too (drop_retries=True)
    other_ts = new_ts()
    _, (status, _) = bot.mention(
        "retry only", ts=other_ts, headers={"X-Slack-Retry-Num": "2", "X-Slack-Retry-Reason": "http_error"}
    )
    assert status == 200
    marker_ts, _ = bot.mention("marker")
    bot.wait_replies(marker_ts)
    assert len(bot.replies(ts)) == 1
    assert not bot.replies(other_ts)
    assert [q for q, _ in service.calls] == ["Who signed the Artemis Accords?", "marker"]


def test_seen_event_ids_survive_a_restart(fake, tmp_path):
    """A second app on the same state db still knows the first one's event ids."""
    service = ScriptedService()
    first = Bot(fake, service, tmp_path)
    try:
        ts, _ = first.mention("once", event_id="Ev0RESTART1")
        first.wait_replies(ts)
    finally:
        first.close()
    second = Bot(fake, service, tmp_path)
    try:
        second.mention("once", ts=ts, event_id="Ev0RESTART1")
        marker_ts, _ = second.mention("marker")
        second.wait_replies(marker_ts)
        assert len(second.replies(ts)) == 1
    finally:
        second.close()


def _noise_events(dm: str) -> list[dict]:
    """Our own reply, another bot, an edit, a channel message: events the bot must ack and ignore."""
    return [
        {
            "type": "message",
            "channel_type": "im",
            "channel": dm,
            "user": BOT_USER_ID,
            "bot_id": BOT_ID,
            "text": "an answer",
            "ts": new_ts(),
        },
        {
            "type": "message",
            "subtype": "bot_message",
            "channel_type": "im",
            "channel": dm,
            "bot_id": "B0OTHER001",
            "text": "beep",
            "ts": new_ts(),
        },
        {
            "type": "message",
            "subtype": "message_changed",
            "channel_type": "im",
            "channel": dm,
            "message": {"user": ASKER, "text": "edited"},
            "ts": new_ts(),
        },
        {
            "type": "message",
            "channel_type": "channel",
            "channel": CHANNEL,
            "user": ASKER,
            "text": "chatter",
            "ts": new_ts(),
        },
    ]


def test_dm_is_answered_and_bot_messages_and_edits_are_ignored(make_bot, fake):
    service = ScriptedService()
    bot = make_bot(service)
    dm = "D0DIRECT01"
    ts = new_ts()
    status, _ = bot.send_event(
        {
            "type": "message",
            "channel_type": "im",
            "channel": dm,
            "user": ASKER,
            "text": "What is the Outer Space Treaty?",
            "ts": ts,
            "event_ts": ts,
        }
    )
    assert status == 200
    fake.wait_calls("chat.postMessage", 1)
    (reply,) = bot.replies()
    assert reply["channel"] == dm and "thread_ts" not in reply
    assert service.calls == [("What is the Outer Space Treaty?", f"slack:{dm}:dm")]

    # a DM inside a thread keeps that thread as its conversation
    t2 = new_ts()
    bot.send_event(
        {
            "type": "message",
            "channel_type": "im",
            "channel": dm,
            "user": ASKER,
            "text": "And who signed it?",
            "ts": t2,
            "thread_ts": ts,
            "event_ts": t2,
        }
    )
    bot.wait_replies(ts)
    assert service.calls[-1] == ("And who signed it?", f"slack:{dm}:{ts}")

    noise = _noise_events(dm)
    for event in noise:
        status, _ = bot.send_event(event)
        assert status == 200, event
    marker_ts, _ = bot.mention("marker")
    bot.wait_replies(marker_ts)
    assert len(fake.calls("chat.postMessage")) == 3
    assert [q for q, _ in service.calls] == ["What is the Outer Space Treaty?", "And who signed it?", "marker"]


def test_follow_up_in_thread_shares_the_conversation(make_bot, answers):
    service = RecordingService(answers)
    bot = make_bot(service)
    first = REAL_QUESTION if is_real(answers) else "What is Artemis II?"
    follow = REAL_FOLLOW_UP if is_real(answers) else "When does it launch?"
    ts, _ = bot.mention(first)
    bot.wait_replies(ts, timeout=60)
    t2, _ = bot.mention(follow, thread_ts=ts)
    replies = bot.wait_replies(ts, count=2, timeout=60)
    assert len(replies) == 2 and t2 != ts
    conv = f"slack:{CHANNEL}:{ts}"
    assert service.calls == [(first, conv), (follow, conv)]


def test_mention_injection_in_the_question_is_neutralised(make_bot, answers):
    service = RecordingService(answers)
    bot = make_bot(service)
    question = "<!channel> <!here> <!everyone> <@U0VICTIM1> <!subteam^S0123|@team> what is Artemis?"
    ts, _ = bot.mention(question)
    (reply,) = bot.wait_replies(ts, timeout=60)
    shown = posted(reply)
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U0VICTIM1>", "<!subteam"):
        assert raw not in shown
    assert service.calls[0][0] == "what is Artemis?"  # the markup never reaches the core
    if not is_real(answers):  # the scripted answer echoes the question
        assert section_texts(reply)[0].startswith("You asked: what is Artemis?")


def test_mention_injection_from_an_article_is_neutralised(make_bot):
    evil = [
        Citation(
            1,
            "evil-1",
            "Launch <!channel> update | <https://evil.example|click> & more",
            "<!here> News",
            "javascript:alert(1)",
            "2024-02-02",
            "Quote <!everyone> and <@U0VICTIM1> & <#C0SECRET1>",
            0.5,
        ),
        Citation(2, "evil-2", "Title with > and |pipes|", "NASA", "https://example.org/a?x=1&y=<2>", None, "", 0.4),
    ]
    text = "Launch <!channel> & <@U0VICTIM1> said <https://evil.example|click> [1][2]."
    bot = make_bot(ScriptedService(citations=evil, text=text))
    ts, _ = bot.mention("What happened?")
    (reply,) = bot.wait_replies(ts)
    shown = posted(reply)
    escaped = "Launch &lt;!channel&gt; &amp; &lt;@U0VICTIM1&gt; said &lt;https://evil.example|click&gt; [1][2]."
    assert section_texts(reply)[0] == escaped  # an article's words are shown, never acted on
    assert reply["text"].startswith(escaped)
    for raw in (
        "<!channel>",
        "<!here>",
        "<!everyone>",
        "<@U0VICTIM1>",
        "<#C0SECRET1>",
        "<https://evil.example",
        "javascript:",
    ):
        assert raw not in shown, raw
    sources = next(t for t in section_texts(reply) if t.startswith("*Sources*"))
    assert "[1] Launch &lt;!channel&gt; update" in sources  # no link: the url was not http(s)
    assert "&lt;!here&gt; News" in sources
    assert "<https://example.org/a?x=1&amp;y=%3C2%3E|Title with  and pipes>" in sources


def test_feedback_click_is_stored_and_the_message_updated(make_bot, fake):
    service = ScriptedService()
    bot = make_bot(service)
    ts, _ = bot.mention("What is Artemis II?")
    (reply,) = bot.wait_replies(ts)
    reply_ts = fake.wait_for(lambda calls: calls[-1].response is not None)[-1].response["ts"]
    actions = next(b for b in reply["blocks"] if b["type"] == "actions")
    button = next(e for e in actions["elements"] if e["action_id"] == ACTION_UP)
    payload = {
        "type": "block_actions",
        "user": {"id": "U0VOTER001", "username": "voter", "team_id": TEAM_ID},
        "api_app_id": "A0SPACEBOT",
        "token": "legacy-verification-token",
        "container": {"type": "message", "message_ts": reply_ts, "channel_id": CHANNEL, "is_ephemeral": False},
        "trigger_id": "123.456.abc",
        "team": {"id": TEAM_ID, "domain": "spacetest"},
        "channel": {"id": CHANNEL, "name": "space-news"},
        "message": {
            "type": "message",
            "bot_id": BOT_ID,
            "user": BOT_USER_ID,
            "ts": reply_ts,
            "thread_ts": ts,
            "text": reply["text"],
            "blocks": reply["blocks"],
        },
        "response_url": fake.url + "response_url",
        "actions": [
            {
                "action_id": ACTION_UP,
                "block_id": FEEDBACK_BLOCK_ID,
                "value": button["value"],
                "type": "button",
                "text": button["text"],
                "action_ts": str(time.time()),
            }
        ],
    }
    status, _ = bot.post(urlencode({"payload": json.dumps(payload)}), "application/x-www-form-urlencoded")
    assert status == 200
    (update,) = [c.params for c in fake.wait_calls("chat.update", 1)]
    assert update["channel"] == CHANNEL and update["ts"] == reply_ts
    assert not [b for b in update["blocks"] if b["type"] == "actions"]
    assert "Thanks — recorded 👍 from <@U0VOTER001>" in posted(update)
    assert update["blocks"][0] == reply["blocks"][0]  # the answer itself is unchanged
    (vote,) = FeedbackStore(bot.state_db).list()
    assert vote.vote == 1 and vote.user == "U0VOTER001" and vote.channel == CHANNEL and vote.ts == reply_ts
    assert vote.question == "What is Artemis II?"
    assert vote.answer.startswith("You asked: What is Artemis II?")
    assert vote.article_ids == ["nasa-artemis-2", "wh-space-policy"]


def test_twenty_concurrent_mentions_get_twenty_replies_each_once(make_bot, fake):
    service = ScriptedService(delay=0.3)
    bot = make_bot(service)
    timestamps = [new_ts() for _ in range(20)]
    t0 = time.monotonic()

    def deliver(ts: str) -> tuple[int, str]:
        # Like Slack, re-send an event whose connection was reset (seen once in ~3 full runs under
        # load; cause not found); the same event_id keeps "answered once" under test.
        try:
            return bot.mention(f"question for {ts}", ts=ts, event_id=f"Ev{ts}")[1]
        except ConnectionResetError:
            return bot.mention(f"question for {ts}", ts=ts, event_id=f"Ev{ts}")[1]

    with ThreadPoolExecutor(max_workers=20) as pool:
        results = list(pool.map(deliver, timestamps))
    acked_in = time.monotonic() - t0
    assert [status for status, _ in results] == [200] * 20
    assert acked_in < 3.0, f"20 acks took {acked_in:.1f}s"
    fake.wait_calls("chat.postMessage", 20, timeout=15)
    replies = bot.replies()
    assert sorted(r["thread_ts"] for r in replies) == sorted(timestamps)  # each once, own thread
    for r in replies:
        assert f"question for {r['thread_ts']}" in r["text"]


def test_service_error_gets_an_apology_and_the_bot_keeps_answering(make_bot, caplog):
    caplog.set_level(logging.DEBUG)
    bot = make_bot(ScriptedService())
    ts, _ = bot.mention("please explode")
    (reply,) = bot.wait_replies(ts)
    assert "Sorry" in reply["text"] and reply["thread_ts"] == ts
    errors = [r for r in caplog.records if r.name == "spacebot.slack" and r.levelno >= logging.ERROR]
    assert errors and errors[0].exc_info and "index unavailable" in caplog.text
    t2, _ = bot.mention("What is Artemis II?")
    (ok,) = bot.wait_replies(t2)
    assert "[1]" in ok["text"]
    assert SECRET not in caplog.text and TOKEN not in caplog.text


def test_refusal_renders_closest_articles(make_bot):
    bot = make_bot(ScriptedService())
    ts, _ = bot.mention("something unanswerable")
    (reply,) = bot.wait_replies(ts)
    texts = section_texts(reply)
    assert texts[0].startswith(REFUSAL_HEADER)
    assert any(
        "*Closest articles:*" in t and "<https://www.nasa.gov/msr|Mars Sample Return Update>" in t for t in texts
    )


def test_rate_limited_post_is_retried_after_retry_after(make_bot, fake):
    bot = make_bot(ScriptedService())
    fake.fail_once("chat.postMessage", status=429, retry_after=1)
    ts, _ = bot.mention("What is Artemis II?")
    calls = fake.wait_calls("chat.postMessage", 2, timeout=10)
    assert [c.params["thread_ts"] for c in calls] == [ts, ts]
    assert calls[1].at - calls[0].at >= 0.9  # waited for Retry-After
    marker_ts, _ = bot.mention("marker")
    bot.wait_replies(marker_ts)
    assert len(bot.replies(ts)) == 2  # the 429'd attempt and its one retry; nothing more


def test_empty_mention_gets_a_hint(make_bot):
    service = ScriptedService()
    bot = make_bot(service)
    ts, _ = bot.mention("   ")
    (reply,) = bot.wait_replies(ts)
    assert "Ask me a question" in reply["text"]
    assert service.calls == []


def test_socket_mode_acks_answers_and_drops_redelivery(fake, tmp_path):
    service = ScriptedService()
    with FakeSocketMode() as ws:
        fake.socket_url = ws.url
        settings = make_settings(
            tmp_path, slack_bot_token=TOKEN, slack_app_token="xapp-1-A0-test", slack_api_url=fake.url
        )
        app = build_app(settings, service)
        stop = threading.Event()
        thread = threading.Thread(
            target=serve_socket_mode, args=(app, "xapp-1-A0-test"), kwargs={"stop": stop}, daemon=True
        )
        thread.start()
        try:
            ws.wait_connected()
            ts = new_ts()
            body = event_envelope(mention_event("What is Artemis II?", ts), "Ev0SOCKET01")
            ws.send(
                {
                    "envelope_id": "env-1",
                    "type": "events_api",
                    "accepts_response_payload": False,
                    "retry_attempt": 0,
                    "retry_reason": "",
                    "payload": body,
                }
            )
            ws.wait_ack("env-1")
            (reply,) = [c.params for c in fake.wait_calls("chat.postMessage", 1)]
            assert reply["thread_ts"] == ts and "[1]" in reply["text"]
            # Slack redelivers over the socket with retry_attempt set: acked, not answered
            ws.send(
                {
                    "envelope_id": "env-2",
                    "type": "events_api",
                    "accepts_response_payload": False,
                    "retry_attempt": 1,
                    "retry_reason": "timeout",
                    "payload": body,
                }
            )
            ws.wait_ack("env-2")
            marker = new_ts()
            ws.send(
                {
                    "envelope_id": "env-3",
                    "type": "events_api",
                    "accepts_response_payload": False,
                    "retry_attempt": 0,
                    "retry_reason": "",
                    "payload": event_envelope(mention_event("m", marker)),
                }
            )
            fake.wait_for(lambda calls: any(c.params.get("thread_ts") == marker for c in calls))
            assert len([c for c in fake.calls("chat.postMessage") if c.params["thread_ts"] == ts]) == 1
            assert [q for q, _ in service.calls] == ["What is Artemis II?", "m"]
        finally:
            stop.set()
            thread.join(10)
            app.listener_runner.listener_executor.shutdown(wait=False, cancel_futures=True)
        assert not thread.is_alive()


@pytest.mark.slow
def test_index_going_away_mid_run_gets_an_apology_not_silence(make_bot, chroma_server, tmp_path, caplog):
    """A real index on a Chroma server: answered; then the server dies and the thread hears why."""
    from conftest import SAMPLE

    from bot.core.service import AnswerService
    from ingest.pipeline import run_ingest

    settings = make_settings(tmp_path / "data", CHROMA_HOST="127.0.0.1", CHROMA_PORT=chroma_server.port)
    assert not run_ingest([str(SAMPLE)], settings).failed
    bot = make_bot(AnswerService(settings))
    ts, _ = bot.mention(REAL_QUESTION)
    (reply,) = bot.wait_replies(ts, timeout=60)
    assert "[1]" in reply["text"]

    chroma_server.stop()
    caplog.set_level(logging.ERROR, logger="spacebot.slack")
    ts, _ = bot.mention(REAL_QUESTION)
    (apology,) = bot.wait_replies(ts, timeout=60)
    assert "Sorry" in apology["text"] and apology["thread_ts"] == ts
    assert any(r.name == "spacebot.slack" and r.levelno >= logging.ERROR for r in caplog.records)
    assert SECRET not in caplog.text and TOKEN not in caplog.text


def test_a_question_too_long_gets_the_reason_not_an_apology(make_bot, sample_service):
    bot = make_bot(sample_service)
    ts, _ = bot.mention("why " * 3000)
    (reply,) = bot.wait_replies(ts, timeout=30)
    assert "too long" in reply["text"] or "limit" in reply["text"]
    assert "Sorry" not in reply["text"]


def test_a_user_over_the_slack_rate_gets_an_ephemeral_note_and_others_are_answered(fake, tmp_path):
    bot = Bot(fake, ScriptedService(), tmp_path, settings={"SPACEBOT_SLACK_RATE": "2/hour"})
    try:
        threads = [bot.mention("What is Artemis II?")[0] for _ in range(3)]
        fake.wait_for(lambda calls: sum(c.method in ("chat.postMessage", "chat.postEphemeral") for c in calls) >= 3)
        notes = fake.calls("chat.postEphemeral")
        assert len(notes) == 1 and len(bot.replies()) == 2
        assert notes[0].params["user"] == ASKER and notes[0].params["thread_ts"] in threads
        assert "try again in" in notes[0].params["text"]
        other = new_ts()
        bot.send_event(mention_event("What is Artemis II?", other) | {"user": "U0SOMEONE2"})
        assert bot.wait_replies(other)  # the limit is per user
    finally:
        bot.close()
