"""Keeps the state derived from Chroma sound: the keyword index and the query model copy.

Each part is checked against its manifest (`ingest.derived_files`); a missing,
damaged or out-of-date part is rebuilt from the collection (keyword index) or
from the installed model package (query model), with one log line on the query
side and one `repaired` entry in the ingest summary.
"""

from __future__ import annotations

import json
import logging

from ingest.derived_files import verify
from ingest.settings import Settings

log = logging.getLogger("spacebot.index")


# -- the keyword index -------------------------------------------------------------------------

def keyword_problem(settings: Settings, expected: str | None, deep: bool = False) -> str | None:
    """Why the keyword index cannot be used as it is (None: it can), for contents `expected`."""
    from ingest.keyword_index import read_fingerprint

    damage = verify(settings.keyword_dir, deep)
    if damage:
        return "missing" if damage == "missing" else f"damaged ({damage})"
    local = read_fingerprint(settings.keyword_dir)
    if local is None:
        return "from an older version"
    if expected and local != expected:
        return "out of date"
    return None


def ensure_keyword_index(store, settings: Settings, states: dict) -> list[str]:
    """Ingest side: rebuild the keyword index unless it is sound and built for exactly `states`.

    Also records the fingerprint on the collection, so other machines know their copy's age.
    Returns what was repaired (damage, not a normal update), for the summary.
    """
    from ingest.article_state import fingerprint
    from ingest.keyword_index import build_from_store

    current = fingerprint(states)
    problem = keyword_problem(settings, current, deep=True)
    if problem:
        build_from_store(store, current, settings.keyword_dir)
    store.set_fingerprint(current)
    return [f"keyword index: {problem}"] if problem and problem.startswith("damaged") else []


def open_keyword_index(store, settings: Settings):
    """Query side: the loaded keyword index, rebuilt first (one log line) if missing, damaged or stale."""
    from ingest.keyword_index import KeywordIndex

    problem = keyword_problem(settings, store.fingerprint())
    if problem:
        _rebuild_keyword_index(store, settings, problem)
    try:
        return KeywordIndex(settings.keyword_dir)
    except (OSError, ValueError, KeyError) as exc:  # damage the shallow check cannot see
        _rebuild_keyword_index(store, settings, f"unreadable ({type(exc).__name__})")
        return KeywordIndex(settings.keyword_dir)


def _rebuild_keyword_index(store, settings: Settings, problem: str) -> None:
    from ingest.article_state import fingerprint
    from ingest.keyword_index import build_from_store
    from ingest.store import StoreUnavailable

    log.warning("keyword index %s; rebuilding it from %s", problem, store.location)
    try:
        build_from_store(store, store.fingerprint() or fingerprint(store.article_states()), settings.keyword_dir)
    except OSError as exc:
        raise StoreUnavailable(f"the keyword index at {settings.keyword_dir} is {problem} and cannot be "
                               f"rebuilt ({exc.strerror or exc}); give write access or run `spacebot ingest`") from None


# -- the query model copy ----------------------------------------------------------------------

def query_model_problem(settings: Settings, deep: bool = False) -> str | None:
    """Why the query model copy cannot be used (None: it can)."""
    from ingest.embedding import ONNX_META
    from ingest.model_files import expected_sha256

    damage = verify(settings.onnx_dir, deep)
    if damage:
        return "missing" if damage == "missing" else f"damaged ({damage})"
    try:
        made_from = json.loads((settings.onnx_dir / ONNX_META).read_text())["sha256"]
    except (OSError, ValueError, KeyError, TypeError):
        return f"damaged ({ONNX_META} unreadable)"
    return None if made_from == expected_sha256(settings.model_path) else "made from another model"


def build_query_model(settings: Settings, embedder=None) -> None:
    """Write the query model copy (atomically) from the installed model; `embedder` if already loaded."""
    from ingest.derived_files import replace_folder

    if embedder is None or not hasattr(embedder, "export_onnx"):
        from ingest.embedding import DocumentEmbedder
        from ingest.model_files import model_dir

        embedder = DocumentEmbedder(model_dir(settings.model_path))
    with replace_folder(settings.onnx_dir) as staging:
        embedder.export_onnx(staging)


def ensure_query_model(settings: Settings, embedder=None) -> list[str]:
    """Ingest side: (re)build the query model copy unless it is sound; returns what was repaired."""
    problem = query_model_problem(settings, deep=True)
    if problem:
        build_query_model(settings, embedder)
    return [f"query model: {problem}"] if problem and problem.startswith("damaged") else []


def open_query_encoder(settings: Settings):
    """Query side: the ONNX encoder, its copy rebuilt first (one log line) if missing or damaged.

    Where it cannot be rebuilt (a read-only data dir), sentence-transformers encodes instead (slow start).
    """
    from ingest.onnx_encoder import OnnxEncoder

    problem = query_model_problem(settings)
    if problem:
        log.warning("query model copy %s; rebuilding it from the installed model", problem)
        try:
            build_query_model(settings)
        except OSError as exc:
            from ingest.embedding import DocumentEmbedder
            from ingest.model_files import model_dir

            log.warning("cannot write %s (%s); using sentence-transformers (slow start)",
                        settings.onnx_dir, exc.strerror or exc)
            return DocumentEmbedder(model_dir(settings.model_path))
    return OnnxEncoder(settings.onnx_dir)
