"""The state tables: conversation turns, Slack event ids, feedback answers and votes.

A SQLite file written before migrations existed already holds these tables
(created with CREATE TABLE IF NOT EXISTS): they are kept, and only `turns`,
which had no key, is rebuilt with an `id` that keeps its rows' order.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if "turns" in existing:
        _give_legacy_turns_an_id()
    else:
        _create_turns("turns")
        _index_turns()
    if "slack_seen_events" not in existing:
        op.create_table(
            "slack_seen_events",
            sa.Column("event_id", sa.Text, primary_key=True),
            sa.Column("seen_at", sa.Float, nullable=False),
        )
        op.create_index("slack_seen_events_at", "slack_seen_events", ["seen_at"])
    if "feedback_answers" not in existing:
        op.create_table(
            "feedback_answers",
            sa.Column("key", sa.Text, primary_key=True),
            sa.Column("question", sa.Text, nullable=False),
            sa.Column("answer", sa.Text, nullable=False),
            sa.Column("article_ids", sa.Text, nullable=False),
            sa.Column("refused", sa.Integer, nullable=False, server_default="0"),
            sa.Column("channel", sa.Text),
            sa.Column("conversation_id", sa.Text),
            sa.Column("created_at", sa.Float, nullable=False),
        )
    if "feedback_votes" not in existing:
        op.create_table(
            "feedback_votes",
            sa.Column("id", _ID, primary_key=True, autoincrement=True),
            sa.Column("key", sa.Text),
            sa.Column("question", sa.Text, nullable=False),
            sa.Column("answer", sa.Text, nullable=False),
            sa.Column("article_ids", sa.Text, nullable=False),
            sa.Column("vote", sa.Integer, sa.CheckConstraint("vote IN (-1, 1)"), nullable=False),
            sa.Column("user", sa.Text),
            sa.Column("channel", sa.Text),
            sa.Column("ts", sa.Text),
            sa.Column("created_at", sa.Float, nullable=False),
        )


def _create_turns(name: str) -> None:
    op.create_table(
        name,
        sa.Column("id", _ID, primary_key=True, autoincrement=True),
        sa.Column("conversation", sa.Text, nullable=False),
        sa.Column("at", sa.Float, nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("article_ids", sa.Text, nullable=False),
        sa.Column("refused", sa.Integer, nullable=False),
    )


def _give_legacy_turns_an_id() -> None:
    """The pre-migration SQLite `turns` had no key; copy it into one that has (rowid order kept)."""
    columns = {c["name"] for c in sa.inspect(op.get_bind()).get_columns("turns")}
    if "id" in columns:
        return
    op.drop_index("turns_by_conversation", table_name="turns", if_exists=True)
    _create_turns("turns_keyed")
    op.execute(
        "INSERT INTO turns_keyed (id, conversation, at, question, answer, article_ids, refused)"
        " SELECT rowid, conversation, at, question, answer, article_ids, refused FROM turns"
    )
    op.drop_table("turns")
    op.rename_table("turns_keyed", "turns")
    _index_turns()


def _index_turns() -> None:
    op.create_index("turns_by_conversation", "turns", ["conversation", "at"])


def downgrade() -> None:
    for table in ("feedback_votes", "feedback_answers", "slack_seen_events", "turns"):
        op.drop_table(table)
