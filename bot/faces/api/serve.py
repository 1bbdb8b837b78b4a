"""`spacebot serve`: the API under uvicorn, one process or `workers` processes on one port."""

from __future__ import annotations

import logging

from ingest.settings import Settings

log = logging.getLogger("spacebot.api")


def app_from_environment():
    """The app built from the environment and `.env` (uvicorn calls this in each worker process)."""
    from bot.faces.api.app import create_app

    return create_app(Settings())


def run(settings: Settings, host: str = "127.0.0.1", port: int = 8080, workers: int = 1) -> None:
    """Serve until Ctrl-C / SIGTERM. With `workers` > 1 uvicorn forks that many processes,
    each building its own app from the environment (so `settings` must come from it too)."""
    import uvicorn

    from bot.faces.api.app import create_app

    log.info(
        "spacebot API on http://%s:%s (docs at /docs), %d worker(s), state in %s",
        host,
        port,
        workers,
        _state_location(settings),
    )
    if workers > 1:
        uvicorn.run(
            "bot.faces.api.serve:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
        )
    else:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")


def _state_location(settings: Settings) -> str:
    from bot.state.db import redact, sqlalchemy_url

    return redact(sqlalchemy_url(settings.state_url))
