"""Posting replies in a thread: one message, or one that grows while an LLM writes it."""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from bot.faces.slack.blocks import draft_message, placeholder_message

if TYPE_CHECKING:
    from slack_sdk import WebClient

log = logging.getLogger("spacebot.slack")

STREAM_INTERVAL = 1.0  # seconds between chat.update calls while an answer is written


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

    def __init__(
        self,
        client: WebClient,
        channel: str,
        thread_ts: str | None,
        interval: float = STREAM_INTERVAL,
        draft_timeout: float = 5.0,
    ) -> None:
        from slack_sdk import WebClient

        from bot.core.generate import StreamThrottle

        self.client = client
        self.channel = channel
        self.thread_ts = thread_ts
        self._drafts = WebClient(  # drafts only: no retries, a short timeout
            token=client.token,
            base_url=client.base_url,
            timeout=max(1, round(draft_timeout)),
            ssl=client.ssl,
            proxy=client.proxy,
            headers=dict(client.headers or {}),
            retry_handlers=[],
        )
        self._paused_until = 0.0
        self._stopped = False
        self.throttle = StreamThrottle(self._update, interval=interval)
        self.ts = post_reply_ts(client, channel, thread_ts, placeholder_message()) or None

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
            log.warning(
                "chat.update of a draft failed in %s (%s); no more drafts for this answer",
                self.channel,
                type(exc).__name__,
            )
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
        return post_reply(self.client, self.channel, self.thread_ts, message)


def post_reply(client: WebClient, channel: str, thread_ts: str | None, message: dict[str, Any]) -> bool:
    """`chat.postMessage` in the thread; False (logged) when Slack refuses it."""
    return post_reply_ts(client, channel, thread_ts, message) is not None


def post_reply_ts(client: WebClient, channel: str, thread_ts: str | None, message: dict[str, Any]) -> str | None:
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
