"""Hostile but signed (or half-signed) requests at the real Bolt app over real HTTP:
each gets a 4xx (or an ack-and-drop 200) and one warning line, never a 5xx or a traceback."""

from __future__ import annotations

import json
import logging
import socket
import urllib.error
import urllib.request
from urllib.parse import urlencode

import pytest
from test_slack_app import (
    ASKER,
    CHANNEL,
    SECRET,
    TOKEN,
    Bot,
    ScriptedService,
    event_envelope,
    mention_event,
    new_ts,
)

try:
    from tests.fake_slack import sign
except ModuleNotFoundError:
    from fake_slack import sign

from bot.faces.slack.door import MAX_BODY_BYTES, REQUEST_ID_HEADER


@pytest.fixture
def bot(fake, tmp_path):
    b = Bot(fake, ScriptedService(), tmp_path)
    yield b
    b.close()


def send(bot: Bot, body: bytes, headers: dict[str, str]) -> tuple[int, str, dict]:
    req = urllib.request.Request(bot.url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return resp.status, resp.read().decode(), dict(resp.headers)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(), dict(e.headers)


def signed(body: str | bytes, content_type: str = "application/json", **sign_kw) -> dict[str, str]:
    return {"Content-Type": content_type, **sign(SECRET, body, **sign_kw)}


def lines(caplog, level=logging.WARNING) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.levelno >= level]


def good_mention() -> dict:
    return event_envelope(mention_event("What is Artemis II?", new_ts()))


def _without(event: dict, field: str) -> dict:
    return {k: v for k, v in event.items() if k != field}


def malformed_bodies() -> list[tuple[str, str, str, int]]:
    """(name, body, content type, expected status)."""
    env = good_mention()
    event = env["event"]
    click = {"type": "block_actions", "user": {"id": ASKER}, "actions": [{"action_id": "feedback_up", "value": 5}]}
    return [
        ("truncated JSON", json.dumps(env)[:60], "application/json", 400),
        ("a JSON array", json.dumps([env]), "application/json", 400),
        ("a JSON string", '"hello"', "application/json", 400),
        ("event null", json.dumps({**env, "event": None}), "application/json", 400),
        ("event a list", json.dumps({**env, "event": [event]}), "application/json", 400),
        ("event without type", json.dumps({**env, "event": _without(event, "type")}), "application/json", 400),
        ("authorizations of numbers", json.dumps({**env, "authorizations": [1]}), "application/json", 400),
        ("form payload not JSON", "payload=%7Bnot-json", "application/x-www-form-urlencoded", 400),
        ("form payload an array", urlencode({"payload": "[1]"}), "application/x-www-form-urlencoded", 400),
        (
            "click with user a string",
            urlencode({"payload": json.dumps({**click, "user": "U0NOTANOBJECT"})}),
            "application/x-www-form-urlencoded",
            400,
        ),
        # envelopes Slack could send, whose event lacks what we need: acked (no retries), dropped
        ("mention without channel", json.dumps({**env, "event": _without(event, "channel")}), "application/json", 200),
        ("mention without ts", json.dumps({**env, "event": _without(event, "ts")}), "application/json", 200),
        ("mention text a number", json.dumps({**env, "event": {**event, "text": 5}}), "application/json", 200),
        (
            "click with a value not a string",
            urlencode({"payload": json.dumps(click)}),
            "application/x-www-form-urlencoded",
            200,
        ),
    ]


def test_malformed_signed_bodies_get_4xx_and_one_warning_line(bot, fake, caplog):
    caplog.set_level(logging.INFO)
    for name, body, content_type, expected in malformed_bodies():
        caplog.clear()
        status, text, _ = send(bot, body.encode(), signed(body, content_type))
        assert status == expected, (name, status, text)
        warned = lines(caplog)
        assert len(warned) == 1 and warned[0].levelno == logging.WARNING, (name, [r.getMessage() for r in warned])
        assert "Traceback" not in caplog.text and "Traceback" not in text, name
    # nothing was answered, and the bot still answers a good mention, once
    marker = good_mention()
    body = json.dumps(marker)
    assert send(bot, body.encode(), signed(body))[0] == 200
    bot.wait_replies(marker["event"]["ts"])
    assert [q for q, _ in bot.service.calls] == ["What is Artemis II?"]
    assert len(fake.calls("chat.postMessage")) == 1


