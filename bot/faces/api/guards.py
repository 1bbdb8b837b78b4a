"""What stands before the routes: the bearer token on /v1 and the request-body size limit."""

from __future__ import annotations

import hmac
import json


class BearerToken:
    """Checks `Authorization: Bearer <token>` in constant time; `None` lets everyone in."""

    def __init__(self, token: str | None) -> None:
        self._expected = token.encode() if token else None

    def allows(self, authorization: str | None) -> bool:
        if self._expected is None:
            return True
        scheme, _, given = (authorization or "").partition(" ")
        # compare_digest takes as long for a wrong token as for a right one of the same length
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self._expected)


class LimitBody:
    """ASGI middleware: a request body over `max_bytes` gets 413 before any route sees it.

    A declared `Content-Length` over the limit is refused at once; a chunked body
    is counted as it arrives. The body read is handed on to the app unchanged.
    """

    def __init__(self, app, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(send)
        body, more = b"", True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return await self.app(scope, _replay(message, receive), send)
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                return await self._refuse(send)
        await self.app(scope, _replay({"type": "http.request", "body": body, "more_body": False}, receive), send)

    async def _refuse(self, send) -> None:
        payload = json.dumps(
            {"error": f"the request body is over the limit of {self.max_bytes // 1024} KB (SPACEBOT_API_MAX_BODY_KB)"}
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(payload)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": payload})


def _replay(first, receive):
    """A `receive` that returns `first` once, then the real messages (e.g. a disconnect)."""
    pending = [first]

    async def replayed():
        return pending.pop() if pending else await receive()

    return replayed
