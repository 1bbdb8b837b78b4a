"""`spacebot serve`: the API under uvicorn, one process or `workers` processes on one port."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from ingest.settings import Settings

log = logging.getLogger("spacebot.api")

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# prometheus_client's multiprocess mode: each worker writes its counters to files in this folder,
# and GET /metrics on any worker sums them (see metrics.py).
METRICS_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def app_from_environment():
    """The app built from the environment and `.env` (uvicorn calls this in each worker process)."""
    from bot.faces.api.app import create_app

    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT)  # a spawned worker starts unconfigured
    return create_app(Settings())


def is_loopback(host: str) -> bool:
    """True for `localhost` and loopback addresses (127.0.0.0/8, ::1): only this machine can connect."""
    import ipaddress

    if host.strip().lower() in ("localhost", "localhost."):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_exposure(settings: Settings, host: str, no_auth: bool) -> None:
    """Refuse (ValueError, one line) to serve everyone on a non-loopback `host` without a token,
    unless `no_auth` says so (then a warning is logged). A malformed token list, rate or fetch
    allow list is refused here too, before any worker starts."""
    from bot.faces.api.guards import ApiTokens
    from bot.state.rate_limits import Rate
    from ingest.fetch_guard import FetchGuard

    tokens = ApiTokens.from_settings(settings)
    FetchGuard.from_setting(settings.fetch_allow)
    for variable, rate in (("SPACEBOT_API_RATE", settings.api_rate), ("SPACEBOT_SLACK_RATE", settings.slack_rate)):
        if (rate or "").strip():
            Rate.parse(rate, variable)
    if is_loopback(host) or tokens.required:
        return
    if not no_auth:
        raise ValueError(
            f"refusing to serve {host} without a token: set SPACEBOT_API_TOKENS (or SPACEBOT_API_TOKEN), "
            "or pass --no-auth to let anyone who can reach it in"
        )
    log.warning("serving %s with no token (--no-auth): anyone who can reach it can ask and ingest", host)


def run(settings: Settings, host: str = "127.0.0.1", port: int = 8080, workers: int = 1, no_auth: bool = False) -> None:
    """Serve until Ctrl-C / SIGTERM. With `workers` > 1 uvicorn starts that many processes,
    each building its own app from the environment (so `settings` must come from it too),
    and /metrics on any of them reports the sum over all. A non-loopback `host` needs a
    token, or `no_auth` (see `check_exposure`)."""
    import uvicorn

    from bot.faces.api.app import create_app

    check_exposure(settings, host, no_auth)

    log.info(
        "spacebot API on http://%s:%s (docs at /docs), %d worker(s), state in %s",
        host,
        port,
        workers,
        _state_location(settings),
    )
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        return
    own_folder = _shared_metrics_folder()
    try:
        uvicorn.run(
            "bot.faces.api.serve:app_from_environment",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            log_level="info",
        )
    finally:
        if own_folder is not None:
            own_folder.cleanup()


def _shared_metrics_folder() -> tempfile.TemporaryDirectory | None:
    """Point the workers at one metrics folder: the operator's `PROMETHEUS_MULTIPROC_DIR`
    (emptied of an earlier run's files), else a temporary one returned for cleaning up.
    Set before uvicorn starts the workers, which inherit the environment."""
    given = os.environ.get(METRICS_DIR_VARIABLE)
    if given:
        for stale in Path(given).glob("*.db"):  # counters of a previous run would be summed in
            stale.unlink()
        return None
    folder = tempfile.TemporaryDirectory(prefix="spacebot-metrics-")
    os.environ[METRICS_DIR_VARIABLE] = folder.name
    return folder


def _state_location(settings: Settings) -> str:
    from bot.state.db import redact, sqlalchemy_url

    return redact(sqlalchemy_url(settings.state_url))
