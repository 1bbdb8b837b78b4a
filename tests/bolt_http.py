"""A Bolt app served over real HTTP on loopback in a thread, for the Slack tests."""

from __future__ import annotations

import threading

from bot.faces.slack.serve import serve_http


class BoltOnLoopback:
    """`serve_http(app)` on 127.0.0.1 (a free port) in a daemon thread; `url` is its events URL."""

    def __init__(self, app) -> None:
        self.app = app
        ready = threading.Event()
        holder = {}

        def on_ready(server):
            holder["server"] = server
            ready.set()

        self.thread = threading.Thread(
            target=serve_http, args=(app, 0, "127.0.0.1"), kwargs={"on_ready": on_ready}, daemon=True
        )
        self.thread.start()
        assert ready.wait(5), "server did not start"
        self.server = holder["server"]
        self.url = f"http://127.0.0.1:{self.server.server_port}/slack/events"

    def close(self) -> None:
        self.server.shutdown()
        self.thread.join(5)
        self.app.listener_runner.listener_executor.shutdown(wait=False, cancel_futures=True)
