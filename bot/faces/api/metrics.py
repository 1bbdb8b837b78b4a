"""Prometheus metrics of one API application (`GET /metrics`).

Each application gets its own registry, so several apps in one process (tests)
count separately. Under `spacebot serve --workers N` (`PROMETHEUS_MULTIPROC_DIR`
set, see serve.py) every worker writes its values to files in that folder and
`render` sums them over the workers, so a scrape reaching any one worker sees
the whole server. Requests are labelled by route template
(`/v1/conversations/{conversation_id}`), never by raw path, so the number of
series stays bounded whatever clients send.
"""

from __future__ import annotations

import os

# Answer latency buckets (seconds): warm extractive answers take ~10-50 ms, LLM answers seconds.
ANSWER_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    """The counters and histogram the API updates."""

    def __init__(self) -> None:
        from prometheus_client import (
            CollectorRegistry,
            Counter,
            Histogram,
            disable_created_metrics,
        )

        disable_created_metrics()  # no `*_created` series: one per counter, of no use on a dashboard
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "spacebot_http_requests",
            "HTTP requests by route, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.answer_seconds = Histogram(
            "spacebot_answer_seconds", "Time to answer one question", buckets=ANSWER_BUCKETS, registry=self.registry
        )
        self.answers = Counter("spacebot_answers", "Questions answered (refusals included)", registry=self.registry)
        self.refusals = Counter("spacebot_refusals", "Questions the articles did not answer", registry=self.registry)
        self.llm_fallbacks = Counter(
            "spacebot_llm_fallbacks", "Answers given as quoted sentences because the LLM failed", registry=self.registry
        )
        self.by_token = Counter(
            "spacebot_api_requests_by_token",
            "Authenticated /v1 requests by token name (never the token)",
            ["token"],
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "spacebot_api_rate_limited",
            "/v1 requests refused with 429 by SPACEBOT_API_RATE, by token name",
            ["token"],
            registry=self.registry,
        )
        self.ingested = Counter(
            "spacebot_ingest_articles",
            "Articles handled by POST /v1/ingest, by outcome",
            ["outcome"],
            registry=self.registry,
        )

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        from prometheus_client.multiprocess import MultiProcessCollector

        every_worker = CollectorRegistry()
        MultiProcessCollector(every_worker)
        return generate_latest(every_worker), CONTENT_TYPE_LATEST

    def observe_answer(self, seconds: float, answer) -> None:
        from bot.core.service import LLM_FALLBACK_NOTE

        self.answer_seconds.observe(seconds)
        self.answers.inc()
        if answer.refused:
            self.refusals.inc()
        if answer.note == LLM_FALLBACK_NOTE:
            self.llm_fallbacks.inc()

    def observe_ingest(self, summary) -> None:
        for outcome in ("new", "changed", "unchanged", "removed"):
            self.ingested.labels(outcome).inc(getattr(summary, outcome))
        self.ingested.labels("failed").inc(len(summary.failed))


class CountRequests:
    """ASGI middleware: one count per HTTP response, by route template and status."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        status = 500  # what the client gets if the app raises before responding

        async def record_status(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()


class NameWorker:
    """ASGI middleware: every response says which process served it (`X-Spacebot-Worker: <pid>`),
    so a log line or a client can tell the workers of `--workers N` apart."""

    def __init__(self, app) -> None:
        self.app = app
        self.header = (b"x-spacebot-worker", str(os.getpid()).encode())

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def named(message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), self.header]}
            await send(message)

        await self.app(scope, receive, named)
