"""`--prune`: which indexed articles are gone, never counting those whose input merely failed to read."""

from __future__ import annotations

import re
from pathlib import Path

from ingest.article import InputError


def gone_articles(states: dict, seen: set[str], inputs: list[str], failed: list[InputError]) -> list[str]:
    """Ids of indexed articles not seen this run whose input was named (or no longer exists)."""
    from ingest.sources import origin_of

    origins = {origin_of(given) for given in inputs}
    unreadable = {_locator_of_failure(e) for e in failed}
    return [
        aid
        for aid, st in states.items()
        if aid not in seen
        and (st.origin in origins or _origin_gone(st.origin))
        and st.origin not in unreadable
        and _locator(st) not in unreadable
    ]


def _locator(state) -> str:
    """The file (or URL) an indexed article was read from."""
    origin = Path(state.origin)
    if state.origin.startswith("/") and state.path and origin.is_dir():
        return str(origin / state.path)
    return state.origin


def _locator_of_failure(error: InputError) -> str:
    """The file or URL behind a failure ("x.jsonl:3" -> the resolved x.jsonl): never pruned."""
    name = error.input
    if name.startswith(("http://", "https://")):
        return name
    return str(Path(re.sub(r"(:\d+|\[\d+\]| entry \d+)$", "", name)).resolve())


def _origin_gone(origin: str) -> bool:
    return origin.startswith("/") and not Path(origin).exists()
