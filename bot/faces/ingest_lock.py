"""One `spacebot ingest` per data dir at a time, with `filelock`.

A second ingest of the same index says which process holds it and waits for it
to finish, then finds that process's articles unchanged: the work is never done
twice. (With a Chroma server the lock guards this machine's data dir only.)
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = "ingest.lock"
PID_FILE = "ingest.pid"  # beside the lock: filelock truncates the lock file on every attempt


class NotWritable(Exception):
    """The data dir (or a file in it) cannot be written; the message names the path."""


def holder_pid(data_dir: Path) -> str:
    """The pid of the ingest holding the lock, as written in its pid file ("unknown" if unreadable)."""
    try:
        return (data_dir / PID_FILE).read_text().strip() or "unknown"
    except OSError:
        return "unknown"


@contextmanager
def one_ingest_at_a_time(data_dir: Path, on_wait: Callable[[str], None]) -> Iterator[None]:
    """Hold the data dir's ingest lock for the block; `on_wait(line)` is called once if another has it."""
    from filelock import FileLock, Timeout

    data_dir = Path(data_dir)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
        lock = FileLock(data_dir / LOCK_FILE)
        try:
            lock.acquire(timeout=0)
        except Timeout:
            on_wait(f"another ingest is running (pid {holder_pid(data_dir)}); waiting for it to finish")
            lock.acquire()
        (data_dir / PID_FILE).write_text(f"{os.getpid()}\n")
    except OSError as exc:  # read-only, not a directory, no permission, disk full
        raise NotWritable(
            f"cannot write {exc.filename or data_dir} ({exc.strerror or type(exc).__name__}): "
            f"ingest needs write access to the data dir (SPACEBOT_DATA_DIR={data_dir})"
        ) from None
    try:
        yield
    finally:
        (data_dir / PID_FILE).unlink(missing_ok=True)
        lock.release()
