"""Format readers: the bytes of one input -> clean `Article`s (or `InputError`s).

Each reader takes a `Doc` (the raw input and where it came from) and yields
articles; a bad record inside a multi-record input yields an `InputError` for
that record and the reader goes on with the rest.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePosixPath

from ingest.article import Article, InputError
from ingest.cleaning import clean_text, clean_title, parse_date
from ingest.fields import Fields, tolerant_yaml_handler

MIN_TEXT_CHARS = 20


@dataclass
class Doc:
    """One raw input: its bytes and how to name it.

    name: what error messages call it (a path or URL as the user gave it).
    article_id: stable id of the (first) article it holds.
    origin: the input named on the command line (folder, file, URL).
    folder_source: source name derived from the folder, if any.
    """

    name: str
    data: bytes
    article_id: str
    origin: str
    folder_source: str
    path: str | None = None
    url: str | None = None


@dataclass
class Kept:
    """A feed entry not read again: the caller's `keep` said the index already holds it, unchanged."""

    id: str


Result = Article | InputError | Kept

KeepEntry = Callable[[str, str], bool]
"""`keep(link, version)`: True when the entry at `link`, at this version, need not be read again."""


def decode_text(doc: Doc) -> str:
    """UTF-8 text of a doc, or an `InputError` saying why it is not text."""
    if not doc.data.strip():
        raise InputError(doc.name, "empty file")
    if b"\x00" in doc.data[:8192]:
        raise InputError(doc.name, "binary file, not text")
    try:
        return doc.data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(doc.name, f"not valid UTF-8 (byte {exc.start})") from None


def _article(
    doc: Doc,
    title: str | None,
    body: str,
    fields: Fields,
    *,
    article_id: str | None = None,
    url: str | None = None,
    published=None,
    source: str | None = None,
    extra: dict | None = None,
    canonical_url: str | None = None,
) -> Article:
    """The `Article`, from values already read by `fields` (whose warnings it carries)."""
    text = clean_text(body)
    title = clean_title(title or "")
    if len(text) < MIN_TEXT_CHARS:
        raise InputError(fields.label, "no article text found")
    if not title:
        title = text.split("\n", 1)[0][:120]
    return Article(
        id=article_id or doc.article_id,
        title=title,
        text=text,
        source=source or doc.folder_source,
        origin=doc.origin,
        url=url or doc.url,
        published=parse_date(published),
        path=doc.path,
        extra={k: v for k, v in (extra or {}).items() if v not in (None, "")},
        warnings=fields.warnings,
        canonical_url=canonical_url,
    )


def _split_first_line(text: str) -> tuple[str, str]:
    lines = text.strip().split("\n", 1)
    return lines[0], (lines[1] if len(lines) > 1 else "")


