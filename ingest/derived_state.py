"""Keeps the state derived from Chroma sound: the keyword index and the query model copy.

Each part is checked against its manifest (`ingest.derived_files`); a missing,
damaged or out-of-date part is rebuilt from the collection (keyword index) or
from the installed model package (query model), with one log line on the query
side and one `repaired` entry in the ingest summary.
"""

from __future__ import annotations

import logging
import sqlite3

from ingest.derived_files import verify
from ingest.settings import Settings

log = logging.getLogger("spacebot.index")


# -- the keyword index -------------------------------------------------------------------------


def keyword_problem(settings: Settings, expected: str | None, deep: bool = False) -> str | None:
    """Why the keyword index cannot be used as it is (None: it can), for contents `expected`.

    Its segment files are only sized unless `deep` (checksumming them is O(index): `doctor` does);
    tantivy and SQLite check their own files when opened.
    """
    from ingest.keyword_index import read_fingerprint

    damage = verify(settings.keyword_dir, deep, hash_max=0, gone_ok=True)
    if damage:
        return "missing" if damage == "missing" else f"damaged ({damage})"
    local = read_fingerprint(settings.keyword_dir)
    if local is None:
        return "from an older version"
    if expected and len(local) != len(expected):  # a fingerprint is a sha256: cut short, it is damage
        return "damaged (fingerprint.txt unreadable)"
    if expected and local != expected:
        return "out of date"
    return None


def known_states(store, settings: Settings) -> dict:
    """The store's article states, from the keyword index's side table when that index is in
    step with the store (its fingerprint is the one the collection carries): one SQLite read
    instead of every chunk's metadata from Chroma. Otherwise (or on any doubt) from the store."""
    from ingest import keyword_side

    expected = store.fingerprint()
    if expected and keyword_problem(settings, expected) is None:
        try:
            db = keyword_side.connect(settings.keyword_dir)
            try:
                return keyword_side.article_states(db)
            finally:
                db.close()
        except (OSError, ValueError, sqlite3.Error):
            pass
    return store.article_states()


def ensure_keyword_index(store, settings: Settings, states: dict) -> list[str]:
    """Ingest side: update the keyword index to hold exactly `states` (only the articles that
    differ), or build it afresh when it is missing, damaged or of an older format.

    Also records the fingerprint on the collection, so other machines know their copy's age.
    Returns what was repaired (damage, not a normal update), for the summary.
    """
    from ingest.article_state import fingerprint

    current = fingerprint(states)
    problem = keyword_problem(settings, current) or _open_problem(settings)
    if problem == "out of date":
        problem = _sync(store, states, current, settings)
    if problem:
        from ingest.keyword_update import build

        build(store, states, current, settings.keyword_dir)
    store.set_fingerprint(current)
    return [f"keyword index: {problem}"] if problem and problem.startswith(("damaged", "unreadable")) else []


def _open_problem(settings: Settings) -> str | None:
    """Why the keyword index does not open (tantivy's segment list, the SQLite side tables); None if it does."""
    from ingest.keyword_index import KeywordIndex

    try:
        KeywordIndex(settings.keyword_dir)
    except (OSError, ValueError, KeyError, sqlite3.Error) as exc:
        return _unreadable(exc)
    return None


def _unreadable(exc: BaseException) -> str:
    detail = str(exc).splitlines()[0][:160] if str(exc) else ""
    if isinstance(exc, sqlite3.Error):
        detail = f"side.sqlite3: {detail}"
    return f"unreadable ({type(exc).__name__}: {detail})"


# How long ingest waits for a query-side process that is bringing the index up to date.
WRITER_WAIT_S = 60.0


def _sync(store, states: dict, current: str, settings: Settings, wait_s: float = WRITER_WAIT_S) -> str | None:
    """Update in place; None when done, else why the index must be built afresh."""
    from ingest.keyword_update import sync

    try:
        sync(store, states, current, settings.keyword_dir, wait_s)
    except (OSError, ValueError, KeyError, sqlite3.Error) as exc:
        return _unreadable(exc)
    return None


