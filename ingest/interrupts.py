"""Hold Ctrl-C (SIGINT) and SIGTERM while a write must finish whole.

`with atomic(): ...` records either signal instead of acting on it and delivers it
once the block is done, to whatever handler was installed before. The index then
never holds half a batch because someone pressed Ctrl-C at the wrong moment.
Outside the main thread (where Python cannot set handlers) it does nothing.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

HELD = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def atomic() -> Iterator[None]:
    """Run the block with SIGINT and SIGTERM held; a held signal is delivered right after it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {sig: signal.signal(sig, lambda signum, _frame: caught.append(signum)) for sig in HELD}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        if caught:
            signal.raise_signal(caught[0])
