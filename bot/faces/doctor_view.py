"""`spacebot doctor`'s check of the state store (conversations, feedback, Slack event ids).

That file is user data, not derived state: it is checked, never rebuilt.
"""

from __future__ import annotations

from pathlib import Path

from ingest.doctor import Check


def check_state_store(settings) -> Check:
    """The state store of `settings`: a database server must answer; a SQLite file must pass its own check."""
    if settings.database_url:
        return _check_server(settings.state_url)
    return _check_sqlite(settings.state_db)


def _check_server(url: str) -> Check:
    """A PostgreSQL state store (SPACEBOT_DATABASE_URL) answers a query; its password is never shown."""
    from bot.state.db import StateUnavailable, open_database, redact

    try:
        healthy = open_database(url).ping()
    except (StateUnavailable, ValueError) as exc:
        return Check("state store", "broken", str(exc))
    if healthy:
        return Check("state store", "ok", f"database at {redact(url)} answers")
    return Check("state store", "broken", f"database at {redact(url)} does not answer")


def _check_sqlite(path: Path) -> Check:
    """SQLite's own integrity check on the state file (absent is fine: nothing stored yet)."""
    import sqlite3
    from contextlib import closing

    if not path.exists():
        return Check("state store", "ok", f"none yet at {path}")
    try:
        with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            result = db.execute("PRAGMA quick_check").fetchone()[0]
            tables = db.execute("SELECT count(*) FROM sqlite_master WHERE type = 'table'").fetchone()[0]
    except sqlite3.Error as exc:
        result, tables = str(exc), 0
    if result == "ok":
        return Check("state store", "ok", f"{tables} tables at {path}")
    return Check(
        "state store",
        "broken",
        f"{path}: {result}; move it aside (conversations and feedback in it "
        "are lost; a new one is made on the next run)",
    )
