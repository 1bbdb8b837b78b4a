"""Serving the app: the Events API over a threading WSGI server, or Socket Mode."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from bot.faces.slack.app import AskService, build_app
from bot.faces.slack.client import secret_value

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from slack_bolt import App

    from ingest.settings import Settings

log = logging.getLogger("spacebot.slack")

EVENTS_PATH = "/slack/events"
# Slack sends a whole event in well under a second and gives up on us after 3 s;
# a connection idle this long is not Slack.
READ_TIMEOUT_S = 10


def wsgi_app(app: App, path: str = EVENTS_PATH, secret: str | None = None) -> Callable:
    """A WSGI application: Bolt at `path` behind the checks of `SlackDoor`, `GET /healthz`.

    `secret` defaults to the signing secret the Bolt app was built with.
    """
    from bot.faces.slack.door import SlackDoor

    if secret is None:
        secret = getattr(app, "_signing_secret", "") or ""  # Bolt keeps it there, with no public accessor
    return SlackDoor(app, secret, path)


def make_http_server(app: App, port: int = 3000, host: str = "0.0.0.0", path: str = EVENTS_PATH) -> WSGIServer:
    """A threading stdlib WSGI server (one thread per request) bound to `host:port`."""
    from socketserver import ThreadingMixIn
    from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

    class QuietHandler(WSGIRequestHandler):
        timeout = READ_TIMEOUT_S  # a client that stops sending mid-body loses its thread, not ours forever

        def log_message(self, format, *args):  # noqa: A002
            log.debug("http %s - %s", self.address_string(), format % args)

    class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
        daemon_threads = True
        allow_reuse_address = True
        # socketserver's default listen backlog is 5: a burst of Slack events (20 mentions at once in
        # the tests) overflowed it and connections were reset; 128 is Linux's usual SOMAXCONN.
        request_queue_size = 128

    server = ThreadingWSGIServer((host, port), QuietHandler)
    server.set_app(wsgi_app(app, path))
    return server


def serve_http(
    app: App,
    port: int = 3000,
    host: str = "0.0.0.0",
    *,
    path: str = EVENTS_PATH,
    on_ready: Callable[[WSGIServer], None] | None = None,
) -> None:
    """Serve `app` over HTTP until `server.shutdown()` (or Ctrl-C).

    `on_ready(server)` is called once the socket is bound (`server.server_port`
    is the real port when `port=0`); call `server.shutdown()` from another
    thread to stop.
    """
    server = make_http_server(app, port, host, path)
    try:
        log.info("spacebot listening on http://%s:%s%s", host, server.server_port, path)
        if on_ready is not None:
            on_ready(server)
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


def serve_socket_mode(
    app: App,
    app_token: str,
    *,
    on_ready: Callable[[Any], None] | None = None,
    stop: threading.Event | None = None,
) -> None:
    """Connect to Slack over Socket Mode (an `xapp-` token) and block until `stop` is set.

    `on_ready(handler)` gets the connected `SocketModeHandler`. Without `stop`,
    this blocks until Ctrl-C.
    """
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    if not app_token or not app_token.startswith("xapp-"):
        raise ValueError("Socket Mode needs an app-level token starting with xapp- (SLACK_APP_TOKEN)")
    handler = SocketModeHandler(app, app_token)
    handler.connect()
    log.info("spacebot connected to Slack over Socket Mode")
    try:
        if on_ready is not None:
            on_ready(handler)
        (stop or threading.Event()).wait()
    except KeyboardInterrupt:
        pass
    finally:
        handler.close()


def run(
    settings: Settings,
    service: AskService,
    *,
    http: bool = False,
    port: int = 3000,
    host: str = "0.0.0.0",
) -> None:
    """What `spacebot slack [--http --port N]` does: HTTP mode, or Socket Mode by default; either way
    with the follows worker (alerts for new stories, scheduled briefs) running beside it."""
    if http:
        if not secret_value(settings.slack_signing_secret):
            raise ValueError("HTTP mode needs SLACK_SIGNING_SECRET (Basic Information > Signing Secret)")
        app = build_app(settings, service)
        with _follow_worker(settings, service, app):
            serve_http(app, port=port, host=host)
        return
    app_token = secret_value(settings.slack_app_token)
    if not app_token:
        raise ValueError(
            "Socket Mode needs SLACK_APP_TOKEN (an xapp- token with connections:write); "
            "or run with --http and SLACK_SIGNING_SECRET"
        )
    app = build_app(settings, service)
    with _follow_worker(settings, service, app):
        serve_socket_mode(app, app_token)


@contextmanager
def _follow_worker(settings: Settings, service: AskService, app: App):
    """Run the alerts and scheduled briefs loop (bot/faces/slack/follow_worker.py) while the block runs."""
    from bot.faces.slack.app import follow_services
    from bot.faces.slack.follow_worker import FollowWorker, make_dispatcher

    services = follow_services(settings, service)
    try:
        dispatcher = make_dispatcher(settings, services, app.client)
    except Exception as exc:  # noqa: BLE001 (no index or model yet: answer questions, say why no alerts)
        log.warning("alerts and scheduled briefs are off: %s", " ".join(str(exc).split())[:200])
        yield None
        return
    worker = FollowWorker(dispatcher, services, app.client, settings.alert_poll_seconds)
    worker.start()
    try:
        yield worker
    finally:
        worker.stop()
