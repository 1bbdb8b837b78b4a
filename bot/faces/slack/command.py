"""`/spacebot`: one slash command with subcommands (follow, following, unfollow, sources, ask, brief, help).

The command is parsed in the ack (pure, instant): `help` and any bad input are answered there,
as one ephemeral line. Everything else is acked at once and done in a lazy listener, which
answers the person through `respond` (ephemeral, the command's `response_url`) and posts what
the channel should see with `chat.postMessage`.

In a channel the channel follows; in a DM (a `D…` channel id) the user does, and alerts come
to that DM.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.faces.slack.blocks import APOLOGY, escape_mrkdwn, render_answer
from bot.state.follows import CHANNEL, USER

if TYPE_CHECKING:
    from bot.alerts.stories import StoryReader
    from bot.core.api import AskService
    from bot.state.channels import ChannelStore
    from bot.state.follows import Follow, FollowStore

log = logging.getLogger("spacebot.slack")

COMMAND = "/spacebot"
MAX_TOPIC_CHARS = 200
HELP = (
    "*/spacebot* commands:\n"
    "• `follow TOPIC` — alert this channel (or you, in a DM) to each new story on TOPIC\n"
    "• `following` — the numbered follows here · `unfollow N` — stop one\n"
    "• `sources [S1,S2 | all]` — which sources this channel's answers, briefs and alerts draw from\n"
    "• `ask QUESTION` — answer in the channel, from its sources\n"
    "• `brief [WINDOW]` — the new stories (since the last brief, at most 1d; or e.g. `12h`, `2d`)\n"
    "• `brief daily HH:MM [TZ]` · `brief weekly DAY HH:MM [TZ]` · `brief off` — scheduled briefs"
)
SUBCOMMANDS = ("help", "follow", "following", "unfollow", "sources", "ask", "brief")


class CommandError(ValueError):
    """Bad input: the one line the person sees."""


@dataclass(frozen=True)
class Request:
    """A parsed `/spacebot` call."""

    action: str
    arg: str
    channel: str
    user: str
    dm: bool

    @property
    def scope(self) -> tuple[str, str]:
        """(scope, owner) of follows made here: the user in a DM, else the channel."""
        return (USER, self.user) if self.dm else (CHANNEL, self.channel)


def parse(body: dict[str, Any]) -> Request:
    """The subcommand and its argument; `CommandError` with one helpful line for bad input."""
    from bot.alerts.briefing import parse_window
    from bot.alerts.schedule import parse_schedule

    text = " ".join(str(body.get("text") or "").split())
    action, _, arg = text.partition(" ")
    action = action.lower() or "help"
    channel = str(body.get("channel_id") or "")
    dm = channel.startswith("D") or body.get("channel_name") == "directmessage"
    request = Request(action, arg.strip(), channel, str(body.get("user_id") or ""), dm)
    if action not in SUBCOMMANDS:
        raise CommandError(f"'{escape_mrkdwn(action)}' is not a /spacebot command: try `/spacebot help`")
    if action == "follow" and not request.arg:
        raise CommandError("Follow what? Write `/spacebot follow TOPIC`, e.g. `/spacebot follow lunar landers`")
    if action == "follow" and len(request.arg) > MAX_TOPIC_CHARS:
        raise CommandError(f"That topic is {len(request.arg)} characters; keep it under {MAX_TOPIC_CHARS}")
    if action == "unfollow" and not request.arg.isdigit():
        raise CommandError(f"'{escape_mrkdwn(request.arg)}' is not a follow number: `/spacebot following` lists them")
    if action == "ask" and not request.arg:
        raise CommandError("Ask what? Write `/spacebot ask QUESTION`")
    if action == "brief" and request.arg:
        words = request.arg.split()
        try:
            if words[0].lower() in ("daily", "weekly"):
                parse_schedule(channel, [words[0].lower(), *words[1:]])
            elif words[0].lower() != "off" or len(words) > 1:
                parse_window(request.arg)
        except ValueError as exc:
            raise CommandError(str(exc)) from None
    return request


@dataclass
class FollowServices:
    """What the subcommands need: the stores, the index's stories, the answering service."""

    follows: FollowStore
    channels: ChannelStore
    stories: StoryReader
    service: AskService
    known_sources: Callable[[], list[str]]
    clock: Callable[[], float] = field(default=time.time)


