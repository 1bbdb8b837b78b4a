"""The spacebot Slack app: one `build_app`, and two ways to serve it.

Every listener acks at once (in the request thread: the app runs with
`process_before_response=True`) and answers in a lazy listener on a thread
pool, so Slack never waits past its 3 s deadline. Duplicate deliveries are
dropped by a global middleware that remembers `event_id`s in SQLite.

Without an LLM an answer is one `chat.postMessage`. With one, the reply is
streamed: a placeholder is posted at once, `chat.update`d with the text so far
at most once per `STREAM_INTERVAL` as the LLM writes, and finally replaced by
the finished answer (sources and feedback buttons).
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from bot.slack.blocks import (
    ACTION_DOWN,
    ACTION_UP,
    APOLOGY,
    draft_message,
    escape_mrkdwn,
    notice_message,
    placeholder_message,
    render_answer,
    with_feedback_recorded,
)

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.feedback import FeedbackStore
    from bot.records import Answer
    from bot.slack.dedupe import SeenEvents
    from ingest.settings import Settings

log = logging.getLogger("spacebot.slack")

EVENTS_PATH = "/slack/events"
EMPTY_QUESTION_HINT = (
    "Ask me a question about space policy, for example "
    "_What did the Artemis Accords commit signatories to?_"
)
_MENTION = re.compile(r"<@([UW][A-Z0-9]+)(?:\|[^>]*)?>")
STREAM_INTERVAL = 1.0  # seconds between chat.update calls while an answer is written


class AskService(Protocol):
    """The answering core, as the Slack face uses it.

    A service whose `llm_ready()` returns True (or, lacking that method, whose `llm`
    is not None) writes its answers with an LLM: the reply is then streamed.
    """

    def ask(
        self,
        question: str,
        conversation_id: str | None = None,
        on_token: Callable[[str], None] | None = None,
    ) -> Answer: ...


# --------------------------------------------------------------------------- helpers


def api_base_url(url: str | None) -> str | None:
    """`SLACK_API_URL` as slack_sdk wants it (with a trailing slash), or None."""
    if not url or not url.strip():
        return None
    url = url.strip()
    return url if url.endswith("/") else url + "/"


def _secret(value: Any) -> str | None:
    if value is None:
        return None
    raw = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    return raw or None


def with_rate_limit_retries(client: WebClient, max_retries: int = 2) -> WebClient:
    """Attach slack_sdk's `RateLimitErrorRetryHandler` (honours Retry-After) once."""
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    if not any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=max_retries))
    return client


def make_client(settings: Settings) -> WebClient:
    """A `WebClient` with the bot token, `SLACK_API_URL` and 429 retries."""
    from slack_sdk import WebClient

    kwargs: dict[str, Any] = {"token": _secret(settings.slack_bot_token)}
    base = api_base_url(settings.slack_api_url)
    if base:
        kwargs["base_url"] = base
    return with_rate_limit_retries(WebClient(**kwargs))


def strip_mention(text: str | None, bot_user_id: str | None = None) -> str:
    """The question without the bot's `<@BOTID>` (or, bot id unknown, leading mentions)."""
    text = text or ""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^>]*)?>", " ", text)
    else:
        text = re.sub(rf"^(\s*{_MENTION.pattern})+", " ", text)
    return " ".join(text.split())


def conversation_id(channel: str, thread_ts: str | None, *, dm: bool = False) -> str:
    """`slack:{channel}:{thread_ts}`; a DM outside a thread is `slack:{channel}:dm`."""
    if dm:
        return f"slack:{channel}:{thread_ts or 'dm'}"
    return f"slack:{channel}:{thread_ts}"


class _RedactBodies(logging.Filter):
    """Cut request bodies out of Bolt's log lines (they carry user text and Slack's
    legacy verification token, e.g. in "Invalid request signature detected")."""

    _BODY = re.compile(r"body: .*", re.DOTALL)

    def filter(self, record: logging.LogRecord) -> bool:
        msg = record.getMessage()
        if "body: " in msg:
            record.msg, record.args = self._BODY.sub("body: (redacted)", msg), ()
        return True


def _quiet_bolt_bodies() -> None:
    for name in ("slack_bolt.RequestVerification", "slack_bolt.App"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _RedactBodies) for f in logger.filters):
            logger.addFilter(_RedactBodies())


def _retry_num(headers: dict[str, Any]) -> int:
    """Slack's retry count: `X-Slack-Retry-Num` over HTTP; over Socket Mode Bolt
    copies the envelope's `retry_attempt` into it, and that is "0" on a first delivery."""
    raw = (headers.get("x-slack-retry-num") or ["0"])[0]
    try:
        return int(raw)
    except (TypeError, ValueError):
        return 1  # present but unreadable: treat as a retry


