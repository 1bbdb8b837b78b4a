"""Where inputs come from: folders (recursive), files and http(s) URLs -> `Doc`s to read."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.article import InputError
from ingest.readers import (
    READERS,
    Doc,
    KeepEntry,
    Result,
    looks_like_feed,
    read_feed,
    read_html,
    suffix_of,
)

if TYPE_CHECKING:
    from ingest.fetch_guard import FetchGuard

SKIPPED_NAMES = {"readme.md", "readme.txt", "license", "license.md", "license.txt"}


def is_url(value: str) -> bool:
    """True for an http(s) URL (the scheme in any case, as URLs allow)."""
    return value[:8].lower().startswith(("http://", "https://"))


@dataclass
class Response:
    """One HTTP answer: its status, headers (lower-case names) and body (empty for 304)."""

    status: int
    headers: dict[str, str]
    body: bytes


class Fetcher:
    """Fetches URLs with a timeout and a size cap; every failure is an `InputError`.

    guard: a `FetchGuard` every connection must pass (redirect hops included), or None (unrestricted).
    """

    def __init__(self, timeout: float, max_bytes: int, guard: FetchGuard | None = None):
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.guard = guard
        self._client = None
        self._hop = threading.local()  # the URL of the request in flight (a redirect hop, maybe)

    def __call__(self, url: str) -> bytes:
        return self.get(url).body

    def _open(self):
        import httpx

        transport = None
        if self.guard is not None:
            from ingest.fetch_guard import guarded_transport

            transport = guarded_transport(self.guard)
        return httpx.Client(
            timeout=self.timeout,
            follow_redirects=True,
            transport=transport,
            event_hooks={"request": [self._note_hop]},
            headers={"User-Agent": "spacebot/0.1 (+https://github.com/spacebot)"},
        )

    def _note_hop(self, request) -> None:
        self._hop.url = str(request.url)

    def get(self, url: str, headers: dict[str, str] | None = None) -> Response:
        """GET `url` with extra request `headers`; a 304 comes back as such, any status >= 400 raises."""
        import httpx

        from ingest.fetch_guard import FetchRefused

        if self._client is None:
            self._client = self._open()
        self._hop.url = url
        try:
            if self.guard is not None:
                self.guard.check_url(url)
            with self._client.stream("GET", url, headers=headers) as response:
                if response.status_code >= 400:
                    raise InputError(url, f"HTTP {response.status_code} {response.reason_phrase}")
                chunks, size = [], 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise InputError(url, f"response larger than {self.max_bytes // 1_000_000} MB limit")
                    chunks.append(chunk)
                return Response(response.status_code, dict(response.headers), b"".join(chunks))
        except FetchRefused as exc:
            hop = getattr(self._hop, "url", url)
            raise InputError(url, str(exc) if hop == url else f"redirected to {hop}: {exc}") from None
        except httpx.TimeoutException:
            raise InputError(url, f"timed out after {self.timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise InputError(url, f"could not fetch: {type(exc).__name__}: {exc}") from None
        except httpx.InvalidURL as exc:
            raise InputError(url, f"not a valid URL: {exc}") from None

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def origin_of(given: str) -> str:
    """How an input named on the command line is recorded on its articles (for `--prune`)."""
    return given if is_url(given) else str(Path(given).resolve())


def _walk(folder: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith(".") or name.lower() in SKIPPED_NAMES:
                continue
            if suffix_of(name) in READERS:
                yield Path(root) / name


def _file_doc(file: Path, root: Path | None, origin: str, max_bytes: int) -> Doc:
    name = str(file)
    if root is not None:
        rel = file.relative_to(root).as_posix()
        parts = rel.split("/")
        folder_source = parts[0] if len(parts) > 1 else (root.resolve().name or "files")
    else:
        rel = file.name
        folder_source = file.resolve().parent.name or "files"
    try:
        size = file.stat().st_size
        if size > max_bytes:
            raise InputError(
                name, f"file is {size / 1e6:.1f} MB, over the {max_bytes / 1e6:g} MB limit (SPACEBOT_MAX_FILE_MB)"
            )
        data = file.read_bytes()
    except OSError as exc:
        raise InputError(name, f"cannot read: {exc.strerror or exc}") from None
    return Doc(name=name, data=data, article_id=rel, origin=origin, folder_source=folder_source, path=rel)


def read_doc(
    doc: Doc, follow_links: bool, fetch: Callable[[str], bytes], keep: KeepEntry | None = None
) -> Iterator[Result]:
    """Pick the reader by suffix (or by sniffing, for URLs) and run it (`keep`: see `read_feed`)."""
    if doc.url and doc.path is None:
        reader = read_feed if looks_like_feed(doc.data) else read_html
    else:
        reader = READERS[suffix_of(doc.name)]
    try:
        if reader is read_feed:
            yield from read_feed(doc, follow_links=follow_links, fetch=fetch, keep=keep)
        else:
            yield from reader(doc)
    except InputError as exc:
        yield exc


def iter_articles(
    inputs: list[str], *, max_bytes: int, fetcher: Fetcher, follow_links: bool = False, local_files: bool = True
) -> Iterator[Result]:
    """Yield every article (or error) the inputs hold, in order (`local_files=False`: URLs only,
    as for a remote caller, who may not read the server's files)."""
    for given in inputs:
        if not local_files and not is_url(given):
            yield InputError(given, "only http(s) URLs can be ingested here, not files on the server")
            continue
        if is_url(given):
            try:
                data = fetcher(given)
            except InputError as exc:
                yield exc
                continue
            doc = Doc(name=given, data=data, article_id=given, origin=given, folder_source="", url=given)
            yield from read_doc(doc, follow_links, fetcher)
            continue
        path = Path(given)
        origin = origin_of(given)
        if path.is_dir():
            files, root = list(_walk(path)), path
        elif path.is_file():
            if suffix_of(path.name) not in READERS:
                yield InputError(
                    given,
                    f"unsupported file type {path.suffix or '(none)'}; expected one of {', '.join(sorted(READERS))}",
                )
                continue
            files, root = [path], None
        else:
            yield InputError(given, "no such file, folder or URL")
            continue
        for file in files:
            try:
                doc = _file_doc(file, root, origin, max_bytes)
            except InputError as exc:
                yield exc
                continue
            yield from read_doc(doc, follow_links, fetcher)
