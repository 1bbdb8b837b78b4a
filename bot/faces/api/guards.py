"""What stands before the routes: the bearer tokens on /v1 and the request-body size limit."""

from __future__ import annotations

import hmac
import json


class ApiTokens:
    """The bearer tokens `/v1` accepts, each with a name (metrics and rate limits use the name, never the token).

    From `SPACEBOT_API_TOKENS` (comma-separated, each `name:token` or a bare token, named
    `token1`, `token2`... by position) and `SPACEBOT_API_TOKEN` (named `default`). No token:
    everyone is let in (as `anonymous`). Every token is compared in constant time, each time,
    so the answer takes as long whichever token matched, or none.
    """

    def __init__(self, tokens: dict[str, str]) -> None:
        self._tokens = [(name, token.encode()) for name, token in tokens.items()]

    @classmethod
    def from_settings(cls, settings) -> ApiTokens:
        tokens: dict[str, str] = {}
        listed = settings.api_tokens.get_secret_value() if settings.api_tokens else ""
        for position, item in enumerate((i.strip() for i in listed.split(",") if i.strip()), start=1):
            name, colon, token = item.partition(":")
            name, token = (name.strip(), token.strip()) if colon else (f"token{position}", item)
            if not name or not token or name in tokens:
                raise ValueError(f"SPACEBOT_API_TOKENS: entry {position} needs a unique name and a token (name:token)")
            tokens[name] = token
        if settings.api_token and settings.api_token.get_secret_value().strip():
            tokens.setdefault("default", settings.api_token.get_secret_value().strip())
        return cls(tokens)

    @property
    def required(self) -> bool:
        """True when at least one token is configured."""
        return bool(self._tokens)

    def name_for(self, authorization: str | None) -> str | None:
        """The name of the token in `Authorization: Bearer <token>` (`anonymous` when none is
        required), or None when it is missing or not one of them."""
        if not self._tokens:
            return "anonymous"
        scheme, _, given = (authorization or "").partition(" ")
        offered = given.strip().encode()
        found = None
        for name, token in self._tokens:  # no early exit: every token is compared every time
            if hmac.compare_digest(offered, token) and found is None:
                found = name
        return found if scheme.lower() == "bearer" else None


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
