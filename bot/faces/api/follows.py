"""`/v1/follows` and `/v1/brief`: follows and briefings for teams outside Slack (the same stores and
briefing as `/spacebot`; alerts for these follows are posted by `spacebot slack` where one runs)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field, model_validator

if TYPE_CHECKING:
    from ingest.settings import Settings


class FollowRequest(BaseModel):
    """Follow `topic` for a Slack channel or a user (exactly one of them)."""

    topic: str = Field(..., min_length=1, max_length=200, description="What to be alerted about, in plain words.")
    channel: str | None = Field(None, max_length=40, description="A Slack channel id: the channel follows.")
    user: str | None = Field(None, max_length=40, description="A Slack user id: the user follows (alerts by DM).")

    @model_validator(mode="after")
    def _one_owner(self):
        if self.topic.strip() == "":
            raise ValueError("topic is empty")
        if (self.channel is None) == (self.user is None):
            raise ValueError("give exactly one of channel or user")
        return self


def _follow_dict(follow) -> dict:
    return {
        "id": follow.id,
        "topic": follow.topic,
        "scope": follow.scope,
        "owner": follow.owner,
        "deliver_to": follow.deliver_to,
        "created_at": follow.created_at,
    }


def follow_routes(settings: Settings) -> APIRouter:
    """The routes; `create_app` includes them behind the same bearer token as the rest of /v1."""
    router = APIRouter(tags=["follows"])

    def store():
        from bot.state.follows import FollowStore

        return FollowStore(settings.state_url)

    @router.post("/v1/follows", summary="Follow a topic (as `/spacebot follow`)", status_code=201)
    def add(body: FollowRequest):
        from bot.state.follows import CHANNEL, USER

        scope, owner = (CHANNEL, body.channel) if body.channel else (USER, body.user)
        follow = store().add(scope, owner, owner, " ".join(body.topic.split()), created_by="api")
        return _follow_dict(follow)

    @router.get("/v1/follows", summary="Follows, oldest first (of one channel or user when given)")
    def listing(channel: str | None = None, user: str | None = None):
        from bot.state.follows import CHANNEL, USER

        follows = store().all()
        if channel:
            follows = [f for f in follows if f.scope == CHANNEL and f.owner == channel]
        if user:
            follows = [f for f in follows if f.scope == USER and f.owner == user]
        return {"follows": [_follow_dict(f) for f in follows]}

    @router.delete("/v1/follows/{follow_id}", summary="Stop a follow", status_code=204)
    def remove(follow_id: int):
        if not store().remove(follow_id):
            raise HTTPException(404, f"no follow {follow_id}")
        return Response(status_code=204)

    @router.get("/v1/brief", summary="The stories indexed in a window (as `spacebot brief --json`)")
    def brief(since: str = "1d", topic: str | None = None):
        from bot.alerts.briefing import WindowError, briefing_for, parse_window

        try:
            window = parse_window(since)
        except WindowError as exc:
            raise HTTPException(400, f"since: {exc}") from None
        return briefing_for(settings, window, topic or None).to_dict()

    return router
