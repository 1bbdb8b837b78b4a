"""The one citation-line routine every face uses: `[1][3] title — source, date, link (also in: ...)`.

Every line shows its article's date (`undated` when the article has none), and
`as_of_line` says how current a recency question's answer is.

A face passes a `LineStyle` saying how it writes titles, details and links
(plain text in a terminal; escaped mrkdwn with `<url|title>` links in Slack).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.core.records import Answer, ArticleHit


def _same(text: str) -> str:
    return text


@dataclass(frozen=True)
class LineStyle:
    """How a face writes a source line. `link(url, title)` makes the title a link (it gets
    the url as given, possibly None); without it the url is listed after the date."""

    title: Callable[[str], str] = _same
    detail: Callable[[str], str] = _same  # source and date
    url: Callable[[str | None], str | None] = _same  # None drops it
    link: Callable[[str | None, str], str] | None = None
    bullet: str = "-"  # starts a line that cites no number (a refusal's closest articles)


PLAIN = LineStyle()
UNDATED = "undated"  # shown in place of the date of an article that has none


def source_line(
    numbers: list[int] | None,
    title: str,
    source: str | None,
    published: str | None,
    url: str | None,
    style: LineStyle = PLAIN,
    also_in: Sequence[str] = (),
    path: str | None = None,
) -> str:
    """`[1] title — source, date, url` (numbers: the article's), or `- title — ...` without
    numbers, written in `style`; an article without a URL shows its file's `path` instead;
    `also_in` (the article's near-duplicates, addresses or ids) adds `(also in: a, b)`."""
    head = "".join(f"[{n}]" for n in numbers) if numbers else style.bullet
    written = style.title(title or "")
    details = [style.detail(d) for d in (source, published or UNDATED) if d]
    if style.link is not None:
        label = style.link(url, written)
    else:
        label = written
        shown_url = style.url(url) if url else None
        details += [shown_url] if shown_url else []
    if not url and path:
        details.append(style.detail(path))
    copies = f" (also in: {style.detail(', '.join(also_in))})" if also_in else ""
    return f"{head} {label}" + (f" — {', '.join(details)}" if details else "") + copies


def cited_lines(answer: Answer, style: LineStyle = PLAIN) -> list[str]:
    """One line per cited article, its passage numbers together: `[1][3] title — ...`."""
    return [
        source_line(numbers, c.title, c.source, c.published, c.url, style, c.also_in, c.path)
        for numbers, c in answer.sources()
    ]


def closest_lines(hits: list[ArticleHit], style: LineStyle = PLAIN) -> list[str]:
    """One line per article a refusal lists as closest."""
    return [source_line(None, h.title, h.source, h.published, h.url, style, h.also_in, h.path) for h in hits]


NOTHING_CLOSE = "Nothing in the ingested articles is close to this question."


def refusal_lines(answer: Answer, style: LineStyle = PLAIN, header: str = "Closest articles:") -> list[str]:
    """What every face shows under a refusal: the closest articles, or that nothing is close."""
    if not answer.closest:
        return [NOTHING_CLOSE]
    return [header, *closest_lines(answer.closest, style)]


def confidence_line(answer: Answer) -> str | None:
    """`Confidence 0.93 (sure)` / `(unsure)` / `(refused)`; None when the answerer gave no confidence."""
    if answer.confidence is None:
        return None
    verdict = "refused" if answer.refused else "sure" if answer.sure else "unsure"
    return f"Confidence {answer.confidence:.2f} ({verdict})"


def with_short_answer(answer: Answer, text: str, bold: Callable[[str], str] = _same) -> str:
    """`text` opened by the short answer of a sure answer: `**Lithuania** — Lithuania signed ... [1]`."""
    if answer.refused or not answer.sure or not answer.short_answer:
        return text
    return f"{bold(answer.short_answer)} — {text}"


def as_of_line(answer: Answer) -> str | None:
    """`As of 2025-03-01 (the newest cited article's date).` for an answer to a question about now."""
    if answer.refused or not answer.as_of:
        return None
    return f"As of {answer.as_of} (the newest cited article's date)."
