"""An Atom feed and its linked pages on the loopback `Site`, changed between polls like a real one.

`publish()` rewrites the feed with a new ETag (and Last-Modified) whenever its entries changed;
pages are plain HTML articles trafilatura reads.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from email.utils import formatdate

from web_fixture import Site


@dataclass
class Entry:
    slug: str
    title: str
    text: str
    updated: str  # RFC 3339, as Atom writes it


def page_html(title: str, text: str, published: str = "2024-04-10") -> str:
    """An article page: title, date and paragraphs, with the navigation and footer real pages have."""
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in text.split("\n\n") if p.strip())
    return (
        f"<html><head><title>{html.escape(title)}</title>"
        f'<meta property="article:published_time" content="{published}"></head>'
        f"<body><nav>Home | Space</nav><article><h1>{html.escape(title)}</h1>{paragraphs}</article>"
        "<footer>Orbit Times</footer></body></html>"
    )


class FeedSite:
    """One feed at `path` on `site`; `add`/`update` entries, then `publish()`."""

    def __init__(self, site: Site, path: str = "/feed.atom", title: str = "Orbit Times"):
        self.site, self.path, self.title = site, path, title
        self.entries: dict[str, Entry] = {}
        self.version = 0

    @property
    def url(self) -> str:
        return self.site.base + self.path

    def link(self, slug: str) -> str:
        return f"{self.site.base}/{self.path.strip('/').replace('.', '-')}/{slug}"

    def add(self, slug: str, title: str, text: str, updated: str = "2024-04-10T12:00:00Z") -> str:
        """Add (or replace) an entry and its page; returns its link."""
        self.entries[slug] = Entry(slug, title, text, updated)
        self.site.add(self.link(slug).removeprefix(self.site.base), page_html(title, text))
        return self.link(slug)

    def publish(self) -> None:
        """Serve the feed as it is now, with validators that change when it does."""
        items = "".join(
            f"<entry><title>{html.escape(e.title)}</title><link href='{self.link(e.slug)}'/>"
            f"<id>{self.link(e.slug)}</id><updated>{e.updated}</updated><published>2024-04-10T12:00:00Z</published>"
            f"<summary>{html.escape(e.text[:120])}</summary></entry>"
            for e in self.entries.values()
        )
        body = (
            "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            f"<title>{html.escape(self.title)}</title><id>{self.url}</id><updated>2024-04-10T12:00:00Z</updated>"
            f"{items}</feed>"
        )
        self.version += 1
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
        self.site.add(
            self.path,
            body,
            ctype="application/atom+xml",
            etag=etag,
            last_modified=formatdate(1_700_000_000 + self.version, usegmt=True),
        )

    def fail(self, status: int = 500) -> None:
        """Make the feed answer `status` (until the next `publish`)."""
        self.site.add(self.path, "server error", ctype="text/plain", status=status)


SENTENCES = [
    "The {topic} agreement was discussed by delegates from twelve space agencies in Vienna.",
    "Officials said the {topic} plan would be reviewed again before the end of the year.",
    "Critics of the {topic} proposal warned that orbital debris rules were still unclear.",
    "The ministry published a statement on the {topic} decision after the cabinet meeting.",
    "Engineers expect the {topic} hardware to be ready for integration tests next spring.",
    "Lawmakers asked how the {topic} budget would be shared between civil and defence programmes.",
]


def article_text(topic: str, paragraphs: int = 2) -> str:
    """A few paragraphs about `topic`, different for every topic."""
    lines = [s.format(topic=topic) for s in SENTENCES]
    return "\n\n".join(" ".join(lines[i:] + lines[:i]) for i in range(paragraphs))
