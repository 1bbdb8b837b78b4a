"""Follows and what they were sent; a channel's own sources; brief schedules and briefs sent.

- `follows`: a channel (or a user, in a DM) follows a topic; alerts go to `deliver_to`.
- `alerts_sent`: one row per (follow, story group), inserted BEFORE the alert is posted: the
  unique insert is the exactly-once guarantee across `spacebot slack` replicas.
- `stories_checked`: article versions the alert dispatcher has matched (`indexed_at` is when
  the index learned of that version), and `dispatch_cursors`: how far each dispatcher has read.
- `channel_sources`: the sources a channel's answers, briefs and alerts draw from.
- `brief_schedules` / `briefs_sent`: one schedule per channel; one row per (channel, slot),
  again a unique insert, so a scheduled brief is posted once across replicas.

Revision ID: 0004
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("scope", sa.Text, nullable=False),  # channel | user
        sa.Column("owner", sa.Text, nullable=False),  # the channel id or the user id
        sa.Column("deliver_to", sa.Text, nullable=False),  # where alerts are posted
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
        sa.UniqueConstraint("scope", "owner", "topic", name="follows_once"),
    )
    op.create_table(
        "alerts_sent",
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("follow_id", sa.BigInteger, nullable=False),
        sa.Column("story", sa.Text, nullable=False),  # the story group's key (its representative's id)
        sa.Column("article_id", sa.Text, nullable=False),
        sa.Column("channel", sa.Text, nullable=False),
        sa.Column("title", sa.Text, nullable=False, server_default=""),
        sa.Column("how", sa.Text, nullable=False, server_default="alert"),  # alert | gathered | failed
        sa.Column("sent_at", sa.Float, nullable=False),
        sa.UniqueConstraint("follow_id", "story", name="alerts_once"),
    )
    op.create_index("alerts_by_channel", "alerts_sent", ["channel", "sent_at"])
    op.create_table(
        "stories_checked",
        sa.Column("article_id", sa.Text, primary_key=True),
        sa.Column("indexed_at", sa.Float, primary_key=True),
        sa.Column("checked_at", sa.Float, nullable=False),
    )
    op.create_table(
        "dispatch_cursors",
        sa.Column("name", sa.Text, primary_key=True),
        sa.Column("value", sa.Float, nullable=False),
    )
    op.create_table(
        "channel_sources",
        sa.Column("channel", sa.Text, primary_key=True),
        sa.Column("sources", sa.Text, nullable=False),  # JSON list of source names
        sa.Column("updated_by", sa.Text),
        sa.Column("updated_at", sa.Float, nullable=False),
    )
    op.create_table(
        "brief_schedules",
        sa.Column("channel", sa.Text, primary_key=True),
        sa.Column("cadence", sa.Text, nullable=False),  # daily | weekly
        sa.Column("weekday", sa.Integer),  # 0 = Monday, weekly only
        sa.Column("hour", sa.Integer, nullable=False),
        sa.Column("minute", sa.Integer, nullable=False),
        sa.Column("tz", sa.Text, nullable=False),
        sa.Column("created_by", sa.Text),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_table(
        "briefs_sent",
        sa.Column("channel", sa.Text, primary_key=True),
        sa.Column("slot", sa.Float, primary_key=True),  # the scheduled time, or when a manual brief was asked
        sa.Column("how", sa.Text, nullable=False),  # scheduled | manual
        sa.Column("sent_at", sa.Float, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "briefs_sent",
        "brief_schedules",
        "channel_sources",
        "dispatch_cursors",
        "stories_checked",
        "alerts_sent",
        "follows",
    ):
        op.drop_table(table)