_USER_SUBTYPES = (None, "", "thread_broadcast", "file_share")


def _is_plain_user_message(event: dict[str, Any]) -> bool:
    """A message a person wrote (not an edit, deletion, join or bot message)."""
    return event.get("subtype") in _USER_SUBTYPES and not event.get("bot_id") and bool(event.get("user"))


def streams_answers(service: Any) -> bool:
    """True when `service` writes answers with an LLM now (so they are worth streaming)."""
    ready = getattr(service, "llm_ready", None)
    if callable(ready):
        return bool(ready())
    return getattr(service, "llm", None) is not None


class StreamedReply:
    """One threaded reply that grows while the answer is written.

    A placeholder is posted at once; `on_token` feeds a `StreamThrottle` that
    `chat.update`s it with the text so far (first piece at once, then at most once
    per `interval`); `finish(message)` replaces it with the finished answer.

    Drafts are best effort and must not hold up the answer: they go through a copy
    of the client without retries and with a short timeout. A draft refused with
    429 pauses drafts for its Retry-After; any other failure stops them (logged
    once). A failed finish is posted as a new message instead.
    """

    def __init__(self, client: WebClient, channel: str, thread_ts: str | None,
                 interval: float = STREAM_INTERVAL, draft_timeout: float = 5.0) -> None:
        from slack_sdk import WebClient

        from bot.generate import StreamThrottle

        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self._drafts = WebClient(  # drafts only: no retries, a short timeout
            token=client.token, base_url=client.base_url, timeout=max(1, round(draft_timeout)),
            ssl=client.ssl, proxy=client.proxy, headers=dict(client.headers or {}), retry_handlers=[],
        )
        self._paused_until = 0.0
        self._stopped = False
        self.throttle = StreamThrottle(self._update, interval=interval)
        self.ts = _post_ts(client, channel, thread_ts, placeholder_message()) or None

    def on_token(self, piece: str) -> None:
        if self.ts is not None and not self._stopped:
            self.throttle(piece)

    def _update(self, text: str) -> None:
        if time.monotonic() < self._paused_until:
            return
        try:
            self._drafts.chat_update(channel=self.channel, ts=self.ts, **draft_message(text))
        except Exception as exc:  # never let Slack break the answer being written
            response = getattr(exc, "response", None)
            if getattr(response, "status_code", None) == 429:
                try:
                    wait = float((response.headers or {}).get("retry-after", 1))
                except (TypeError, ValueError):
                    wait = 1.0
                self._paused_until = time.monotonic() + wait
                log.info("drafts rate-limited in %s; pausing them for %.0fs", self.channel, wait)
                return
            log.warning("chat.update of a draft failed in %s (%s); no more drafts for this answer",
                        self.channel, type(exc).__name__)
            self._stopped = True

    def finish(self, message: dict[str, Any]) -> bool:
        """Show `message` in place of the draft (or, failing that, as a new reply)."""
        if self.ts is not None:
            try:
                self.client.chat_update(channel=self.channel, ts=self.ts, **message)
                return True
            except Exception:
                log.exception("chat.update of the final answer failed in %s; posting it", self.channel)
                try:
                    self.client.chat_delete(channel=self.channel, ts=self.ts)
                except Exception:  # a stale draft is untidy, not harmful
                    log.warning("could not delete the draft in %s", self.channel)
        return _post(self.client, self.channel, self.thread_ts, message)


# --------------------------------------------------------------------------- the app


