"""Run an API app under a real uvicorn server on a free loopback port, in a thread."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

START_TIMEOUT = 30  # seconds for uvicorn to bind and run the app's start-up


@contextlib.contextmanager
def serving(app) -> Iterator[str]:
    """Yield `http://127.0.0.1:PORT` while uvicorn serves `app`; stop it afterwards."""
    import uvicorn
    from conftest import free_port

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=free_port(), log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="uvicorn-test", daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{server.config.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