def install(app, services: FollowServices, limiter=None) -> None:
    """Register `/spacebot` on the Bolt `app`; each user's commands (but `help`) count against
    `limiter` (a `bot.state.rate_limits.RateLimiter`, `SPACEBOT_SLACK_RATE`), as their questions do."""

    def ack_command(ack, body):
        try:
            request = parse(body)
        except CommandError as exc:
            ack(text=str(exc), response_type="ephemeral")
            return
        if request.action == "help":
            ack(text=HELP, response_type="ephemeral")
        else:
            ack()

    def run_command(body, respond, client):
        try:
            request = parse(body)
        except CommandError:
            return  # answered in the ack
        if request.action == "help":
            return
        wait = limiter.hit(body.get("user_id", "")) if limiter is not None else None
        if wait is not None:
            from bot.faces.slack.app import rate_note

            respond(text=rate_note(wait), response_type="ephemeral")
            return
        try:
            HANDLERS[request.action](services, request, respond, client)
        except Exception:
            log.exception("/spacebot %s failed", request.action)
            respond(text=APOLOGY, response_type="ephemeral")

    app.command(COMMAND)(ack=ack_command, lazy=[run_command])


# --------------------------------------------------------------------------- subcommands


def _where(request: Request) -> str:
    return "you (in this DM)" if request.dm else "this channel"


def _post(client, channel: str, message: dict[str, Any]) -> None:
    client.chat_postMessage(channel=channel, unfurl_links=False, unfurl_media=False, **message)


def do_follow(s: FollowServices, request: Request, respond, client) -> None:
    scope, owner = request.scope
    follow = s.follows.add(scope, owner, request.channel, request.arg, request.user)
    count = len(s.follows.of(scope, owner))
    respond(
        text=f"Following *{escape_mrkdwn(follow.topic)}* for {_where(request)} ({count} follow"
        f"{'s' * (count != 1)}): one alert per new story, reprints folded.",
        response_type="ephemeral",
    )
    if not request.dm:
        _post(
            client,
            request.channel,
            {"text": f"<@{request.user}> set this channel to follow *{escape_mrkdwn(follow.topic)}*."},
        )


def numbered(follows: list[Follow]) -> str:
    return "\n".join(f"{n}. {escape_mrkdwn(f.topic)}" for n, f in enumerate(follows, 1))


def do_following(s: FollowServices, request: Request, respond, client) -> None:
    follows = s.follows.of(*request.scope)
    if not follows:
        respond(
            text=f"Nothing followed for {_where(request)}: `/spacebot follow TOPIC` starts one.",
            response_type="ephemeral",
        )
        return
    respond(text=f"Followed for {_where(request)}:\n{numbered(follows)}", response_type="ephemeral")


def do_unfollow(s: FollowServices, request: Request, respond, client) -> None:
    follows = s.follows.of(*request.scope)
    n = int(request.arg)
    if not 1 <= n <= len(follows):
        respond(
            text=f"There is no follow number {n} here ({len(follows)} follow{'s' * (len(follows) != 1)}): "
            "`/spacebot following` lists them.",
            response_type="ephemeral",
        )
        return
    follow = follows[n - 1]
    s.follows.remove(follow.id)
    respond(text=f"Stopped following *{escape_mrkdwn(follow.topic)}*.", response_type="ephemeral")
    if not request.dm:
        _post(
            client,
            request.channel,
            {"text": f"<@{request.user}> stopped this channel following *{escape_mrkdwn(follow.topic)}*."},
        )


