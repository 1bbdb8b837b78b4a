"""`spacebot watch`: validators per URL or folder, versions of feed entries, per-source schedule.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "watch_validators",
        sa.Column("locator", sa.Text, primary_key=True),
        sa.Column("etag", sa.Text),
        sa.Column("last_modified", sa.Text),
        sa.Column("digest", sa.Text),
        sa.Column("saved_at", sa.Float, nullable=False),
    )
    op.create_table(
        "watch_entries",
        sa.Column("feed", sa.Text, primary_key=True),
        sa.Column("link", sa.Text, primary_key=True),
        sa.Column("version", sa.Text, nullable=False),
        sa.Column("saved_at", sa.Float, nullable=False),
    )
    op.create_table(
        "watch_sources",
        sa.Column("source", sa.Text, primary_key=True),
        sa.Column("interval_seconds", sa.Float, nullable=False),
        sa.Column("last_run_at", sa.Float),
        sa.Column("result", sa.Text),
        sa.Column("detail", sa.Text, nullable=False, server_default=""),
        sa.Column("new_articles", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_run_at", sa.Float),
        sa.Column("failures", sa.Integer, nullable=False, server_default="0"),
    )


def downgrade() -> None:
    for table in ("watch_sources", "watch_entries", "watch_validators"):
        op.drop_table(table)
