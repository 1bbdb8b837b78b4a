"""Request bodies of the API (FastAPI validates them and documents them at /docs)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field, field_validator

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
    since: date | None = Field(
        None, description="Only articles published on or after this date: 2024-01-31, or 7d, 2w, last month."
    )
    until: date | None = Field(
        None, description="Only articles published on or before this date: 2024-01-31, or 7d, 2w, last month."
    )
    k: int | None = Field(None, ge=1, le=50, description="Sources to cite / articles to list.")
    stream: bool = Field(False, description="Answer as server-sent events: `token` events, then one `answer`.")

    @field_validator("since", "until", mode="before")
    @classmethod
    def _day(cls, value):
        """The CLI's parser (`bot.faces.dates`): ISO dates and relative forms alike."""
        if value is None or isinstance(value, date):
            return value
        from bot.faces.dates import parse_day

        return parse_day(str(value))  # DateError (a ValueError): a 400 naming the value


class IngestRequest(BaseModel):
    """Web pages or feeds to add to the index, as `spacebot ingest URL...` would."""

    urls: list[str] = Field(..., min_length=1, max_length=MAX_URLS)
    follow_links: bool = Field(False, description="For feeds: fetch each entry's page for the full text.")
