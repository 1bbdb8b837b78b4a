"""The state tables as SQLAlchemy Core sees them (the migrations create them).

Times are seconds since the epoch (float), as the stores' clock gives them.
Names and columns are those of the SQLite file earlier versions wrote, so an
existing `state.sqlite3` is read as it is (only `turns` gained an `id`).
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Float, Index, Integer, MetaData, Table, Text, UniqueConstraint

metadata = MetaData()

# An integer primary key that is BIGINT on PostgreSQL and `INTEGER PRIMARY KEY`
# (the rowid alias, which autoincrements) on SQLite.
_ID = BigInteger().with_variant(Integer(), "sqlite")

turns = Table(
    "turns",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),  # ties on `at` keep insertion order
    Column("conversation", Text, nullable=False),
    Column("at", Float, nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("article_ids", Text, nullable=False),  # JSON list of cited article ids
    Column("refused", Integer, nullable=False),
    Index("turns_by_conversation", "conversation", "at"),
)

slack_seen_events = Table(
    "slack_seen_events",
    metadata,
    Column("event_id", Text, primary_key=True),  # the unique insert that makes "answered once"
    Column("seen_at", Float, nullable=False),
    Index("slack_seen_events_at", "seen_at"),
)

feedback_answers = Table(
    "feedback_answers",
    metadata,
    Column("key", Text, primary_key=True),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("article_ids", Text, nullable=False),
    Column("refused", Integer, nullable=False, server_default="0"),
    Column("channel", Text),
    Column("conversation_id", Text),
    Column("created_at", Float, nullable=False),
)

feedback_votes = Table(
    "feedback_votes",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("key", Text),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("article_ids", Text, nullable=False),
    Column("vote", Integer, nullable=False),
    Column("user", Text),
    Column("channel", Text),
    Column("ts", Text),
    Column("created_at", Float, nullable=False),
)

# `spacebot watch` (bot/state/watch_state.py): what each source looked like when last ingested,
# the version of each feed entry read whole, and each source's schedule and last result.
watch_validators = Table(
    "watch_validators",
    metadata,
    Column("locator", Text, primary_key=True),  # a URL, or a folder's resolved path
    Column("etag", Text),
    Column("last_modified", Text),
    Column("digest", Text),  # sha256 of the last body, or of a folder's file listing
    Column("saved_at", Float, nullable=False),
)

watch_entries = Table(
    "watch_entries",
    metadata,
    Column("feed", Text, primary_key=True),
    Column("link", Text, primary_key=True),
    Column("version", Text, nullable=False),  # the entry's updated|published as the feed writes them
    Column("saved_at", Float, nullable=False),
)

watch_sources = Table(
    "watch_sources",
    metadata,
    Column("source", Text, primary_key=True),
    Column("interval_seconds", Float, nullable=False),
    Column("last_run_at", Float),
    Column("result", Text),  # ok | unchanged | partial | failed
    Column("detail", Text, nullable=False, server_default=""),
    Column("new_articles", Integer, nullable=False, server_default="0"),
    Column("next_run_at", Float),
    Column("failures", Integer, nullable=False, server_default="0"),
)

# Follows, alerts, a channel's sources, briefs (bot/state/follows.py, bot/state/channels.py; migration 0004).
follows = Table(
    "follows",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("scope", Text, nullable=False),  # channel | user
    Column("owner", Text, nullable=False),
    Column("deliver_to", Text, nullable=False),
    Column("topic", Text, nullable=False),
    Column("created_by", Text),
    Column("created_at", Float, nullable=False),
    UniqueConstraint("scope", "owner", "topic", name="follows_once"),
)

alerts_sent = Table(
    "alerts_sent",
    metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("follow_id", BigInteger, nullable=False),
    Column("story", Text, nullable=False),
    Column("article_id", Text, nullable=False),
    Column("channel", Text, nullable=False),
    Column("title", Text, nullable=False, server_default=""),
    Column("how", Text, nullable=False, server_default="alert"),
    Column("sent_at", Float, nullable=False),
    UniqueConstraint("follow_id", "story", name="alerts_once"),  # the exactly-once insert
    Index("alerts_by_channel", "channel", "sent_at"),
)

stories_checked = Table(
    "stories_checked",
    metadata,
    Column("article_id", Text, primary_key=True),
    Column("indexed_at", Float, primary_key=True),
    Column("checked_at", Float, nullable=False),
)

dispatch_cursors = Table(
    "dispatch_cursors",
    metadata,
    Column("name", Text, primary_key=True),
    Column("value", Float, nullable=False),
)

channel_sources = Table(
    "channel_sources",
    metadata,
    Column("channel", Text, primary_key=True),
    Column("sources", Text, nullable=False),
    Column("updated_by", Text),
    Column("updated_at", Float, nullable=False),
)

brief_schedules = Table(
    "brief_schedules",
    metadata,
    Column("channel", Text, primary_key=True),
    Column("cadence", Text, nullable=False),
    Column("weekday", Integer),
    Column("hour", Integer, nullable=False),
    Column("minute", Integer, nullable=False),
    Column("tz", Text, nullable=False),
    Column("created_by", Text),
    Column("created_at", Float, nullable=False),
)

briefs_sent = Table(
    "briefs_sent",
    metadata,
    Column("channel", Text, primary_key=True),
    Column("slot", Float, primary_key=True),
    Column("how", Text, nullable=False),
    Column("sent_at", Float, nullable=False),
)

# Rate limits (bot/state/rate_limits.py): one counter per key for the window it was last hit in.
rate_counters = Table(
    "rate_counters",
    metadata,
    Column("key", Text, primary_key=True),  # `<scope>:<token name | client address | Slack user>`
    Column("window_start", Float, nullable=False),
    Column("hits", Integer, nullable=False),
)

# Ingest jobs of `POST /v1/ingest` (bot/state/jobs.py): request, progress and result, one row each.
ingest_jobs = Table(
    "ingest_jobs",
    metadata,
    Column("id", Text, primary_key=True),
    Column("state", Text, nullable=False),  # queued | running | done | failed
    Column("request", Text, nullable=False),  # JSON: urls, follow_links
    Column("requested_by", Text, nullable=False),  # the token name (never the token)
    Column("runner", Text, nullable=False),  # host:pid:start of the process that runs it
    Column("progress", Text, nullable=False, server_default="{}"),  # JSON
    Column("result", Text),  # JSON: the `spacebot ingest --json` summary
    Column("error", Text),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("heartbeat_at", Float, nullable=False),  # its runner is alive; stale: the job is failed
    Index("ingest_jobs_unfinished", "state", "heartbeat_at"),
)