def do_sources(s: FollowServices, request: Request, respond, client) -> None:
    known = s.known_sources()
    listing = ", ".join(known) or "none yet"
    if not request.arg:
        own = s.channels.sources(request.channel)
        now = ", ".join(own) if own else "all sources"
        respond(text=f"This channel draws from: {now}. Indexed sources: {listing}.", response_type="ephemeral")
        return
    if request.arg.lower() == "all":
        s.channels.set_sources(request.channel, None, request.user)
        respond(text="This channel now draws from all sources.", response_type="ephemeral")
        return
    wanted = [w.strip() for w in request.arg.split(",") if w.strip()]
    by_lower = {k.lower(): k for k in known}
    unknown = [w for w in wanted if w.lower() not in by_lower]
    if unknown:
        respond(
            text=f"Unknown source{'s' * (len(unknown) > 1)}: {escape_mrkdwn(', '.join(unknown))}. "
            f"Indexed sources: {listing}.",
            response_type="ephemeral",
        )
        return
    chosen = sorted({by_lower[w.lower()] for w in wanted})
    s.channels.set_sources(request.channel, chosen, request.user)
    respond(text=f"This channel now draws from: {', '.join(chosen)}.", response_type="ephemeral")


def channel_filters(s: FollowServices, channel: str):
    """Retrieval filters for a channel with its own sources (None: every source)."""
    from bot.core.records import Filters

    own = s.channels.sources(channel)
    return Filters(source=tuple(own)) if own else None


def do_ask(s: FollowServices, request: Request, respond, client) -> None:
    from bot.core.api import QuestionError

    filters = channel_filters(s, request.channel)
    kwargs = {"filters": filters} if filters is not None else {}
    try:
        answer = s.service.ask(request.arg, conversation_id=f"slack:{request.channel}:ask:{request.user}", **kwargs)
    except QuestionError as exc:
        respond(text=f"I can't answer that: {escape_mrkdwn(str(exc))}", response_type="ephemeral")
        return
    message = render_answer(answer)
    message["text"] = f"<@{request.user}> asked: {escape_mrkdwn(request.arg)}\n" + message.get("text", "")
    _post(client, request.channel, message)


def do_brief(s: FollowServices, request: Request, respond, client) -> None:
    from bot.alerts.schedule import describe, next_slot, parse_schedule

    words = request.arg.split()
    if words and words[0].lower() == "off":
        gone = s.channels.clear_schedule(request.channel)
        respond(
            text="Scheduled briefs are off here." if gone else "There was no scheduled brief here.",
            response_type="ephemeral",
        )
        return
    if words and words[0].lower() in ("daily", "weekly"):
        schedule = parse_schedule(request.channel, [words[0].lower(), *words[1:]])
        s.channels.set_schedule(schedule, request.user)
        at = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(next_slot(schedule, s.clock())))
        respond(text=f"Briefs here {describe(schedule)}; the next one {at}.", response_type="ephemeral")
        return
    post_brief(s, client, request.channel, request.arg or None, how="manual")
    respond(text="Briefing posted.", response_type="ephemeral")


def post_brief(
    s: FollowServices, client, channel: str, window: str | None, *, how: str, slot: float | None = None
) -> bool:
    """Build and post the channel's briefing (a manual one, or the scheduled `slot` if not posted yet)."""
    from bot.alerts.briefing import DEFAULT_WINDOW, build_briefing, parse_window
    from bot.faces.slack.follow_blocks import brief_message

    now = s.clock()
    if window:
        since = now - parse_window(window)
    else:
        last = s.channels.last_brief(channel)
        since = max(last or 0.0, now - DEFAULT_WINDOW)
    if not s.channels.claim_brief(channel, slot if slot is not None else now, how):
        return False  # another replica posts this one
    stories = s.stories.indexed_between(since, now, s.channels.sources(channel))
    followed = _followed(s, channel)
    briefing = build_briefing(stories, since, now, followed)
    _post(client, channel, brief_message(briefing))
    return True


def _followed(s: FollowServices, channel: str) -> dict[str, str]:
    """Story key -> followed topic, for stories already alerted in `channel`."""
    topics = {f.id: f.topic for f in s.follows.all() if f.deliver_to == channel}
    out = {}
    for alert in s.follows.last_alerts([channel], limit=500):
        if alert.follow_id in topics:
            out.setdefault(alert.story, topics[alert.follow_id])
    return out


HANDLERS = {
    "follow": do_follow,
    "following": do_following,
    "unfollow": do_unfollow,
    "sources": do_sources,
    "ask": do_ask,
    "brief": do_brief,
}