def build_app(
    settings: Settings,
    service: AskService,
    client: WebClient | None = None,
    *,
    token_verification_enabled: bool = True,
    feedback: FeedbackStore | None = None,
    seen: SeenEvents | None = None,
    workers: int = 8,
    drop_retries: bool = True,
) -> App:
    """The Bolt app, built from `settings` and answering with `service.ask`.

    `client` defaults to `make_client(settings)`; a given client gets 429 retries
    attached. `token_verification_enabled=False` skips the `auth.test` call at
    build time (it then happens on the first request). `feedback` and `seen`
    default to stores in `settings.state_db`. With `drop_retries`, a request
    carrying `X-Slack-Retry-Num` is acked and dropped even if its `event_id` is new.
    """
    from concurrent.futures import ThreadPoolExecutor

    from slack_bolt import App
    from slack_bolt.response import BoltResponse

    from bot.feedback import FeedbackStore
    from bot.slack.dedupe import SeenEvents

    token = _secret(settings.slack_bot_token)
    if not token:
        raise ValueError("SLACK_BOT_TOKEN is not set (the xoxb- bot token)")
    client = with_rate_limit_retries(client) if client is not None else make_client(settings)
    if client.token is None:
        client.token = token
    _quiet_bolt_bodies()
    feedback = feedback or FeedbackStore(settings.state_db)
    seen = seen or SeenEvents(settings.state_db)

    app = App(
        name="spacebot",
        client=client,
        signing_secret=_secret(settings.slack_signing_secret) or "",
        token_verification_enabled=token_verification_enabled,
        process_before_response=True,
        listener_executor=ThreadPoolExecutor(max_workers=workers, thread_name_prefix="spacebot-slack"),
    )

    # -- duplicates --------------------------------------------------------
    def drop_duplicates(req, body, next):  # noqa: A002 (Bolt injects `next` by name)
        if req.lazy_only or body.get("type") != "event_callback":
            return next()
        event_id = body.get("event_id")
        retry = _retry_num(req.headers)
        if event_id and not seen.first_time(event_id):
            log.info("dropping duplicate event %s (retry %s)", event_id, retry or 0)
            return BoltResponse(status=200, body="")
        if retry and drop_retries:
            log.info("dropping retried event %s (retry %s)", event_id, retry)
            return BoltResponse(status=200, body="")
        return next()

    app.use(drop_duplicates)

    # -- answering ---------------------------------------------------------
    def reply(client: WebClient, channel: str, thread_ts: str | None, conv: str, question: str) -> None:
        """Ask the service and reply once (answer, refusal or apology); streamed with an LLM."""
        if not question:
            _post(client, channel, thread_ts, {"text": EMPTY_QUESTION_HINT})
            return
        draft = StreamedReply(client, channel, thread_ts) if streams_answers(service) else None
        try:
            if draft is None:
                answer = service.ask(question, conversation_id=conv)
            else:
                answer = service.ask(question, conversation_id=conv, on_token=draft.on_token)
        except Exception:
            log.exception("answering failed in %s", conv)
            if draft is None:
                _post(client, channel, thread_ts, {"text": APOLOGY})
            else:
                draft.finish(notice_message(APOLOGY))
            return
        key = None
        try:
            key = feedback.remember(
                question,
                answer.text,
                [c.article_id for c in answer.citations],
                refused=answer.refused,
                channel=channel,
                conversation_id=conv,
            )
        except Exception:  # feedback is a nicety: answer anyway, without buttons
            log.exception("could not store the answer for feedback")
        message = render_answer(answer, key)
        sent = _post(client, channel, thread_ts, message) if draft is None else draft.finish(message)
        if not sent:
            _post(client, channel, thread_ts, {"text": APOLOGY})

    def ack_now(ack):
        ack()

    def answer_mention(event, context, client):
        if not _is_plain_user_message(event):  # other bots: no bot-to-bot loops
            return
        channel = event["channel"]
        thread_ts = event.get("thread_ts") or event["ts"]
        question = strip_mention(event.get("text"), context.bot_user_id)
        reply(client, channel, thread_ts, conversation_id(channel, thread_ts), question)

    def answer_dm(event, context, client):
        channel = event["channel"]
        thread_ts = event.get("thread_ts")
        question = strip_mention(event.get("text"), context.bot_user_id)
        reply(client, channel, thread_ts, conversation_id(channel, thread_ts, dm=True), question)

    def is_dm_question(event) -> bool:
        return event.get("channel_type") == "im" and _is_plain_user_message(event)

    app.event("app_mention")(ack=ack_now, lazy=[answer_mention])
    app.event("message", matchers=[is_dm_question])(ack=ack_now, lazy=[answer_dm])
    # Other message events (edits, bot messages, channel chatter) are acked and
    # ignored: an unhandled event would get a 404 and Slack would retry it.
    app.event("message")(ack_now)

    # -- feedback buttons ---------------------------------------------------
    def record_vote(body, action, client):
        vote = 1 if action.get("action_id") == ACTION_UP else -1
        key = action.get("value") or ""
        user = (body.get("user") or {}).get("id")
        message = body.get("message") or {}
        container = body.get("container") or {}
        channel = (body.get("channel") or {}).get("id") or container.get("channel_id")
        ts = message.get("ts") or container.get("message_ts")
        try:
            stored = feedback.lookup(key)
            if stored is None:
                log.warning("feedback for an unknown answer key %r", key[:32])
                feedback.record("", message.get("text", ""), [], vote, user, channel, ts, key=key or None)
            else:
                feedback.record(stored.question, stored.answer, stored.article_ids, vote, user, channel, ts, key=key)
        except Exception:
            log.exception("could not record feedback")
            return
        if channel and ts:
            try:
                client.chat_update(
                    channel=channel,
                    ts=ts,
                    text=message.get("text") or "spacebot answer",
                    blocks=with_feedback_recorded(message.get("blocks") or [], vote, user),
                )
            except Exception:
                log.exception("could not update the message after feedback")

    app.action(ACTION_UP)(ack=ack_now, lazy=[record_vote])
    app.action(ACTION_DOWN)(ack=ack_now, lazy=[record_vote])
    return app


