"""The HTTP door in front of Bolt: every request is checked before anything parses it.

In order, each check answers on its own and logs one warning line (never the
body, never a secret):

1. `X-Slack-Request-Timestamp` missing or not a number, or no `X-Slack-Signature` -> 401
2. `Content-Length` unreadable -> 400; over `max_body` -> 413 (the body is not read)
3. signature wrong or timestamp over five minutes old -> 401 (HMAC over the raw bytes)
4. body not UTF-8, not a JSON object (or a form whose `payload` is not one),
   an `event_callback` whose `event` is not an object with a `type` -> 400

Only then does Bolt see the request. Anything unexpected after that is logged as
one line with a request id (`unexpected_error`), and the caller gets a bare
500 with that id, never a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl

if TYPE_CHECKING:
    from slack_bolt import App

log = logging.getLogger("spacebot.slack")

# Slack's own bodies are far smaller: a message holds at most 40,000 characters of
# text and 50 blocks of 3,000, and a button click carries one such message,
# form-encoded. 1 MiB leaves room for that and refuses anything meant to hog memory.
MAX_BODY_BYTES = 1 << 20
# Slack's rule (and Bolt's): a request signed more than five minutes ago is a replay.
MAX_CLOCK_SKEW_S = 5 * 60
# The longest a Unix timestamp in seconds can sensibly be; longer digit strings are junk.
MAX_TIMESTAMP_DIGITS = 12
REQUEST_ID_HEADER = "X-Spacebot-Request-Id"


class Reject(Exception):
    """A request turned away: HTTP `status` and the one-line `reason` logged and returned."""

    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason


def new_request_id() -> str:
    """A short id naming one request in the log and in a 5xx answer."""
    return uuid.uuid4().hex[:12]


def unexpected_error(error: BaseException, request_id: str | None) -> None:
    """The one log line for an error nobody expected (the traceback only at DEBUG)."""
    detail = " ".join(str(error).split())[:200]
    log.error(
        "internal error in request %s: %s%s", request_id or "-", type(error).__name__, f": {detail}" if detail else ""
    )
    log.debug("traceback of request %s", request_id or "-", exc_info=error)


def _header(environ: dict, name: str) -> str | None:
    return environ.get("HTTP_" + name.upper().replace("-", "_"))


def check_headers(environ: dict) -> str:
    """The timestamp, if it and a signature are there and it is a plain number; else `Reject(401)`."""
    timestamp = _header(environ, "X-Slack-Request-Timestamp")
    if timestamp is None:
        raise Reject(401, "no X-Slack-Request-Timestamp header")
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= MAX_TIMESTAMP_DIGITS):
        raise Reject(401, "X-Slack-Request-Timestamp is not a Unix time in seconds")
    if not _header(environ, "X-Slack-Signature"):
        raise Reject(401, "no X-Slack-Signature header")
    return timestamp


def content_length(environ: dict, max_body: int) -> int:
    """The declared body size, checked against `max_body` before a byte is read."""
    raw = (environ.get("CONTENT_LENGTH") or "0").strip()
    if not (raw.isascii() and raw.isdigit()):
        raise Reject(400, "Content-Length is not a number")
    length = int(raw)
    if length > max_body:
        raise Reject(413, f"body of {length} bytes is over the {max_body}-byte limit")
    return length


def verify_signature(secret: str, timestamp: str, signature: str, body: bytes, now: float | None = None) -> None:
    """Slack's v0 signature over the raw bytes, and a fresh timestamp; else `Reject(401)`."""
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_CLOCK_SKEW_S:
        raise Reject(401, "stale X-Slack-Request-Timestamp (over five minutes from now)")
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        raise Reject(401, "invalid request signature")


def parse_body(text: str, content_type: str) -> dict:
    """The body as Bolt will read it (JSON, or a form with a JSON `payload`), as a dict; else `Reject(400)`."""
    if not text:
        return {}
    try:
        if content_type.split(";")[0].strip() == "application/json" or text.startswith("{"):
            data = json.loads(text)
        else:
            form = dict(parse_qsl(text, keep_blank_values=True))
            data = json.loads(form["payload"]) if "payload" in form else form
    except (ValueError, RecursionError) as exc:
        raise Reject(400, f"body is not valid JSON ({type(exc).__name__})") from None
    if not isinstance(data, dict):
        raise Reject(400, f"body is a JSON {type(data).__name__}, not an object")
    if data.get("type") == "event_callback" and not isinstance(data.get("event"), dict):
        raise Reject(400, "event_callback without an event object")
    problem = shape_problem(data, _PAYLOAD_SHAPE)
    if problem is None and isinstance(data.get("event"), dict):
        if not isinstance(data["event"].get("type"), str):
            problem = "event without a type"
        else:
            problem = shape_problem(data["event"], _EVENT_SHAPE, "event.")
    if problem:
        raise Reject(400, problem)
    return data


