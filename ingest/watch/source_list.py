"""The sources to watch: named on the command line or one a line in a file, each with its interval."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ingest.watch.durations import parse_duration


@dataclass(frozen=True)
class WatchSource:
    """A feed URL, page URL or folder (as `origin_of` records it), polled every `interval` seconds."""

    name: str
    interval: float


def read_sources_file(path: Path, default_interval: float) -> list[WatchSource]:
    """`SOURCE [INTERVAL]` a line (`#` starts a comment; relative folders are relative to the file);
    a bad line is a `ValueError` naming FILE:LINE."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: cannot read the sources file ({getattr(exc, 'strerror', None) or exc})") from None
    found = []
    for number, line in enumerate(lines, start=1):
        words = line.split("#", 1)[0].split()
        if not words:
            continue
        if len(words) > 2:
            raise ValueError(f"{path}:{number}: expected `SOURCE [INTERVAL]`, got {line.strip()!r}")
        try:
            interval = parse_duration(words[1]) if len(words) == 2 else default_interval
        except ValueError as exc:
            raise ValueError(f"{path}:{number}: {exc}") from None
        found.append((_beside(Path(path), words[0]), interval))
    return _named(found)


def _beside(sources_file: Path, given: str) -> str:
    """A relative folder in a sources file is relative to the file, not to where the command runs."""
    from ingest.sources import is_url

    return given if is_url(given) or Path(given).is_absolute() else str(sources_file.parent / given)


def watch_list(given: list[str], default_interval: float, sources_file: Path | None = None) -> list[WatchSource]:
    """The command line's sources, then the file's; a source named twice is watched once (first wins)."""
    listed = [(name, default_interval) for name in given]
    from_file = read_sources_file(sources_file, default_interval) if sources_file else []
    return _named([*listed, *((s.name, s.interval) for s in from_file)])


def _named(pairs: list[tuple[str, float]]) -> list[WatchSource]:
    from ingest.sources import origin_of

    out: dict[str, WatchSource] = {}
    for given, interval in pairs:
        name = origin_of(given)
        out.setdefault(name, WatchSource(name, interval))
    return list(out.values())
