"""The spacebot Slack app: `build_app` and its listeners (serving is in `bot.faces.slack.serve`).

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
from typing import TYPE_CHECKING, Any

from bot.core.api import AskService, QuestionError, streams_answers
from bot.core.question import normalise_question
from bot.faces.slack import guards
from bot.faces.slack.blocks import (
    ACTION_DOWN,
    ACTION_UP,
    APOLOGY,
    escape_mrkdwn,
    notice_message,
    render_answer,
    with_feedback_recorded,
)
from bot.faces.slack.client import make_client, secret_value, with_rate_limit_retries
from bot.faces.slack.replies import StreamedReply, post_reply

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk import WebClient

    from bot.core.records import Filters
    from bot.faces.slack.command import FollowServices
    from bot.state.event_ids import SeenEvents
    from bot.state.feedback import FeedbackStore
    from bot.state.rate_limits import RateLimiter
    from ingest.settings import Settings

__all__ = ["AskService", "build_app", "conversation_id"]  # AskService: serve.py imports it from here

log = logging.getLogger("spacebot.slack")

EMPTY_QUESTION_HINT = (
    "Ask me a question about space policy, for example _What did the Artemis Accords commit signatories to?_"
)


# --------------------------------------------------------------------------- helpers


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


def _is_dm_question(event) -> bool:
    return event.get("channel_type") == "im" and _is_plain_user_message(event)


def _ack_now(ack):
    ack()


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
    follows: FollowServices | None = None,
) -> App:
    """The Bolt app, built from `settings` and answering with `service.ask`.

    `client` defaults to `make_client(settings)`; a given client gets 429 retries
    attached. `token_verification_enabled=False` skips the `auth.test` call at
    build time (it then happens on the first request). `feedback` and `seen`
    default to stores in `settings.state_url`. With `drop_retries`, a request
    carrying `X-Slack-Retry-Num` is acked and dropped even if its `event_id` is new.
    `follows` (default: stores in `settings.state_url`) serves `/spacebot` and the Home tab.
    """
    from bot.faces.slack import command, home
    from bot.state.event_ids import SeenEvents
    from bot.state.feedback import FeedbackStore
    from bot.state.rate_limits import limiter_from_setting

    app = _bolt_app(settings, client, token_verification_enabled, workers)
    feedback = feedback or FeedbackStore(settings.state_url)
    guards.install(app)  # first: malformed events acked and dropped; unexpected errors: one line, a request id
    app.use(_duplicate_filter(seen or SeenEvents(settings.state_url), drop_retries))

    follows = follows or follow_services(settings, service)
    limiter = limiter_from_setting(settings.slack_rate, "SPACEBOT_SLACK_RATE", settings.state_url, scope="slack")
    answer_mention, answer_dm = _question_listeners(service, feedback, follows, limiter)
    app.event("app_mention")(ack=_ack_now, lazy=[answer_mention])
    app.event("message", matchers=[_is_dm_question])(ack=_ack_now, lazy=[answer_dm])
    # Other message events (edits, bot messages, channel chatter) are acked and
    # ignored: an unhandled event would get a 404 and Slack would retry it.
    app.event("message")(_ack_now)

    record_vote = _vote_listener(feedback)
    app.action(ACTION_UP)(ack=_ack_now, lazy=[record_vote])
    app.action(ACTION_DOWN)(ack=_ack_now, lazy=[record_vote])
    command.install(app, follows, limiter)  # /spacebot
    home.install(app, follows)  # the App Home tab
    return app


def follow_services(settings: Settings, service: AskService) -> FollowServices:
    """The stores and readers `/spacebot` and the Home tab use, from `settings`."""
    from bot.alerts.stories import StoryReader, indexed_sources
    from bot.faces.slack.command import FollowServices
    from bot.state.channels import ChannelStore
    from bot.state.follows import FollowStore

    return FollowServices(
        FollowStore(settings.state_url),
        ChannelStore(settings.state_url),
        StoryReader(settings),
        service,
        lambda: indexed_sources(settings),
    )


def _bolt_app(settings: Settings, client: WebClient | None, token_verification_enabled: bool, workers: int) -> App:
    """A Bolt `App` that acks in the request thread and runs lazy listeners on `workers` threads."""
    from concurrent.futures import ThreadPoolExecutor

    from slack_bolt import App

    token = secret_value(settings.slack_bot_token)
    if not token:
        raise ValueError("SLACK_BOT_TOKEN is not set (the xoxb- bot token)")
    client = with_rate_limit_retries(client) if client is not None else make_client(settings)
    if client.token is None:
        client.token = token
    _quiet_bolt_bodies()
    return App(
        name="spacebot",
        client=client,
        signing_secret=secret_value(settings.slack_signing_secret) or "",
        token_verification_enabled=token_verification_enabled,
        process_before_response=True,
        listener_executor=ThreadPoolExecutor(max_workers=workers, thread_name_prefix="spacebot-slack"),
    )


def _duplicate_filter(seen: SeenEvents, drop_retries: bool):
    """Global middleware: an event whose `event_id` was seen (or, with `drop_retries`, any
    retry) is acked with 200 and dropped."""
    from slack_bolt.response import BoltResponse

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

    return drop_duplicates


def _question_listeners(
    service: AskService, feedback: FeedbackStore, follows: FollowServices, limiter: RateLimiter | None = None
):
    """The lazy listeners for a mention in a channel and for a DM: each from its channel's own sources,
    each user's questions counted against `limiter` (`SPACEBOT_SLACK_RATE`)."""
    from bot.faces.slack.command import channel_filters

    def answer_mention(event, client):
        if not _is_plain_user_message(event):  # other bots: no bot-to-bot loops
            return
        channel = event["channel"]
        thread_ts = event.get("thread_ts") or event["ts"]
        if too_fast(limiter, client, event["user"], channel, thread_ts):
            return
        question = normalise_question(event.get("text"))
        conv = conversation_id(channel, thread_ts)
        reply(service, feedback, client, channel, thread_ts, conv, question, channel_filters(follows, channel))

    def answer_dm(event, client):
        channel = event["channel"]
        thread_ts = event.get("thread_ts")
        if too_fast(limiter, client, event["user"], channel, thread_ts):
            return
        question = normalise_question(event.get("text"))
        conv = conversation_id(channel, thread_ts, dm=True)
        reply(service, feedback, client, channel, thread_ts, conv, question, channel_filters(follows, channel))

    return answer_mention, answer_dm


