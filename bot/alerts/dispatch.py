"""The alert dispatcher: match newly indexed stories against every follow and send each alert once.

One pass (`run_once`), run every `Settings.alert_poll_seconds` by `spacebot slack`:

1. read the stories indexed since the cursor (less `LOOKBACK`, for a write that committed late),
   skipping article versions already checked; stop at a story the keyword index does not list
   yet (its copies are not known), unless it waited `SETTLE_SECONDS`;
2. match each against each follow made before it was indexed, whose channel's own sources
   (if any) include it, and that was not alerted for any copy of it (a reprint is folded);
3. per channel, claim each alert with the unique insert (of two replicas, one wins and only it
   posts), send up to `per_hour` single alerts an hour, and gather the rest into one message.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.alerts.matching import TopicMatch, TopicMatcher
from bot.alerts.stories import SETTLE_SECONDS, Story, StoryReader
from bot.state.channels import ChannelStore
from bot.state.follows import Follow, FollowStore

log = logging.getLogger("spacebot.alerts")

CURSOR = "alerts"
# Seconds re-read before the cursor each pass: an ingest stamps a batch just before writing it, so a
# batch can land after a later-stamped one was read (the checked set keeps re-reads from matching twice).
LOOKBACK = 120.0


@dataclass(frozen=True)
class Hit:
    """A story that matched a follow, with the sentence that matched."""

    follow: Follow
    story: Story
    match: TopicMatch


class Poster(Protocol):
    """Where alerts go (Slack in `spacebot slack`); each returns False when the post failed."""

    def alert(self, channel: str, hit: Hit) -> bool: ...

    def gathered(self, channel: str, hits: list[Hit]) -> bool: ...


class AlertDispatcher:
    """Matches and sends; every store call is its own transaction, so replicas can share the database."""

    def __init__(
        self,
        follows: FollowStore,
        channels: ChannelStore,
        reader: StoryReader,
        matcher: TopicMatcher,
        poster: Poster,
        per_hour: int = 6,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.follows = follows
        self.channels = channels
        self.reader = reader
        self.matcher = matcher
        self.poster = poster
        self.per_hour = per_hour
        self.clock = clock

    def run_once(self) -> list[Hit]:
        """One pass; the hits this dispatcher sent (singly or gathered)."""
        follows = self.follows.all()
        now = self.clock()
        if not follows:
            self.follows.advance_cursor(CURSOR, now - LOOKBACK)  # nothing to alert: no backlog either
            return []
        cursor = self.follows.cursor(CURSOR)
        since = min(f.created_at for f in follows) if cursor is None else cursor
        since = max(since, min(f.created_at for f in follows)) - LOOKBACK
        checked = self.follows.checked(since)
        hits: list[Hit] = []
        for story in self.reader.indexed_between(since):
            if (story.article_id, story.indexed_at) in checked:
                continue
            if not story.settled and now - story.indexed_at < SETTLE_SECONDS:
                break  # its copies are not known yet: the next pass takes it, and everything after it
            hits.extend(self._match(story, follows))
            self.follows.mark_checked(story.article_id, story.indexed_at)
            self.follows.advance_cursor(CURSOR, story.indexed_at - LOOKBACK)
        return self._deliver(hits)

    def _match(self, story: Story, follows: list[Follow]) -> list[Hit]:
        prepared = None
        out = []
        for follow in follows:
            if follow.created_at >= story.indexed_at:
                continue  # only stories indexed after the follow was made
            own = self.channels.sources(follow.deliver_to)
            if own and story.source not in own:
                continue
            if self.follows.alerted_any(follow.id, (*story.members, story.article_id)):
                continue  # a copy of a story this follow was told about
            prepared = prepared or self.matcher.prepare(story.title, story.text)
            found = self.matcher.match(follow.topic, prepared)
            if found is not None:
                out.append(Hit(follow, story, found))
        return out

    def _deliver(self, hits: list[Hit]) -> list[Hit]:
        by_channel: dict[str, list[Hit]] = {}
        for hit in hits:
            by_channel.setdefault(hit.follow.deliver_to, []).append(hit)
        sent = []
        for channel, channel_hits in by_channel.items():
            room = self.per_hour - self.follows.alerts_since(channel, self.clock() - 3600)
            gathered = []
            for hit in channel_hits:
                how = "alert" if room > 0 else "gathered"
                if not self.follows.claim_alert(hit.follow, hit.story.key, hit.story.article_id, hit.story.title, how):
                    continue  # another dispatcher sent it, or a copy went out in this pass
                if how == "gathered":
                    gathered.append(hit)
                    continue
                room -= 1
                if self.poster.alert(channel, hit):
                    sent.append(hit)
                else:
                    self.follows.set_how(hit.follow.id, hit.story.key, "failed")
            if gathered and self.poster.gathered(channel, gathered):
                sent.extend(gathered)
        return sent