_TEXT, _OBJECT, _OBJECTS = (str,), (dict,), "list of objects"
# The type of every field Bolt itself reads from a payload (its matchers, its context
# builders): a field of another type would make Bolt fail inside, after our door.
_PAYLOAD_SHAPE: dict[str, tuple | str] = {
    **dict.fromkeys(
        (
            "type",
            "event_id",
            "team_id",
            "api_app_id",
            "token",
            "challenge",
            "trigger_id",
            "response_url",
            "callback_id",
            "user_id",
            "channel_id",
            "enterprise_id",
            "command",
            "context_team_id",
            "context_enterprise_id",
            "function_execution_id",
            "bot_access_token",
            "action_id",
            "subtype",
            "thread_ts",
            "ssl_check",
        ),
        _TEXT,
    ),
    **dict.fromkeys(
        (
            "event",
            "view",
            "container",
            "message",
            "channel",
            "user",
            "function_data",
            "item",
            "previous_message",
            "assistant_thread",
            "state",
            "workflow_step",
        ),
        _OBJECT,
    ),
    **dict.fromkeys(("team", "enterprise"), (str, dict)),
    **dict.fromkeys(("authorizations", "actions", "response_urls"), _OBJECTS),
}
_EVENT_SHAPE: dict[str, tuple | str] = {
    **dict.fromkeys(
        (
            "type",
            "subtype",
            "ts",
            "thread_ts",
            "event_ts",
            "bot_id",
            "channel_type",
            "user_team",
            "team_id",
            "enterprise_id",
            "function_execution_id",
        ),
        _TEXT,
    ),
    **dict.fromkeys(
        ("message", "previous_message", "item", "assistant_thread", "bot_profile", "function", "inputs"), _OBJECT
    ),
    **dict.fromkeys(("user", "channel", "team", "enterprise"), (str, dict)),
    "authorizations": _OBJECTS,
}


# Fields Bolt indexes once they are present: null there fails too (elsewhere Slack sends
# null for "none", e.g. `"enterprise": null`, and Bolt copes).
_NOT_NULL = frozenset(
    (
        "event",
        "view",
        "actions",
        "authorizations",
        "response_urls",
        "workflow_step",
        "function_data",
        "message",
        "previous_message",
        "assistant_thread",
        "item",
    )
)


def shape_problem(data: dict, shape: dict[str, tuple | str], prefix: str = "") -> str | None:
    """The first field of `data` whose type differs from `shape`'s, as a reason; None when all fit."""
    for name, expected in shape.items():
        value = data.get(name)
        if value is None:
            if name in _NOT_NULL and name in data:
                return f"{prefix}{name} is null"
            continue
        if expected == _OBJECTS:
            if not (isinstance(value, list) and all(isinstance(v, dict) for v in value)):
                return f"{prefix}{name} is not a list of objects"
        elif not isinstance(value, expected):
            return f"{prefix}{name} is a {type(value).__name__}"
    return None


class SlackDoor:
    """A WSGI app: `GET /healthz`, and `POST {path}` checked (see the module docstring) then
    handed to Bolt. `secret` is the signing secret."""

    def __init__(self, app: App, secret: str, path: str, max_body: int = MAX_BODY_BYTES):
        self.app = app
        self.secret = secret
        self.path = path
        self.max_body = max_body

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        request_id = new_request_id()
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        if method == "GET" and path == "/healthz":
            return _respond(start_response, 200, "ok", request_id)
        if path != self.path:
            return _respond(start_response, 404, "not found", request_id)
        if method != "POST":
            return _respond(start_response, 405, "only POST", request_id)
        try:
            response = self._handle(environ, request_id)
        except Reject as rejected:
            log.warning("request %s rejected with %s: %s", request_id, rejected.status, rejected.reason)
            return _respond(start_response, rejected.status, rejected.reason, request_id)
        except Exception as error:  # noqa: BLE001 (anything else: one line, a bare 500 with the id)
            unexpected_error(error, request_id)
            return _respond(start_response, 500, f"internal error (request {request_id})", request_id)
        start_response(response.status, [*response.get_headers(), (REQUEST_ID_HEADER, request_id)])
        return response.get_body()

    def _handle(self, environ: dict, request_id: str):
        from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
        from slack_bolt.request import BoltRequest

        if not self.secret:
            raise Reject(401, "no signing secret configured (SLACK_SIGNING_SECRET)")
        timestamp = check_headers(environ)
        length = content_length(environ, self.max_body)
        try:
            raw = environ["wsgi.input"].read(length) if length else b""
        except OSError as exc:  # a client that stops sending: the socket timeout ends it
            raise Reject(400, f"body not received ({type(exc).__name__})") from None
        if len(raw) != length:
            raise Reject(400, f"body cut short ({len(raw)} of {length} bytes)")
        verify_signature(self.secret, timestamp, _header(environ, "X-Slack-Signature") or "", raw)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Reject(400, "body is not UTF-8") from None
        content_type = environ.get("CONTENT_TYPE") or ""
        parse_body(text, content_type)
        headers = {k[5:].lower().replace("_", "-"): v for k, v in environ.items() if k.startswith("HTTP_")}
        headers["content-type"] = content_type
        try:
            request = BoltRequest(body=text, query=environ.get("QUERY_STRING", ""), headers=headers)
        except Exception as exc:  # noqa: BLE001 (Bolt could not read the payload's fields: a malformed body)
            raise Reject(400, f"malformed Slack payload ({type(exc).__name__})") from None
        request.context["request_id"] = request_id
        response = self.app.dispatch(request)
        return WsgiHttpResponse(status=response.status, headers=response.headers, body=response.body)


def _status_line(status: int) -> str:
    from http import HTTPStatus

    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _respond(start_response: Callable, status: int, text: str, request_id: str) -> list[bytes]:
    body = text.encode("utf-8")
    start_response(
        _status_line(status),
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            (REQUEST_ID_HEADER, request_id),
        ],
    )
    return [body]
