"""The Slack Web API client: base URL (GovSlack, proxies, tests), token, 429 retries."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from slack_sdk import WebClient

    from ingest.settings import Settings


def api_base_url(url: str | None) -> str | None:
    """`SLACK_API_URL` as slack_sdk wants it (with a trailing slash), or None."""
    if not url or not url.strip():
        return None
    url = url.strip()
    return url if url.endswith("/") else url + "/"


def secret_value(value: Any) -> str | None:
    if value is None:
        return None
    raw = value.get_secret_value() if hasattr(value, "get_secret_value") else str(value)
    return raw or None


def with_rate_limit_retries(client: WebClient, max_retries: int = 2) -> WebClient:
    """Attach slack_sdk's `RateLimitErrorRetryHandler` (honours Retry-After) once."""
    from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler

    if not any(isinstance(h, RateLimitErrorRetryHandler) for h in client.retry_handlers):
        client.retry_handlers.append(RateLimitErrorRetryHandler(max_retry_count=max_retries))
    return client


def make_client(settings: Settings) -> WebClient:
    """A `WebClient` with the bot token, `SLACK_API_URL` and 429 retries."""
    from slack_sdk import WebClient

    kwargs: dict[str, Any] = {"token": secret_value(settings.slack_bot_token)}
    base = api_base_url(settings.slack_api_url)
    if base:
        kwargs["base_url"] = base
    return with_rate_limit_retries(WebClient(**kwargs))