def read_markdown(doc: Doc) -> Iterator[Result]:
    """Markdown, with optional YAML front matter (`title`, `date`, `source_url`, ...)."""
    import frontmatter
    import yaml

    text = decode_text(doc)
    fields = Fields(doc.name)
    meta: dict = {}
    body = text
    if text.lstrip().startswith("---"):
        handler = tolerant_yaml_handler()
        try:
            post = frontmatter.loads(text, handler=handler)
        except (yaml.YAMLError, ValueError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise InputError(doc.name, f"malformed front matter: {first}") from None
        if handler.not_a_mapping:
            fields.warnings.append(f"{doc.name}: front matter is {handler.not_a_mapping}, not a mapping; ignored")
        meta, body = post.metadata, post.content
    title = fields.text(meta, "title")
    if not title:
        title, body = _split_first_line(body)
    yield _article(
        doc,
        title,
        body,
        fields,
        url=fields.url(meta, "source_url", "url", "link"),
        published=fields.date(meta, "date", "published_time", "published"),
        extra={"publisher": fields.text(meta, "publisher"), "tags": fields.text(meta, "tags", joiner=", ")},
        canonical_url=fields.url(meta, "canonical_url", "canonical"),
    )


def read_plain_text(doc: Doc) -> Iterator[Result]:
    """Plain text: the first line is the title, the rest the body."""
    title, body = _split_first_line(decode_text(doc))
    yield _article(doc, title, body, Fields(doc.name))


def declared_canonical(page: str, base: str | None) -> str | None:
    """The absolute http(s) address a page declares with `<link rel="canonical" href=...>`, else None."""
    from urllib.parse import urljoin

    import lxml.etree
    import lxml.html

    try:
        tree = lxml.html.fromstring(page)
    except (ValueError, lxml.etree.ParserError):
        return None
    for link in tree.iterfind(".//link[@href]"):
        if "canonical" in (link.get("rel") or "").lower().split():
            url = urljoin(base or "", link.get("href", "").strip())
            return url if url.startswith(("http://", "https://")) else None
    return None


def read_html(doc: Doc) -> Iterator[Result]:
    """An HTML page: main text and metadata via trafilatura."""
    import trafilatura

    text = decode_text(doc)
    extracted = trafilatura.extract(
        text,
        output_format="json",
        with_metadata=True,
        include_comments=False,
        url=doc.url,
        favor_precision=True,
    )
    if not extracted:
        raise InputError(doc.name, "no article text found in the HTML page")
    data = json.loads(extracted)
    fields = Fields(doc.name)
    title = fields.text(data, "title") or ""
    first, rest = _split_first_line(fields.text(data, "text") or "")
    body = rest if title and first.strip() == title.strip() else f"{first}\n{rest}"
    site = fields.text(data, "source-hostname", "sitename", "hostname")
    canonical = fields.url(data, "source")
    yield _article(
        doc,
        title,
        body.replace("\n", "\n\n"),
        fields,
        url=doc.url or (canonical if canonical and canonical.startswith("http") else None),
        published=fields.date(data, "date"),
        source=None if doc.folder_source else site,
        extra={"author": fields.text(data, "author"), "publisher": site},
        canonical_url=declared_canonical(text, doc.url),
    )


_TEXT_KEYS = ("text", "body", "content", "article")
_URL_KEYS = ("url", "link", "source_url")
_DATE_KEYS = ("date", "published", "published_at", "pubDate", "published_time")


def _record_article(doc: Doc, record, label: str, fallback_key: str) -> Article:
    if not isinstance(record, dict):
        raise InputError(label, "record is not a JSON object")
    fields = Fields(label)
    body = fields.text(record, *_TEXT_KEYS, joiner="\n\n")
    if not body or not body.strip():
        raise InputError(label, "record has no text (expected one of: text, body, content)")
    url = fields.url(record, *_URL_KEYS)
    key = fields.text(record, "id") or url or fallback_key
    return _article(
        doc,
        fields.text(record, "title", "headline"),
        body,
        fields,
        article_id=f"{doc.article_id}#{key}",
        url=url,
        published=fields.date(record, *_DATE_KEYS),
        source=fields.text(record, "source", "publisher"),
    )


def read_jsonl(doc: Doc) -> Iterator[Result]:
    """JSON Lines: one article record per line; a bad line fails alone."""
    text = decode_text(doc)
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        label = f"{doc.name}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield InputError(label, f"malformed JSON: {exc.msg} (column {exc.colno})")
            continue
        try:
            yield _record_article(doc, record, label, f"line{number}")
        except InputError as exc:
            yield exc


def read_json(doc: Doc) -> Iterator[Result]:
    """JSON: one record, a list of records, or `{"articles": [...]}`."""
    text = decode_text(doc)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(doc.name, f"malformed JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    if isinstance(data, dict) and isinstance(data.get("articles"), list):
        data = data["articles"]
    records = data if isinstance(data, list) else [data]
    for number, record in enumerate(records):
        label = f"{doc.name}[{number}]"
        try:
            yield _record_article(doc, record, label, str(number))
        except InputError as exc:
            yield exc


def entry_version(entry) -> str:
    """What says a feed entry changed: its `updated` and `published` as the feed writes them
    (a digest of its title and text when it gives neither)."""
    stated = [entry.get("updated") or "", entry.get("published") or ""]
    if any(stated):
        return "|".join(stated)
    content = entry.content[0].get("value", "") if entry.get("content") else ""
    text = "\0".join([entry.get("title", ""), entry.get("summary", ""), content])
    return "sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def read_feed(doc: Doc, follow_links: bool = False, fetch=None, keep: KeepEntry | None = None) -> Iterator[Result]:
    """An RSS or Atom feed: each entry is an article (its id is the entry's link).

    keep: asked `(link, entry_version)` for each entry with a link; True yields `Kept(link)`
    instead of the article (nothing fetched, nothing read).
    """
    from xml.sax import SAXException

    import feedparser

    parsed = feedparser.parse(doc.data)
    problem = parsed.get("bozo_exception")
    if isinstance(problem, SAXException):
        raise InputError(doc.name, f"malformed feed: {problem.getMessage()}")
    if not parsed.entries:
        raise InputError(doc.name, f"not a feed, or a feed with no entries{': ' + str(problem) if problem else ''}")
    feed_title = clean_title(parsed.feed.get("title", "")) or doc.folder_source
    for number, entry in enumerate(parsed.entries):
        link = entry.get("link")
        if link and keep is not None and keep(link, entry_version(entry)):
            yield Kept(link)
            continue
        yield from _feed_entry(doc, entry, number, feed_title, follow_links, fetch)


def _feed_entry(doc: Doc, entry, number: int, feed_title: str, follow_links: bool, fetch) -> Iterator[Result]:
    """One feed entry as an article: the feed's text, or with `follow_links` its page's."""
    link = entry.get("link")
    label = link or f"{doc.name} entry {number + 1}"
    fields = Fields(label)
    body = entry.content[0].get("value", "") if entry.get("content") else ""
    body = body or fields.text(entry, "summary") or ""
    if follow_links and link and fetch is not None:
        try:
            page = fetch(link)
            full = next(iter(read_html(Doc(link, page, link, doc.origin, "", url=link))))
            body = full.text
        except InputError as exc:
            yield InputError(link, f"{exc.reason}; indexed the feed's summary instead")
    try:
        yield _article(
            doc,
            fields.text(entry, "title"),
            body,
            fields,
            article_id=link or f"{doc.article_id}#{number}",
            url=link,
            published=fields.date(entry, "published", "updated"),
            source=feed_title,
        )
    except InputError as exc:
        yield exc


def looks_like_feed(data: bytes) -> bool:
    """True for RSS/Atom XML (sniffed from the first bytes)."""
    head = data[:2048].lstrip().lower()
    if head.startswith(b"<?xml"):
        return b"<rss" in head or b"<feed" in head or b"<rdf" in head
    return head.startswith((b"<rss", b"<feed"))


READERS = {
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".txt": read_plain_text,
    ".html": read_html,
    ".htm": read_html,
    ".jsonl": read_jsonl,
    ".ndjson": read_jsonl,
    ".json": read_json,
    ".rss": read_feed,
    ".atom": read_feed,
    ".xml": read_feed,
}


def suffix_of(name: str) -> str:
    return PurePosixPath(name).suffix.lower()
