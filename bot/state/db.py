"""One database for every piece of stored state: a SQLite file by default, PostgreSQL when configured.

The interface the stores use is small: `open_database(target)` gives a
`Database`; `database.begin()` is one short transaction; `database.insert(table)`
is an INSERT that knows its backend's ON CONFLICT; `database.clock()` is "now".

Connection policy, the same for conversations, feedback and Slack event ids:
one SQLAlchemy engine per database per process, shared by all stores; every
store call is one transaction, committed or rolled back before it returns,
so nothing is held open between calls and threads can share every store.

- SQLite (`sqlite:///PATH`, the default `SPACEBOT_DATA_DIR/state.sqlite3`): WAL
  journal (readers never wait for the writer), transactions begin IMMEDIATE
  (a writer queues for the file lock for up to `SQLITE_BUSY_SECONDS` instead
  of failing half-way through), pooled connections across threads.
- PostgreSQL (`postgresql://...`, driven by psycopg 3): a bounded pool, each
  connection checked before use, so a replica outlives a database restart.

The schema is created and migrated by Alembic when a database is first opened
in a process (under a PostgreSQL advisory lock, so replicas starting together
migrate one at a time). Database URLs can carry passwords: only
`redact(url)` forms ever reach a log line or an error message.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Connection, Engine, Table

Clock = Callable[[], float]
"""Seconds since the epoch; `time.time` unless a test injects its own."""

SQLITE_BUSY_SECONDS = 30  # how long a SQLite writer waits for another process's lock
PG_POOL_SIZE = 10  # PostgreSQL connections kept open per process (answers run on a thread pool)
PG_MAX_OVERFLOW = 10  # extra connections under bursts, closed when returned
PG_CONNECT_TIMEOUT = 5  # seconds; a database that is down must fail a readiness check fast
MIGRATION_LOCK = 0x5BAC_E807  # PostgreSQL advisory-lock key held while migrating (any fixed int)

_OPEN: dict[str, Database] = {}
_OPEN_LOCK = threading.Lock()


class StateUnavailable(RuntimeError):
    """The state database cannot be reached or used (the message names it without secrets)."""


def redact(url: str) -> str:
    """`url` with any password replaced by `***`."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 (an unparseable URL is still shown without its secrets)
        return url.split("://", 1)[0] + "://…"


def sqlalchemy_url(target: str | Path) -> str:
    """The SQLAlchemy URL for a SQLite path, a `sqlite:///` URL or a `postgresql://` URL."""
    if isinstance(target, Path) or "://" not in str(target):
        return f"sqlite:///{Path(target)}"
    url = str(target)
    scheme, rest = url.split("://", 1)
    if scheme in ("postgresql", "postgres", "postgresql+psycopg"):
        return f"postgresql+psycopg://{rest}"
    if scheme == "sqlite":
        return url
    raise ValueError(f"SPACEBOT_DATABASE_URL must start with postgresql:// or sqlite:/// (got {scheme}://)")


def open_database(target: str | Path, clock: Clock | None = None) -> Database:
    """The process's `Database` for `target` (a SQLite path or a URL), opened and migrated once.

    With `clock`, a separate `Database` over the same engine is returned whose
    `clock()` is that one (tests move time forward without sleeping).
    """
    url = sqlalchemy_url(target)
    with _OPEN_LOCK:
        database = _OPEN.get(url)
        if database is None:
            database = _OPEN[url] = Database(url)
    return database if clock is None else database.with_clock(clock)


def as_database(target: Database | str | Path, clock: Clock | None = None) -> Database:
    """`target` if it is a `Database` (with `clock`, when given), else `open_database(target, clock)`."""
    if isinstance(target, Database):
        return target if clock is None else target.with_clock(clock)
    return open_database(target, clock)


def close_all() -> None:
    """Dispose of every engine this process opened (tests, and servers shutting down)."""
    with _OPEN_LOCK:
        for database in _OPEN.values():
            database.engine.dispose()
        _OPEN.clear()


class Database:
    """An engine with the connection policy above, migrated to the newest schema."""

    def __init__(self, url: str, clock: Clock = time.time, *, engine: Engine | None = None):
        """Open `url` (a SQLAlchemy URL, see `sqlalchemy_url`); migrate it unless `engine`
        (an engine already opened on it) is given."""
        self.url = url
        self.clock = clock
        self.backend = url.split(":", 1)[0].split("+", 1)[0]  # "sqlite" or "postgresql"
        self.engine = engine or _make_engine(url, self.backend)
        if engine is None:
            self._migrate()

    def with_clock(self, clock: Clock) -> Database:
        """The same database, read and written with another clock."""
        return Database(self.url, clock, engine=self.engine)

    @property
    def location(self) -> str:
        """Where the state lives, fit for logs (no password)."""
        return redact(self.url)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        from sqlalchemy.exc import OperationalError

        try:
            with self.engine.begin() as connection:
                yield connection
        except OperationalError as exc:
            raise StateUnavailable(f"cannot use the state database {self.location}: {_first_line(exc.orig)}") from None

    def insert(self, table: Table):
        """An INSERT for this backend, with `.on_conflict_do_nothing/_do_update`."""
        if self.backend == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        return insert(table)

    def ping(self) -> bool:
        """True when the database answers a query now."""
        from sqlalchemy import text

        try:
            with self.begin() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except StateUnavailable:
            return False

    def _migrate(self) -> None:
        """Bring the schema to the newest revision (Alembic is imported only when needed)."""
        from bot.state.migrations import HEAD

        if self._revision() == HEAD:
            return
        from alembic import command
        from alembic.config import Config
        from sqlalchemy import text

        config = Config()
        config.set_main_option("script_location", str(Path(__file__).with_name("migrations")))
        with self.begin() as connection:
            if self.backend == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")

    def _revision(self) -> str | None:
        """The schema revision the database is at (None: not migrated yet)."""
        from sqlalchemy import inspect, text

        with self.begin() as connection:
            if not inspect(connection).has_table("alembic_version"):
                return None
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _make_engine(url: str, backend: str) -> Engine:
    from sqlalchemy import create_engine, event

    if backend == "postgresql":
        return create_engine(
            url,
            pool_size=PG_POOL_SIZE,
            max_overflow=PG_MAX_OVERFLOW,
            pool_pre_ping=True,
            connect_args={"connect_timeout": PG_CONNECT_TIMEOUT},
        )
    path = Path(url.removeprefix("sqlite:///"))
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_SECONDS})

    # SQLAlchemy's documented recipe: let SQLAlchemy, not the sqlite3 module, say when a
    # transaction begins, so that every transaction (DDL included) is a real one.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _first_line(error: BaseException | None) -> str:
    """The driver's own message, first line only (never the SQL or its parameters)."""
    return (str(error) or type(error).__name__).strip().splitlines()[0] if error else "unknown error"
