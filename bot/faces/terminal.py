"""How an answer looks in a terminal: the text with its `[n]` markers, then the sources."""

from __future__ import annotations

from bot.core.records import Answer
from bot.faces.sources import as_of_line, cited_lines, closest_lines


def format_answer(answer: Answer) -> str:
    """Plain text for a person: the answer, a note if any, then sources or closest articles."""
    if answer.shaped is not None and not answer.refused:  # a list, timeline or outlets answer
        from bot.faces.shape_views import terminal_text

        lines = [terminal_text(answer)]
    else:
        lines = [answer.text]
    as_of = as_of_line(answer)
    if as_of:
        lines += ["", as_of]
    if answer.note:
        lines += ["", f"({answer.note})"]
    if answer.refused:
        if answer.closest:
            lines += ["", "Closest articles:", *closest_lines(answer.closest)]
    elif answer.citations:
        lines += ["", "Sources:", *cited_lines(answer)]
    return "\n".join(lines)
