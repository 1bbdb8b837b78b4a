"""Bolt-side guards, for HTTP and Socket Mode alike: events that lack what the listeners
need are acked and dropped with one warning line, and the app's unexpected errors
become one log line with a request id.

Dropping answers 200, not 400: the envelope came signed from Slack, and Slack
resends any delivery not acknowledged with a 2xx three more times, which would
only repeat the warning. (Bodies that are not Slack envelopes at all are turned
away with 400 by `bot.faces.slack.door` before Bolt sees them.)
"""

from __future__ import annotations

import logging
from typing import Any

from bot.faces.slack.door import new_request_id, unexpected_error

log = logging.getLogger("spacebot.slack")

# Fields the listeners read as text, and those each answered event type cannot lack.
_TEXT_FIELDS = ("channel", "ts", "thread_ts", "text", "user", "subtype", "bot_id", "channel_type")
_REQUIRED = {"app_mention": ("channel", "ts"), "message": ("channel",)}
# Parts of a button click the feedback listener reads as objects.
_ACTION_OBJECTS = ("user", "channel", "container", "message", "team")


def event_problem(event: Any) -> str | None:
    """Why an `app_mention` / `message` event cannot be answered, or None when it can."""
    if not isinstance(event, dict):
        return "the event is not an object"
    for name in _REQUIRED.get(event.get("type"), ()):
        if not event.get(name):
            return f"no {name}"
    for name in _TEXT_FIELDS:
        if event.get(name) is not None and not isinstance(event[name], str):
            return f"{name} is not a string"
    return None


def actions_problem(body: dict) -> str | None:
    """Why a `block_actions` payload cannot be read, or None when it can."""
    for name in _ACTION_OBJECTS:
        if body.get(name) is not None and not isinstance(body[name], dict):
            return f"{name} is not an object"
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not all(isinstance(a, dict) for a in actions):
        return "actions is not a list of objects"
    for action in actions:
        for name in ("action_id", "value", "block_id"):
            if action.get(name) is not None and not isinstance(action[name], str):
                return f"action {name} is not a string"
    return None


def drop_malformed(req, body, next):  # Bolt injects `next` by name
    """Global middleware: ack and drop (200) what the listeners could not read, with one warning."""
    from slack_bolt.response import BoltResponse

    if req.lazy_only:
        return next()
    kind = body.get("type")
    problem = None
    if kind == "event_callback":
        event = body.get("event")
        event_type = event.get("type") if isinstance(event, dict) else None
        if event_type in _REQUIRED or not isinstance(event, dict):
            problem = event_problem(event)
            kind = f"{event_type or 'unknown'} event"
    elif kind == "block_actions":
        problem = actions_problem(body)
    if problem is None:
        return next()
    event_id = body.get("event_id") if isinstance(body.get("event_id"), str) else "-"
    log.warning(
        "dropping a malformed %s (event %s, request %s): %s",
        kind,
        event_id[:40],
        req.context.get("request_id", "-"),
        problem,
    )
    return BoltResponse(status=200, body="")


def on_unexpected_error(error, request):
    """Bolt's global error handler: one log line with the request id; the caller gets a bare 500."""
    from slack_bolt.response import BoltResponse

    request_id = request.context.get("request_id") if request is not None else None
    request_id = request_id or new_request_id()
    unexpected_error(error, request_id)
    return BoltResponse(status=500, body=f"internal error (request {request_id})")


def install(app) -> None:
    """Put the guards on a Bolt app (call before registering other middleware)."""
    app.use(drop_malformed)
    app.error(on_unexpected_error)