@pytest.mark.parametrize("timestamp", [None, "soon", "1e9", "²³¹", "-5", "9" * 40, ""])
def test_a_missing_or_odd_timestamp_is_401_before_the_body_is_parsed(bot, caplog, timestamp):
    body = b'{"type": "event_callback", "event": nul'  # would be a 400 if it were parsed
    headers = signed(body)
    if timestamp is None:
        del headers["X-Slack-Request-Timestamp"]
    else:
        headers["X-Slack-Request-Timestamp"] = timestamp
    caplog.set_level(logging.INFO)
    status, text, _ = send(bot, body, headers)
    assert status == 401, text
    assert len(lines(caplog)) == 1 and "Traceback" not in caplog.text


def test_unsigned_request_is_401_even_when_well_formed(bot):
    body = json.dumps(good_mention())
    headers = signed(body)
    del headers["X-Slack-Signature"]
    assert send(bot, body.encode(), headers)[0] == 401
    assert send(bot, body.encode(), signed(body, timestamp=0))[0] == 401  # signed, long ago
    assert bot.service.calls == []


def test_a_body_over_the_limit_is_413_without_being_read(bot):
    """The door answers from the Content-Length alone: no body bytes are ever sent here,
    so a door that tried to read them would wait and then answer something else."""
    host, port = "127.0.0.1", bot.bolt.server.server_port
    headers = sign(SECRET, b"")
    request = (
        f"POST /slack/events HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {MAX_BODY_BYTES + 1}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    )
    with socket.create_connection((host, port), timeout=30) as sock:
        sock.sendall(request.encode())
        status_line = sock.makefile("rb").readline().decode()
    assert status_line.split()[1] == "413", status_line


def test_an_unexpected_error_is_one_line_with_a_request_id(fake, tmp_path, caplog):
    class BrokenSeen:
        def first_time(self, event_id):
            raise RuntimeError("database is locked")

    bot = Bot(fake, ScriptedService(), tmp_path, seen=BrokenSeen())
    try:
        caplog.set_level(logging.INFO)
        body = json.dumps(good_mention())
        status, text, headers = send(bot, body.encode(), signed(body))
    finally:
        bot.close()
    request_id = headers[REQUEST_ID_HEADER]
    assert status == 500 and text == f"internal error (request {request_id})"
    (error,) = lines(caplog, logging.ERROR)
    assert request_id in error.getMessage() and "database is locked" in error.getMessage()
    assert error.exc_info is None and "Traceback" not in caplog.text


def test_other_paths_and_methods_get_4xx(bot):
    base = bot.url.rsplit("/slack/events", 1)[0]
    for url, method in ((base + "/nope", "POST"), (bot.url, "GET"), (bot.url, "PUT")):
        req = urllib.request.Request(url, data=b"{}" if method != "GET" else None, method=method)
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req, timeout=10)
        assert 400 <= e.value.code < 500
    with urllib.request.urlopen(base + "/healthz", timeout=10) as resp:
        assert resp.read() == b"ok"


def test_a_dm_lacking_its_channel_is_dropped_not_answered(bot, fake, caplog):
    caplog.set_level(logging.INFO)
    ts = new_ts()
    status, _ = bot.send_event(
        {"type": "message", "channel_type": "im", "user": ASKER, "text": "What is the Outer Space Treaty?", "ts": ts}
    )
    assert status == 200
    assert any("no channel" in r.getMessage() for r in lines(caplog))
    marker_ts, _ = bot.mention("marker")
    bot.wait_replies(marker_ts)
    assert [q for q, _ in bot.service.calls] == ["marker"]
    assert all(c.params["channel"] == CHANNEL for c in fake.calls("chat.postMessage"))


@pytest.fixture
def fake():
    try:
        from tests.fake_slack import FakeSlack
    except ModuleNotFoundError:
        from fake_slack import FakeSlack
    with FakeSlack(token=TOKEN) as f:
        yield f
