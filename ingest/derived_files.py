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
    files = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        _fsync(path)
        files[path.relative_to(folder).as_posix()] = {"size": path.stat().st_size, "sha256": file_sha256(path)}
    manifest = {"files": files}
    with open(folder / MANIFEST, "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    for sub in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        _fsync(sub)
    return manifest


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


def verify(folder: Path, deep: bool = False) -> str | None:
    """None if `folder` matches its manifest, else what is wrong (one short phrase).

    `deep` checksums every file; otherwise files over `HASH_ON_OPEN_MAX_BYTES` are only sized.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return "missing"
    try:
        files = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))["files"]
        listed = [(str(name), int(entry["size"]), str(entry["sha256"])) for name, entry in files.items()]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return f"{MANIFEST} missing or unreadable"
    for name, size, sha256 in listed:
        path = folder / name
        try:
            actual = path.stat().st_size
        except OSError:
            return f"{name} missing"
        if actual != size:
            return f"{name} is {actual} bytes, expected {size}"
        if (deep or size <= HASH_ON_OPEN_MAX_BYTES) and file_sha256(path) != sha256:
            return f"{name} checksum differs"
    return None
