"""The App Home tab: opening it publishes the user's follows, their channels' follows, the next
scheduled briefs and the last alerts, each follow with an Unfollow button (`views.publish`)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.faces.slack.follow_blocks import ACTION_UNFOLLOW, home_view
from bot.state.follows import USER

if TYPE_CHECKING:
    from bot.faces.slack.command import FollowServices

log = logging.getLogger("spacebot.slack")


def user_channels(client, user: str, s: FollowServices) -> list[str]:
    """Channels `user` is in (Slack's `users.conversations`), and those where they made a follow."""
    channels = {f.owner for f in s.follows.all() if f.scope != USER and f.created_by == user}
    try:
        response = client.users_conversations(user=user, types="public_channel,private_channel", limit=200)
        channels |= {c["id"] for c in (response.get("channels") or []) if c.get("id")}
    except Exception as exc:  # noqa: BLE001 (a missing scope must not leave the Home tab empty)
        log.info("users.conversations failed (%s); showing the channels the user followed from", type(exc).__name__)
    return sorted(channels)


def publish_home(client, user: str, s: FollowServices) -> None:
    """Render and `views.publish` the Home tab of `user`."""
    from bot.alerts.schedule import next_slot

    mine = s.follows.of(USER, user)
    channels = user_channels(client, user, s)
    theirs = s.follows.of_channels(channels)
    now = s.clock()
    schedules = [(sch, next_slot(sch, now)) for sch in s.channels.schedules() if sch.channel in channels]
    where = sorted({f.deliver_to for f in mine} | set(channels))
    alerts = s.follows.last_alerts(where, limit=5)
    client.views_publish(user_id=user, view=home_view(mine, theirs, schedules, alerts))


def install(app, services: FollowServices) -> None:
    """`app_home_opened` publishes the view; an Unfollow click stops that follow and republishes."""

    def ack_now(ack):
        ack()

    def opened(event, client):
        if event.get("tab", "home") != "home":
            return
        publish_home(client, event["user"], services)

    def unfollow(body, action, client):
        user = (body.get("user") or {}).get("id")
        follow = services.follows.get(int(action.get("value") or 0)) if str(action.get("value", "")).isdigit() else None
        if follow is not None and (follow.scope != USER or follow.owner == user):
            services.follows.remove(follow.id)
        if user:
            publish_home(client, user, services)

    app.event("app_home_opened")(ack=ack_now, lazy=[opened])
    app.action(ACTION_UNFOLLOW)(ack=ack_now, lazy=[unfollow])