def rate_note(wait) -> str:
    """What a user over `SPACEBOT_SLACK_RATE` is told (`wait`: the limiter's `RetryAfter`)."""
    return f"You're asking faster than I answer here; try again in {wait.header} s."


def too_fast(limiter: RateLimiter | None, client: WebClient, user: str, channel: str, thread_ts: str | None) -> bool:
    """Count one question of `user`; over the limit, tell them alone (an ephemeral note) and say True."""
    wait = limiter.hit(user) if limiter is not None else None
    if wait is None:
        return False
    log.info("user %s is over SPACEBOT_SLACK_RATE; not answered", user)
    try:
        client.chat_postEphemeral(
            channel=channel,
            user=user,
            thread_ts=thread_ts,
            text=rate_note(wait),
        )
    except Exception:  # noqa: BLE001 (the note is a courtesy; the question stays unanswered either way)
        log.exception("could not post the rate-limit note")
    return True


def reply(
    service: AskService,
    feedback: FeedbackStore,
    client: WebClient,
    channel: str,
    thread_ts: str | None,
    conv: str,
    question: str,
    filters: Filters | None = None,
) -> None:
    """Ask the service and reply once (answer, refusal or apology); streamed with an LLM.
    `filters`: a channel's own sources."""
    if not question:
        post_reply(client, channel, thread_ts, {"text": EMPTY_QUESTION_HINT})
        return
    draft = StreamedReply(client, channel, thread_ts) if streams_answers(service) else None
    try:
        more = {"filters": filters} if filters is not None else {}  # services that take no filters still work
        answer = service.ask(question, conversation_id=conv, on_token=draft.on_token if draft else None, **more)
    except Exception as exc:
        if isinstance(exc, QuestionError):  # empty, punctuation only, too long: say so
            text = f"I can't answer that: {escape_mrkdwn(str(exc))}"
        else:
            log.exception("answering failed in %s", conv)
            text = APOLOGY
        if draft is None:
            post_reply(client, channel, thread_ts, {"text": text})
        else:
            draft.finish(notice_message(text))
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
    sent = post_reply(client, channel, thread_ts, message) if draft is None else draft.finish(message)
    if not sent:
        post_reply(client, channel, thread_ts, {"text": APOLOGY})


def _vote_listener(feedback: FeedbackStore):
    """The lazy listener for a 👍/👎 click: store the vote, then thank the voter in place of the buttons."""

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
        if not (channel and ts):
            return
        try:
            client.chat_update(
                channel=channel,
                ts=ts,
                text=message.get("text") or "spacebot answer",
                blocks=with_feedback_recorded(message.get("blocks") or [], vote, user),
            )
        except Exception:
            log.exception("could not update the message after feedback")

    return record_vote
