"""Alembic's entry point: migrate the connection `bot.state.db` hands over.

The caller owns the transaction (and, on PostgreSQL, an advisory lock taken
in it), so replicas starting together migrate one after the other.
"""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=None)
with context.begin_transaction():  # joins the caller's transaction
    context.run_migrations()