def open_keyword_index(store, settings: Settings):
    """Query side: the opened keyword index; brought up to date first (only the articles that
    differ) when the collection moved on, rebuilt (one log line) when missing or damaged."""
    from ingest.keyword_engine import IndexBusy
    from ingest.keyword_index import KeywordIndex

    problem = keyword_problem(settings, store.fingerprint())
    if problem == "out of date":
        log.info("keyword index out of date; updating it from %s", store.location)
        try:
            problem = _sync(store, store.article_states(), store.fingerprint(), settings, wait_s=0.0)
        except IndexBusy:  # another process is updating it: read what is committed
            problem = None
    if problem:
        _rebuild_keyword_index(store, settings, problem)
    try:
        return KeywordIndex(settings.keyword_dir)
    except (OSError, ValueError, KeyError, sqlite3.Error) as exc:  # damage the shallow check cannot see
        _rebuild_keyword_index(store, settings, _unreadable(exc))
        return KeywordIndex(settings.keyword_dir)


def _rebuild_keyword_index(store, settings: Settings, problem: str) -> None:
    from ingest.article_state import fingerprint
    from ingest.keyword_update import build
    from ingest.store import StoreUnavailable

    log.warning("keyword index %s; rebuilding it from %s", problem, store.location)
    states = store.article_states()
    try:
        build(store, states, store.fingerprint() or fingerprint(states), settings.keyword_dir)
    except OSError as exc:
        raise StoreUnavailable(
            f"the keyword index at {settings.keyword_dir} is {problem} and cannot be "
            f"rebuilt ({exc.strerror or exc}); give write access or run `spacebot ingest`"
        ) from None


# -- the query model copy ----------------------------------------------------------------------


def query_model_problem(settings: Settings, deep: bool = False) -> str | None:
    """Why the query model copy cannot be used (None: it can)."""
    from ingest.model_files import expected_sha256
    from ingest.models import QUERY_COPY_META, QueryRecipe

    damage = verify(settings.onnx_dir, deep)
    if damage:
        return "missing" if damage == "missing" else f"damaged ({damage})"
    try:
        recipe = QueryRecipe.read(settings.onnx_dir)
    except (OSError, ValueError, KeyError, TypeError):
        return f"damaged ({QUERY_COPY_META} unreadable)"
    model = settings.embedding
    wanted = expected_sha256(settings.model_path) if model.key == "minilm" else model.weights_sha256
    return None if (recipe.key, recipe.sha256) == (model.key, wanted) else f"made from another model ({recipe.key})"


def build_query_model(settings: Settings, embedder=None) -> None:
    """Write the query model copy (atomically) from the installed model; `embedder` if already loaded."""
    from ingest.derived_files import replace_folder

    with replace_folder(settings.onnx_dir) as staging:
        settings.embedding.write_query_copy(staging, settings.model_path, embedder)


def ensure_query_model(settings: Settings, embedder=None) -> list[str]:
    """Ingest side: (re)build the query model copy unless it is sound; returns what was repaired."""
    problem = query_model_problem(settings, deep=True)
    if problem:
        build_query_model(settings, embedder)
    return [f"query model: {problem}"] if problem and problem.startswith("damaged") else []


def check_model(store, settings: Settings) -> None:
    """Refuse, in one line, to query an index with another model than the one that built it."""
    from ingest.store import StoreUnavailable

    built_with = store.embed_model()
    if built_with != settings.embed_model:
        raise StoreUnavailable(
            f"the index at {store.location} was built with the {built_with} model, not "
            f"SPACEBOT_EMBED_MODEL={settings.embed_model}: set SPACEBOT_EMBED_MODEL={built_with}, or re-ingest "
            f"your articles with `spacebot ingest` to rebuild the index with {settings.embed_model}"
        )


def open_query_encoder(settings: Settings):
    """Query side: the ONNX encoder, its copy rebuilt first (one log line) if missing or damaged.

    Where it cannot be rebuilt (a read-only data dir), the installed model encodes instead.
    """
    from ingest.onnx_encoder import OnnxEncoder

    problem = query_model_problem(settings)
    if problem:
        log.warning("query model copy %s; rebuilding it from the installed model", problem)
        try:
            build_query_model(settings)
        except OSError as exc:
            log.warning(
                "cannot write %s (%s); using the installed model directly", settings.onnx_dir, exc.strerror or exc
            )
            model = settings.embedding
            if model.key == "minilm":
                return model.document_embedder(settings.model_path)
            return OnnxEncoder(model.folder(), model.recipe())
    return OnnxEncoder(settings.onnx_dir)
