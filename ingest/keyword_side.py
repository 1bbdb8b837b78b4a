"""The keyword index's small tables (SQLite, `side.sqlite3` in its folder), updated per article.

- `articles`: which version of each article is indexed (its hash, its chunks: the store's
  `ArticleState`, so an ingest need not read every chunk's metadata from Chroma), how
  citations name it, its source and publisher;
- `uses`: per stemmed term, how often the corpus writes it mid-sentence and how often
  capitalised (`ingest.corpus_stats.proper_terms`'s counts, kept as sums so an article's
  share can be added and taken away);
- `groups`: near-duplicate groups (`ingest.near_duplicates`), one row per member, with its
  place in the group (0: the representative).

Readers look rows up one at a time; nothing here is read whole at query time.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ingest.corpus_stats import PROPER_MIN_USES, PROPER_SHARE

SIDE_DB = "side.sqlite3"
BUSY_TIMEOUT_S = 30.0  # how long a reader waits for a writer's commit (SQLite's lock), generous
_SCHEMA = """
CREATE TABLE IF NOT EXISTS articles (
    article_id TEXT PRIMARY KEY, hash TEXT, url TEXT, n_chunks INTEGER, origin TEXT, path TEXT, chunk_ids TEXT,
    source TEXT, publisher TEXT
);
CREATE TABLE IF NOT EXISTS uses (term TEXT PRIMARY KEY, capitalised INTEGER NOT NULL, total INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS groups (article_id TEXT PRIMARY KEY, grp TEXT NOT NULL, place INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS groups_by_grp ON groups (grp);
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT);
"""


def connect(folder: Path, write: bool = False) -> sqlite3.Connection:
    """The side tables of the keyword index in `folder` (read-only unless `write`)."""
    path = Path(folder) / SIDE_DB
    # A rollback journal, not WAL: a reader then writes nothing beside the file (a read-only data
    # dir works), and waits out a writer's commit (milliseconds) instead of failing.
    if write:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_S)
        db.execute("PRAGMA journal_mode=DELETE")
        db.executescript(_SCHEMA)
        return db
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing")
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False, timeout=BUSY_TIMEOUT_S)


def add_uses(db: sqlite3.Connection, counts: dict[str, tuple[int, int]], sign: int = 1) -> None:
    """Add (sign=1) or take away (sign=-1) `term -> (capitalised, total)` counts."""
    db.executemany(
        "INSERT INTO uses (term, capitalised, total) VALUES (?, ?, ?) ON CONFLICT(term) DO UPDATE SET "
        "capitalised = capitalised + excluded.capitalised, total = total + excluded.total",
        [(t, sign * c, sign * n) for t, (c, n) in counts.items()],
    )
    if sign < 0:
        db.execute("DELETE FROM uses WHERE total <= 0")


def is_proper(db: sqlite3.Connection, term: str) -> bool:
    """Whether the corpus writes `term` capitalised (`ingest.corpus_stats.proper_terms`'s rule)."""
    found = db.execute("SELECT capitalised, total FROM uses WHERE term = ?", (term,)).fetchone()
    return bool(found) and found[1] >= PROPER_MIN_USES and found[0] >= PROPER_SHARE * found[1]


def is_listed(db: sqlite3.Connection, article_id: str) -> bool:
    """Whether the keyword index holds `article_id` (in some version)."""
    return db.execute("SELECT 1 FROM articles WHERE article_id = ?", (article_id,)).fetchone() is not None


def sources(db: sqlite3.Connection) -> list[str]:
    """The source names of the indexed articles, sorted."""
    return [r[0] for r in db.execute("SELECT DISTINCT source FROM articles WHERE source != '' ORDER BY source")]


def publisher_at(db: sqlite3.Connection, address: str) -> str | None:
    """The stored publisher of the article at `address` (its URL or its id), if it has one."""
    found = db.execute(
        "SELECT publisher FROM articles WHERE (url = ? OR article_id = ?) AND publisher != '' LIMIT 1",
        (address, address),
    ).fetchone()
    return found[0] if found else None


def members(db: sqlite3.Connection, article_id: str) -> tuple[str, ...]:
    """The near-duplicate group of `article_id`, representative first; `(article_id,)` when none."""
    rows = db.execute(
        "SELECT article_id FROM groups WHERE grp = (SELECT grp FROM groups WHERE article_id = ?) ORDER BY place",
        (article_id,),
    ).fetchall()
    return tuple(r[0] for r in rows) or (article_id,)


def set_group(db: sqlite3.Connection, ordered: list[str]) -> None:
    """Record one group (ids, representative first), replacing any group its members were in."""
    db.executemany("DELETE FROM groups WHERE article_id = ?", [(a,) for a in ordered])
    if len(ordered) > 1:
        db.executemany(
            "INSERT INTO groups (article_id, grp, place) VALUES (?, ?, ?)",
            [(a, ordered[0], place) for place, a in enumerate(ordered)],
        )


def all_groups(db: sqlite3.Connection) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for grp, article_id in db.execute("SELECT grp, article_id FROM groups ORDER BY grp, place"):
        groups.setdefault(grp, []).append(article_id)
    return sorted(groups.values())


class SideGroups:
    """`DuplicateGroups`' reading interface over the side tables."""

    def __init__(self, db: sqlite3.Connection):
        self._db = db

    def members(self, article_id: str) -> tuple[str, ...]:
        return members(self._db, article_id)

    def representative(self, article_id: str) -> str:
        return self.members(article_id)[0]

    @property
    def groups(self) -> list[list[str]]:
        return all_groups(self._db)

    def __len__(self) -> int:
        return self._db.execute("SELECT COUNT(DISTINCT grp) FROM groups").fetchone()[0]


def article_states(db: sqlite3.Connection) -> dict:
    """Every indexed article's `ArticleState`, as the store held it when it was indexed."""
    import json

    from ingest.article_state import ArticleState

    states = {}
    for article_id, version, n_chunks, origin, path, chunk_ids in db.execute(
        "SELECT article_id, hash, n_chunks, origin, path, chunk_ids FROM articles"
    ):
        ids = set(json.loads(chunk_ids or "[]"))
        states[article_id] = ArticleState(
            hashes={version},
            indices={int(c.rsplit("::", 1)[1]) for c in ids},
            n_chunks=n_chunks or len(ids),
            origin=origin or "",
            path=path,
            chunk_ids=ids,
        )
    return states
