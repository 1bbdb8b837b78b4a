"""Derived state on disk: folders written atomically, each with a manifest of sizes and checksums.

Chroma is the source of truth. Everything kept beside it (the keyword index, the
query model copy) is a folder that is built in a staging folder, fsynced, listed
in `manifest.json` (size and sha256 of every file) and renamed into place, so a
reader sees the old folder or the new one, never half of one. `verify` tells a
damaged or missing part from a sound one; its owner then rebuilds it.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

MANIFEST = "manifest.json"
# On open (every `spacebot ask`), files up to this size are checksummed and bigger ones only
# sized: the query model's weights (90 MB) would add ~0.2 s to each cold start. `ingest` and
# `spacebot doctor` checksum everything.
HASH_ON_OPEN_MAX_BYTES = 32_000_000
# Files rewritten in place by their owner (tantivy's segment list and locks, the keyword index's
# SQLite side tables and fingerprint): not listed; their owner checks them (tantivy and SQLite on open).
UNLISTED = frozenset({"meta.json", ".managed.json", "side.sqlite3", "side.sqlite3-journal"})
UNLISTED_SUFFIXES = (".lock", "fingerprint.txt")


def listed(path: Path) -> bool:
    """Whether a manifest lists `path` (immutable once written)."""
    return path.name != MANIFEST and path.name not in UNLISTED and not path.name.endswith(UNLISTED_SUFFIXES)


def file_sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_manifest(folder: Path) -> dict:
    """List every file under `folder` with its size and sha256 (fsyncing each), write `manifest.json`."""
    return _write_manifest(folder, {})


def update_manifest(folder: Path) -> dict:
    """Re-list `folder` after an in-place update: files already listed at the same size keep their
    checksum (segment files are never rewritten), new ones are checksummed, gone ones dropped."""
    try:
        known = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        known = {}
    return _write_manifest(folder, known)


def _write_manifest(folder: Path, known: dict) -> dict:
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and listed(p)):
        name, size = path.relative_to(folder).as_posix(), path.stat().st_size
        if isinstance(known.get(name), dict) and known[name].get("size") == size:
            files[name] = known[name]
            continue
        _fsync(path)
        files[name] = {"size": size, "sha256": file_sha256(path)}
    manifest = {"files": files}
    write_small_file(folder / MANIFEST, json.dumps(manifest, indent=1))
    for sub in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        _fsync(sub)
    return manifest


def write_small_file(path: Path, text: str) -> None:
    """Write `path` whole or not at all (a temporary file renamed over it), fsynced."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)


@contextmanager
def replace_folder(target: Path) -> Iterator[Path]:
    """Yield an empty staging folder; when the block ends, manifest it and swap it in for `target`.

    If the block raises, `target` is left as it was and the staging folder removed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-new-", dir=target.parent))
    try:
        yield staging
        write_manifest(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = None
    if target.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
        os.replace(target, old / target.name)
    os.replace(staging, target)
    _fsync(target.parent)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def verify(
    folder: Path, deep: bool = False, hash_max: int = HASH_ON_OPEN_MAX_BYTES, gone_ok: bool = False
) -> str | None:
    """None if `folder` matches its manifest, else what is wrong (one short phrase).

    `deep` checksums every file; otherwise files over `hash_max` bytes are only sized.
    `gone_ok`: a listed file that is gone is no damage (an index that merges segments deletes
    the old ones before its manifest is re-listed; its own open fails if it still needs one).
    """
    folder = Path(folder)
    if not folder.is_dir():
        return "missing"
    try:
        files = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
        entries = [(str(name), int(entry["size"]), str(entry["sha256"])) for name, entry in files.items()]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return f"{MANIFEST} missing or unreadable"
    for name, size, sha256 in entries:
        path = folder / name
        try:
            actual = path.stat().st_size
        except OSError:
            if gone_ok:
                continue
            return f"{name} missing"
        if actual != size:
            return f"{name} is {actual} bytes, expected {size}"
        if (deep or size <= hash_max) and file_sha256(path) != sha256:
            return f"{name} checksum differs"
    return None
