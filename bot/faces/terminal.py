"""How an answer looks in a terminal: the text with its `[n]` markers, then the sources."""

from __future__ import annotations

from bot.core.records import Answer


def source_line(numbers: list[int] | None, title: str, source: str, published: str | None,
                url: str | None) -> str:
    """`[n] title — source, date, link` (the one place a citation line is formatted).

    Several numbers (passages of one article) share a line: `[1][3] title — ...`.
    """
    head = "".join(f"[{n}]" for n in numbers) + " " if numbers else "- "
    details = ", ".join(x for x in (source, published, url) if x)
    return f"{head}{title}" + (f" — {details}" if details else "")


def format_answer(answer: Answer) -> str:
    """Plain text for a person: the answer, a note if any, then sources or closest articles."""
    lines = [answer.text]
    if answer.note:
        lines += ["", f"({answer.note})"]
    if answer.refused:
        if answer.closest:
            lines += ["", "Closest articles:"]
            lines += [source_line(None, h.title, h.source, h.published, h.url) for h in answer.closest]
    elif answer.citations:
        lines += ["", "Sources:"]
        lines += [source_line(numbers, c.title, c.source, c.published, c.url) for numbers, c in answer.sources()]
    return "\n".join(lines)
