"""A small client for any OpenAI-compatible chat server, with one error type.

`LLMClient.chat` returns the whole reply as a string, streaming it through an
`on_token` callback when one is given. Every failure (server down, timeout,
HTTP error, empty or malformed reply) becomes `LLMError`, whose message never
holds the API key. `openai` is imported only when a client is built.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from ingest.settings import Settings

PLACEHOLDER_KEY = "not-needed"  # local servers (llama.cpp, Ollama, vLLM) accept any key


class LLMError(RuntimeError):
    """The LLM could not give an answer; the message is short and safe to log or show.

    `kind` says what went wrong: "timeout", "unreachable" (no connection), "http"
    (an error status), "unusable" (a malformed reply), "empty" or "config".
    """

    def __init__(self, message: str, kind: str = "unusable") -> None:
        super().__init__(message)
        self.kind = kind


def safe_url(url: str) -> str:
    """`url` without user info, query or fragment, fit for messages and logs."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        return "<invalid url>"


class LLMClient:
    """Chat with the server at `settings.llm_base_url`, at temperature 0, without retries.

    The model is `settings.llm_model`, or when unset the first id the server lists at
    `/v1/models` (looked up once, on first use). `settings.llm_timeout` bounds the
    connection and each read, so a stream that keeps sending tokens is not cut off.

    `failed_at` is the `time.monotonic()` of the last call that timed out or could not
    connect (None once a call succeeds), so callers can skip a server that is down.
    `context_tokens` is the model's context window (`settings.llm_context`), which the
    prompt is sized to.
    """

    def __init__(self, settings: Settings) -> None:
        if not settings.llm_base_url:
            raise LLMError("no LLM configured (SPACEBOT_LLM_BASE_URL is unset)", kind="config")
        import openai  # deferred: importing openai costs about a second

        self.base_url = safe_url(settings.llm_base_url)
        self.timeout = float(settings.llm_timeout)
        self.context_tokens = int(settings.llm_context)
        self.failed_at: float | None = None
        self._model = settings.llm_model or None
        secret = settings.llm_api_key.get_secret_value() if settings.llm_api_key else ""
        self._secret = secret
        self._client = openai.OpenAI(
            base_url=settings.llm_base_url,
            api_key=secret or PLACEHOLDER_KEY,
            timeout=self.timeout,
            max_retries=0,
        )

    def __repr__(self) -> str:
        return f"LLMClient(base_url={self.base_url!r}, model={self._model!r})"

    @property
    def model(self) -> str:
        """The model name sent with each request."""
        if self._model is None:
            try:
                ids = [m.id for m in self._client.models.list()]
            except Exception as exc:  # noqa: BLE001 - every failure becomes LLMError
                raise self._error(exc, "listing models") from None
            if not ids or not isinstance(ids[0], str) or not ids[0]:
                raise LLMError(f"LLM server at {self.base_url} lists no models", kind="http")
            self._model = ids[0]
        return self._model

    def chat(
        self,
        messages: list[dict[str, str]],
        max_tokens: int = 512,
        on_token: Callable[[str], Any] | None = None,
        *,
        timeout: float | None = None,
    ) -> str:
        """The model's reply to `messages` (OpenAI chat format), at temperature 0.

        With `on_token`, the reply is streamed and `on_token(delta)` is called for each
        non-empty piece of text as it arrives; errors raised by `on_token` propagate
        unchanged. `timeout` overrides `settings.llm_timeout` for this call.
        """
        try:
            text = self._chat(messages, max_tokens, on_token, timeout)
        except LLMError as exc:
            if exc.kind in ("timeout", "unreachable"):
                self.failed_at = time.monotonic()
            raise
        self.failed_at = None
        return text

    def _chat(self, messages, max_tokens, on_token, timeout) -> str:
        request = dict(
            model=self.model,
            messages=messages,
            max_tokens=max_tokens,
            temperature=0,
            stream=on_token is not None,
        )
        if timeout is not None:
            request["timeout"] = timeout
        if on_token is None:
            try:
                response = self._client.chat.completions.create(**request)
                text = response.choices[0].message.content
            except Exception as exc:  # noqa: BLE001
                raise self._error(exc) from None
        else:
            text = self._stream(request, on_token)
        if not isinstance(text, str) or not text.strip():
            raise LLMError("LLM returned an empty answer", kind="empty")
        return text

    def _stream(self, request: dict, on_token: Callable[[str], Any]) -> str:
        """Consume a streamed reply, handing each piece to `on_token`."""
        try:
            stream = self._client.chat.completions.create(**request)
            chunks = iter(stream)
        except Exception as exc:  # noqa: BLE001
            raise self._error(exc) from None
        parts: list[str] = []
        try:
            while True:
                try:
                    chunk = next(chunks)
                    delta = chunk.choices[0].delta.content if chunk.choices else None
                except StopIteration:
                    break
                except Exception as exc:  # noqa: BLE001
                    raise self._error(exc) from None
                if delta:
                    parts.append(delta)
                    on_token(delta)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # noqa: BLE001 - closing a broken stream may fail too
                    pass
        return "".join(parts)

    def _error(self, exc: Exception, doing: str = "chat") -> LLMError:
        """A short `LLMError` for `exc`, with any trace of the API key removed."""
        import httpx
        import openai

        if isinstance(exc, LLMError):
            return exc
        kind = "unusable"
        # A stream cut by a read timeout or a dropped connection raises httpx's own errors.
        if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException)):
            msg, kind = f"LLM server at {self.base_url} timed out ({doing})", "timeout"
        elif isinstance(exc, (openai.APIConnectionError, httpx.NetworkError, httpx.RemoteProtocolError)):
            msg, kind = f"cannot reach LLM server at {self.base_url} ({doing})", "unreachable"
        elif isinstance(exc, openai.APIStatusError):
            kind = "http"
            detail = " ".join(str(getattr(exc, "message", "") or "").split())[:160]
            msg = f"LLM server answered HTTP {exc.status_code} ({doing})"
            if detail:
                msg = f"{msg}: {detail}"
        else:
            msg = f"unusable reply from LLM server at {self.base_url} ({doing}): {type(exc).__name__}"
        if self._secret:
            msg = msg.replace(self._secret, "***")
        return LLMError(msg, kind=kind)
