"""Conditional GET: send back what the server said last time, so an unchanged source costs one 304."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from ingest.sources import Fetcher
from ingest.watch.records import Validators


@dataclass
class Fetched:
    """A conditional GET's outcome: `body` is None when the source is unchanged."""

    body: bytes | None
    validators: Validators
    status: int


def conditional_get(fetcher: Fetcher, url: str, known: Validators | None) -> Fetched:
    """GET `url` with If-None-Match / If-Modified-Since from `known`; failures raise `InputError`.

    Unchanged means a 304, or a 200 whose body has the digest of the last one (a server
    that sends no validators); either way nothing needs parsing.
    """
    headers = {}
    if known and known.etag:
        headers["If-None-Match"] = known.etag
    if known and known.last_modified:
        headers["If-Modified-Since"] = known.last_modified
    response = fetcher.get(url, headers)
    if response.status == 304 and known:
        return Fetched(None, known, 304)
    digest = hashlib.sha256(response.body).hexdigest()
    validators = Validators(response.headers.get("etag"), response.headers.get("last-modified"), digest)
    unchanged = known is not None and known.digest == digest
    return Fetched(None if unchanged else response.body, validators, response.status)
