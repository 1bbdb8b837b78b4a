"""Where an article's text is cleaned: markup out, entities decoded, whitespace normalised."""

from __future__ import annotations

import html
import re
from datetime import date, datetime

_BLOCK_TAG = re.compile(r"<\s*(br|/p|/div|/li|/h[1-6]|/tr|p|div|li|h[1-6])\b[^>]*>", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,2000}>")
_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_SCRIPT = re.compile(r"<(script|style)\b.*?</\1\s*>", re.DOTALL | re.IGNORECASE)
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((?:https?://|/)[^)]*\)")
_SPACES = re.compile(r"[ \t\f\v\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_BLANKS = re.compile(r"\n\s*\n\s*")
_LIST_ITEM = re.compile(r"(?:[-*•+]|\d{1,2}[.)])\s")  # "- item", "* item", "• item", "1. item", "2) item"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def clean_text(raw: str) -> str:
    """Plain text from a body that may hold inline HTML, entities and Markdown links.

    Paragraph breaks survive as one blank line, and a bulleted or numbered list item
    keeps its line break; other whitespace collapses to single spaces.
    """
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    text = _COMMENT.sub(" ", text)
    text = _SCRIPT.sub(" ", text)
    text = _BLOCK_TAG.sub("\n\n", text)
    text = _TAG.sub("", text)
    text = html.unescape(text)
    text = _MD_IMAGE.sub(r"\1", text)
    text = _MD_LINK.sub(r"\1", text)
    text = _CONTROL.sub("", text)
    text = _SPACES.sub(" ", text)
    paragraphs = []
    for block in _BLANKS.split(text):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        joined = ""
        for line in lines:  # a list item keeps its own line, so a quoted list reads as a list
            joined += ("\n" if _LIST_ITEM.match(line) else " ") + line if joined else line
        if joined:
            paragraphs.append(joined)
    return "\n\n".join(paragraphs)


def clean_title(raw: str) -> str:
    """A one-line title: markup, Markdown heading marks and extra spaces removed."""
    title = clean_text(raw).replace("\n", " ")
    return title.lstrip("#").strip().strip('"').strip()


def parse_date(value) -> date | None:
    """A date from front matter, feeds or JSON: date/datetime objects or ISO-like strings."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, (int, float)):
        return None
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text).date()  # 3.11 reads a trailing "Z" too
    except ValueError:
        pass
    match = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if match:
        try:
            return date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return None
    from email.utils import parsedate_to_datetime

    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        return None
