"""The background loop of `spacebot slack`: alerts for new stories and scheduled briefs.

Every `Settings.alert_poll_seconds` it runs one alert pass (`AlertDispatcher.run_once`) and
posts each schedule's due brief; both are safe with several replicas (unique inserts in
the state store decide who posts). A failing pass is logged in one line and retried next time.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from bot.faces.slack.follow_blocks import alert_message, gathered_message

if TYPE_CHECKING:
    from bot.alerts.dispatch import AlertDispatcher, Hit
    from bot.faces.slack.command import FollowServices
    from ingest.settings import Settings

log = logging.getLogger("spacebot.alerts")


class SlackPoster:
    """Posts alerts with `chat.postMessage` (False, logged, when Slack refuses)."""

    def __init__(self, client) -> None:
        self.client = client

    def _post(self, channel: str, message: dict[str, Any]) -> bool:
        try:
            self.client.chat_postMessage(channel=channel, unfurl_links=False, unfurl_media=False, **message)
            return True
        except Exception as exc:  # noqa: BLE001
            log.warning("posting an alert to %s failed: %s", channel, type(exc).__name__)
            return False

    def alert(self, channel: str, hit: Hit) -> bool:
        return self._post(channel, alert_message(hit))

    def gathered(self, channel: str, hits: list[Hit]) -> bool:
        return self._post(channel, gathered_message(hits))


def make_dispatcher(settings: Settings, services: FollowServices, client, embed=None) -> AlertDispatcher:
    """The dispatcher of `spacebot slack`: the index's embedder, the bundled cross-encoder, Slack."""
    from bot.alerts.dispatch import AlertDispatcher
    from bot.alerts.matching import TopicMatcher
    from bot.core.rerank import load_reranker

    if embed is None:
        from ingest.derived_state import open_query_encoder

        embed = open_query_encoder(settings).encode
    matcher = TopicMatcher(embed, load_reranker(settings.reranker), settings.topic_threshold)
    return AlertDispatcher(
        services.follows,
        services.channels,
        services.stories,
        matcher,
        SlackPoster(client),
        per_hour=settings.alerts_per_hour,
        clock=services.clock,
    )


def run_scheduled_briefs(services: FollowServices, client) -> int:
    """Post every schedule's due brief not posted yet (by any replica); how many this call posted."""
    from bot.alerts.schedule import due_slot
    from bot.faces.slack.command import post_brief

    posted = 0
    for schedule in services.channels.schedules():
        slot = due_slot(schedule, services.clock())
        if slot is not None and post_brief(services, client, schedule.channel, None, how="scheduled", slot=slot):
            posted += 1
    return posted


class FollowWorker:
    """A daemon thread: one alert pass and the due briefs every `interval` seconds until `stop()`."""

    def __init__(self, dispatcher: AlertDispatcher, services: FollowServices, client, interval: float) -> None:
        self.dispatcher = dispatcher
        self.services = services
        self.client = client
        self.interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="spacebot-follows", daemon=True)

    def start(self) -> FollowWorker:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def run_once(self) -> None:
        for name, step in (("alerts", self.dispatcher.run_once), ("briefs", self._briefs)):
            try:
                step()
            except Exception as exc:  # noqa: BLE001 (one line; the next pass tries again)
                log.warning("%s pass failed: %s: %s", name, type(exc).__name__, " ".join(str(exc).split())[:200])

    def _briefs(self) -> None:
        run_scheduled_briefs(self.services, self.client)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self.interval)
