"""The one record every loader produces and every later step consumes."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime


@dataclass
class Article:
    """A clean article, ready to chunk.

    `id` is stable across runs: the path relative to the folder named on the
    command line, `file.jsonl#record`, or the URL for web pages and feed items.
    `origin` names the input it came from (used by `--prune`).
    """

    id: str
    title: str
    text: str
    source: str
    origin: str
    url: str | None = None
    published: date | None = None
    path: str | None = None
    extra: dict[str, str] = field(default_factory=dict)
    canonical_url: str | None = None  # the address a web page declares its own (<link rel="canonical">)
    # Fields of the input dropped or coerced on the way (one line each, naming input and field);
    # not part of the content hash.
    warnings: list[str] = field(default_factory=list, compare=False)

    def content_hash(self, salt: str = "") -> str:
        """Hash of everything that ends up in the index; `salt` carries chunking settings."""
        fields = [
            self.title,
            self.text,
            self.source,
            self.url,
            self.published_iso,
            self.path,
            sorted(self.extra.items()),
            salt,
        ]
        if self.canonical_url:  # only when declared: the hash of every other article stays as it was
            fields.append(self.canonical_url)
        payload = json.dumps(fields, ensure_ascii=False)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:32]

    @property
    def published_iso(self) -> str | None:
        return self.published.isoformat() if self.published else None

    @property
    def published_ts(self) -> int | None:
        """Publication date as epoch seconds (UTC midnight), comparable inside Chroma."""
        return date_to_ts(self.published) if self.published else None


def date_to_ts(value: date) -> int:
    """Epoch seconds of a date at UTC midnight (the form stored in the index)."""
    return int(datetime(value.year, value.month, value.day, tzinfo=UTC).timestamp())


class InputError(Exception):
    """A bad input: the message is one line that names the input and the reason."""

    def __init__(self, input_name: str, reason: str):
        super().__init__(f"{input_name}: {reason}")
        self.input = input_name
        self.reason = reason
