"""Request bodies of the API (FastAPI validates them and documents them at /docs)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

MAX_URLS = 100  # URLs per POST /v1/ingest: one request should not hold a worker for hours


class AskRequest(BaseModel):
    """A question, optionally in a conversation and restricted like `spacebot ask`'s options."""

    question: str | None = Field(
        None, description="The question (the CLI's rules: not empty, at most 2,000 characters)."
    )
    conversation_id: str | None = Field(
        None,
        max_length=200,
        description="Continue this conversation; omitted: a new one is started and its id returned.",
    )
    source: str | None = Field(None, description="Only articles from this source (see GET /v1/sources).")
    since: date | None = Field(None, description="Only articles published on or after this date.")
    until: date | None = Field(None, description="Only articles published on or before this date.")
    k: int | None = Field(None, ge=1, le=50, description="Sources to cite / articles to list.")
    stream: bool = Field(False, description="Answer as server-sent events: `token` events, then one `answer`.")


class IngestRequest(BaseModel):
    """Web pages or feeds to add to the index, as `spacebot ingest URL...` would."""

    urls: list[str] = Field(..., min_length=1, max_length=MAX_URLS)
    follow_links: bool = Field(False, description="For feeds: fetch each entry's page for the full text.")
