"""`create_app`: the FastAPI application of `spacebot serve`.

Routes (OpenAPI at /docs):
- `POST /v1/ask`, `GET /v1/sources`, `POST /v1/ingest` (202 and a job id),
  `GET /v1/jobs/{id}`, `GET /v1/conversations/{id}`: need `Authorization: Bearer
  <token>` when `SPACEBOT_API_TOKENS`/`SPACEBOT_API_TOKEN` is set; all but the job
  poll count against `SPACEBOT_API_RATE` (429 with `Retry-After` over it).
- `GET /healthz` (the process is up), `GET /readyz` (index and state store
  reachable, else 503), `GET /metrics` (Prometheus).
Every response names the process that served it: `X-Spacebot-Worker: <pid>`.
- `POST /slack/events` when `SLACK_BOT_TOKEN` and `SLACK_SIGNING_SECRET` are
  set: the Slack Events API, as `spacebot slack --http` serves it.

Every error is JSON `{"error": message}`: a bad question 400 (the CLI's
message), a missing or wrong token 401, an oversized body 413, too many requests 429, an index or
state store that cannot be reached 503; anything unexpected is logged with
its traceback and answered 500 without one.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import TYPE_CHECKING

from fastapi import APIRouter, Depends, FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from bot.faces.api.follows import follow_routes
from bot.faces.api.guards import ApiTokens, LimitBody
from bot.faces.api.live import LiveService
from bot.faces.api.metrics import CountRequests, Metrics, NameWorker
from bot.faces.api.schemas import AskRequest, IngestRequest

if TYPE_CHECKING:
    from ingest.settings import Settings

log = logging.getLogger("spacebot.api")

MAX_TURNS_SHOWN = 100  # turns returned by GET /v1/conversations/{id}, the most recent


def create_app(settings: Settings, service=None) -> FastAPI:
    """The API over `service` (given: used as is; None: an `AnswerService(settings)` that is
    replaced by a fresh one whenever the index changes, see `live.py`)."""
    from contextlib import asynccontextmanager

    from bot.state.db import sqlalchemy_url

    sqlalchemy_url(settings.state_url)  # a malformed SPACEBOT_DATABASE_URL stops start-up (ValueError)
    metrics = Metrics()
    caller = _Caller(settings, metrics)  # so does a bad SPACEBOT_API_TOKENS, SPACEBOT_API_RATE or SPACEBOT_FETCH_ALLOW
    live = LiveService(
        settings,
        None if service is not None else _service_factory(settings),
        service=service,
        poll_seconds=settings.index_poll_seconds,
    )
    jobs = _ingest_jobs(settings, live, metrics)

    @asynccontextmanager
    async def lifespan(_app):
        from starlette.concurrency import run_in_threadpool

        await run_in_threadpool(live.start)  # loads the index before the first question
        await run_in_threadpool(jobs.start)  # jobs a stopped server left unfinished are marked failed
        yield
        jobs.stop()
        live.stop()

    app = FastAPI(
        title="spacebot",
        version="0.1.0",
        lifespan=lifespan,
        description="Answers questions about space policy from ingested news articles, with citations.",
    )
    app.state.live, app.state.metrics = live, metrics
    _add_error_handlers(app)
    # Full paths on each route, no `prefix=`: a route's own `path` is then its template
    # (the metrics label); FastAPI keeps an included router's prefix elsewhere.
    app.include_router(
        _v1_routes(settings, live, metrics, jobs), dependencies=[Depends(caller.identify), Depends(caller.limit)]
    )
    app.include_router(_job_routes(jobs), dependencies=[Depends(caller.identify)])  # polling is not rate-limited
    app.include_router(_ops_routes(settings, live, metrics))
    # /v1/follows, /v1/brief
    app.include_router(follow_routes(settings), dependencies=[Depends(caller.identify), Depends(caller.limit)])
    _mount_slack(app, settings, live)
    if settings.cors_origin_list:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origin_list,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type"],
        )
    app.add_middleware(LimitBody, max_bytes=settings.api_max_body_kb * 1024)
    app.add_middleware(CountRequests, metrics=metrics)  # 401s and 413s are counted too
    app.add_middleware(NameWorker)
    return app


def _service_factory(settings: Settings):
    from bot.core.service import AnswerService

    return lambda: AnswerService(settings)


class _Caller:
    """Who calls /v1 (`identify`: the token's name, 401 without a valid one) and whether they
    may now (`limit`: 429 with `Retry-After` over `SPACEBOT_API_RATE`)."""

    def __init__(self, settings: Settings, metrics: Metrics) -> None:
        from bot.state.rate_limits import limiter_from_setting
        from ingest.fetch_guard import FetchGuard

        FetchGuard.from_setting(settings.fetch_allow)
        self.tokens = ApiTokens.from_settings(settings)
        self.limiter = limiter_from_setting(settings.api_rate, "SPACEBOT_API_RATE", settings.state_url, scope="api")
        self.metrics = metrics

    def identify(self, request: Request, authorization: str | None = Header(None, include_in_schema=False)) -> str:
        name = self.tokens.name_for(authorization)
        if name is None:
            raise HTTPException(
                401,
                "a valid `Authorization: Bearer <token>` header is required (SPACEBOT_API_TOKENS)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if self.tokens.required:
            self.metrics.by_token.labels(name).inc()
        request.state.caller = name
        return name

    def limit(self, request: Request) -> None:
        if self.limiter is None:
            return
        name = request.state.caller
        key = name if self.tokens.required else f"address:{request.client.host if request.client else '-'}"
        wait = self.limiter.hit(key)
        if wait is not None:
            self.metrics.rate_limited.labels(name).inc()
            raise HTTPException(
                429,
                f"too many requests: at most {self.limiter.rate.limit} per {self.limiter.rate.period:g} s "
                f"(SPACEBOT_API_RATE); try again in {wait.header} s",
                headers={"Retry-After": wait.header},
            )


def _ingest_jobs(settings: Settings, live: LiveService, metrics: Metrics):
    from bot.faces.api.jobs import IngestJobs
    from bot.state.jobs import JobStore

    def done(summary) -> None:
        metrics.observe_ingest(summary)
        live.refresh()

    return IngestJobs(settings, JobStore(settings.state_url, settings.job_stale_seconds), on_done=done)


# --------------------------------------------------------------------------- /v1


def _v1_routes(settings: Settings, live: LiveService, metrics: Metrics, jobs) -> APIRouter:
    router = APIRouter(tags=["questions"])

    @router.post("/v1/ask", summary="Answer a question, with numbered sources")
    def ask(body: AskRequest):
        """The `spacebot ask --json` object plus `conversation_id`; with `stream: true`,
        server-sent events: `token` (`{"text"}`) as the answer is written, then one `answer`."""
        from bot.core.records import Filters
        from bot.core.service import check_question

        service = live.current
        question = check_question(body.question)
        filters = Filters(source=body.source, since=body.since, until=body.until)
        conversation = body.conversation_id or uuid.uuid4().hex
        service.index  # noqa: B018 (an unreachable index is a 503 before any answer starts)

        def run(on_token=None) -> dict:
            started = time.perf_counter()
            answer = service.ask(question, conversation_id=conversation, filters=filters, k=body.k, on_token=on_token)
            metrics.observe_answer(time.perf_counter() - started, answer)
            return answer.to_dict() | {"conversation_id": conversation}

        if not body.stream:
            return run()
        from sse_starlette.sse import EventSourceResponse

        from bot.faces.api.stream import answer_events

        return EventSourceResponse(answer_events(run, _describe_error))

    @router.get("/v1/sources", summary="What is indexed (as `spacebot sources --json`)")
    def sources():
        from ingest.inventory import take_inventory

        return take_inventory(live.current.index.store).to_dict()

    @router.post(
        "/v1/ingest",
        status_code=202,
        summary="Add web pages or feeds to the index (as `spacebot ingest URL...`), as a job",
    )
    def ingest(body: IngestRequest, request: Request):
        """Answers at once with the job's id; `GET /v1/jobs/{id}` gives its progress and, when
        done, the `ingest --json` summary (inputs that failed, or that the fetch guard refused,
        are listed in its `failed`)."""
        local = [u for u in body.urls if not u.lower().startswith(("http://", "https://"))]
        if local:  # the server's own files are not the caller's to read
            raise HTTPException(400, f"only http(s) URLs can be ingested over the API, not {local[0]!r}")
        job_id = jobs.submit(body.urls, body.follow_links, requested_by=request.state.caller)
        return JSONResponse(
            {"job_id": job_id, "state": "queued", "status_url": f"/v1/jobs/{job_id}"},
            status_code=202,
            headers={"Location": f"/v1/jobs/{job_id}"},
        )

    @router.get("/v1/conversations/{conversation_id}", summary="The turns of a conversation, oldest first")
    def conversation(conversation_id: str):
        turns = live.current.conversations.history(conversation_id, limit=MAX_TURNS_SHOWN)
        if not turns:
            raise HTTPException(404, f"no conversation {conversation_id!r} (never started, or expired)")
        return {
            "conversation_id": conversation_id,
            "turns": [
                {"question": t.question, "answer": t.answer, "article_ids": t.article_ids, "refused": t.refused}
                for t in turns
            ],
        }

    return router


def _job_routes(jobs) -> APIRouter:
    router = APIRouter(tags=["questions"])

    @router.get("/v1/jobs/{job_id}", summary="An ingest job: its state, progress and result")
    def job(job_id: str):
        """`state` is queued, running, done (`result`: the `ingest --json` summary) or failed (`error`)."""
        found = jobs.store.get(job_id)
        if found is None:
            raise HTTPException(404, f"no ingest job {job_id!r}")
        return found

    return router


# --------------------------------------------------------------------------- operations


def _ops_routes(settings: Settings, live: LiveService, metrics: Metrics) -> APIRouter:
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="The process is up")
    def healthz():
        return {"status": "ok"}

    @router.get("/readyz", summary="The index and the state store are reachable (503 otherwise)")
    def readyz():
        checks = {"index": _index_problem(live), "state": _state_problem(settings)}
        ready = not any(checks.values())
        body = {
            "status": "ready" if ready else "unavailable",
            **{name: problem or "ok" for name, problem in checks.items()},
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @router.get("/metrics", summary="Prometheus metrics")
    def prometheus():
        payload, content_type = metrics.render()
        return Response(payload, media_type=content_type)

    return router


def _index_problem(live: LiveService) -> str | None:
    from ingest.store import StoreUnavailable

    try:
        live.current.index.store.count()
    except StoreUnavailable as exc:
        return str(exc)
    return None


def _state_problem(settings: Settings) -> str | None:
    from bot.state.db import StateUnavailable, open_database

    try:
        database = open_database(settings.state_url)
    except StateUnavailable as exc:
        return str(exc)
    return None if database.ping() else f"cannot reach the state database {database.location}"


# --------------------------------------------------------------------------- errors


def _describe_error(exc: BaseException) -> tuple[int, str]:
    """`(status, message)` for an exception; the message is safe to show (no traceback, no secrets)."""
    from bot.core.service import QuestionError
    from bot.state.db import StateUnavailable
    from ingest.store import StoreUnavailable

    if isinstance(exc, QuestionError):
        return 400, str(exc)
    if isinstance(exc, StoreUnavailable | StateUnavailable):
        return 503, str(exc)
    log.error("request failed", exc_info=exc)
    return 500, "internal error (logged on the server)"


def _add_error_handlers(app: FastAPI) -> None:
    from bot.core.service import QuestionError
    from bot.state.db import StateUnavailable
    from ingest.store import StoreUnavailable

    async def known(_request: Request, exc: Exception) -> JSONResponse:
        status, message = _describe_error(exc)
        return JSONResponse({"error": message}, status_code=status)

    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    async def invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in exc.errors())
        return JSONResponse({"error": f"bad request: {problems}"}, status_code=400)

    for kind in (QuestionError, StoreUnavailable, StateUnavailable, Exception):
        app.add_exception_handler(kind, known)
    app.add_exception_handler(StarletteHTTPException, http_error)  # 401, 404, 405 ... as JSON
    app.add_exception_handler(RequestValidationError, invalid)


# --------------------------------------------------------------------------- Slack


class _CurrentService:
    """What the Slack app answers with: always the `LiveService`'s current service."""

    def __init__(self, live: LiveService) -> None:
        self._live = live

    def __getattr__(self, name: str):
        return getattr(self._live.current, name)


def _mount_slack(app: FastAPI, settings: Settings, live: LiveService) -> None:
    """`POST /slack/events` when Slack HTTP mode is configured (signed requests, no bearer token)."""
    from bot.faces.slack.client import secret_value

    if not (secret_value(settings.slack_bot_token) and secret_value(settings.slack_signing_secret)):
        return
    from slack_bolt.adapter.starlette.handler import (
        to_bolt_request,
        to_starlette_response,
    )
    from starlette.concurrency import run_in_threadpool

    from bot.faces.slack.app import build_app

    bolt = build_app(settings, _CurrentService(live), token_verification_enabled=False)

    @app.post("/slack/events", include_in_schema=False)
    async def slack_events(request: Request):
        body = await request.body()
        response = await run_in_threadpool(bolt.dispatch, to_bolt_request(request, body))
        return to_starlette_response(response)