def _post(client: WebClient, channel: str, thread_ts: str | None, message: dict[str, Any]) -> bool:
    """`chat.postMessage` in the thread; False (logged) when Slack refuses it."""
    return _post_ts(client, channel, thread_ts, message) is not None


def _post_ts(client: WebClient, channel: str, thread_ts: str | None, message: dict[str, Any]) -> str | None:
    """`chat.postMessage` in the thread; the new message's ts, or None (logged) when refused."""
    try:
        response = client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            unfurl_links=False,
            unfurl_media=False,
            **message,
        )
    except Exception:
        log.exception("chat.postMessage failed in %s", channel)
        return None
    return response.get("ts") or ""


# --------------------------------------------------------------------------- serving


def wsgi_app(app: App, path: str = EVENTS_PATH) -> Callable:
    """A WSGI application: Bolt at `path`, `GET /healthz` for load balancers."""
    from slack_bolt.adapter.wsgi import SlackRequestHandler

    handler = SlackRequestHandler(app, path=path)

    def application(environ, start_response):
        if environ.get("REQUEST_METHOD") == "GET" and environ.get("PATH_INFO") == "/healthz":
            start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
            return [b"ok"]
        return handler(environ, start_response)

    return application


def make_http_server(app: App, port: int = 3000, host: str = "0.0.0.0", path: str = EVENTS_PATH) -> WSGIServer:
    """A threading stdlib WSGI server (one thread per request) bound to `host:port`."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

    class QuietHandler(WSGIRequestHandler):
        def log_message(self, format, *args):  # noqa: A002
            log.debug("http %s - %s", self.address_string(), format % args)

    class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
        daemon_threads = True
        allow_reuse_address = True

    server = ThreadingWSGIServer((host, port), QuietHandler)
    server.set_app(wsgi_app(app, path))
    return server


def serve_http(
    app: App,
    port: int = 3000,
    host: str = "0.0.0.0",
    *,
    path: str = EVENTS_PATH,
    on_ready: Callable[[WSGIServer], None] | None = None,
) -> None:
    """Serve `app` over HTTP until `server.shutdown()` (or Ctrl-C).

    `on_ready(server)` is called once the socket is bound (`server.server_port`
    is the real port when `port=0`); call `server.shutdown()` from another
    thread to stop.
    """
    server = make_http_server(app, port, host, path)
    try:
        log.info("spacebot listening on http://%s:%s%s", host, server.server_port, path)
        if on_ready is not None:
            on_ready(server)
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def serve_socket_mode(
    app: App,
    app_token: str,
    *,
    on_ready: Callable[[Any], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Connect to Slack over Socket Mode (an `xapp-` token) and block until `stop` is set.

    `on_ready(handler)` gets the connected `SocketModeHandler`. Without `stop`,
    this blocks until Ctrl-C.
    """
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    if not app_token or not app_token.startswith("xapp-"):
        raise ValueError("Socket Mode needs an app-level token starting with xapp- (SLACK_APP_TOKEN)")
    handler = SocketModeHandler(app, app_token)
    handler.connect()
    log.info("spacebot connected to Slack over Socket Mode")
    try:
        if on_ready is not None:
            on_ready(handler)
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        pass
    finally:
        handler.close()


def run(
    settings: Settings,
    service: AskService,
    *,
    http: bool = False,
    port: int = 3000,
    host: str = "0.0.0.0",
) -> None:
    """What `spacebot slack [--http --port N]` does: HTTP mode, or Socket Mode by default."""
    if http:
        if not _secret(settings.slack_signing_secret):
            raise ValueError("HTTP mode needs SLACK_SIGNING_SECRET (Basic Information > Signing Secret)")
        serve_http(build_app(settings, service), port=port, host=host)
        return
    app_token = _secret(settings.slack_app_token)
    if not app_token:
        raise ValueError(
            "Socket Mode needs SLACK_APP_TOKEN (an xapp- token with connections:write); "
            "or run with --http and SLACK_SIGNING_SECRET"
        )
    serve_socket_mode(build_app(settings, service), app_token)


__all__ = [
    "AskService",
    "StreamedReply",
    "api_base_url",
    "build_app",
    "conversation_id",
    "escape_mrkdwn",
    "make_client",
    "make_http_server",
    "run",
    "serve_http",
    "serve_socket_mode",
    "streams_answers",
    "strip_mention",
    "with_rate_limit_retries",
    "wsgi_app",
]
