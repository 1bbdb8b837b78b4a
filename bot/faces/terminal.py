"""How an answer looks in a terminal: the text with its `[n]` markers, then the sources."""

from __future__ import annotations

from bot.core.records import Answer
from bot.faces.sources import as_of_line, cited_lines, confidence_line, refusal_lines, with_short_answer


def format_answer(answer: Answer) -> str:
    """Plain text for a person: the answer, a note if any, then sources or closest articles."""
    if answer.shaped is not None and not answer.refused:  # a list, timeline or outlets answer
        from bot.faces.shape_views import terminal_text

        lines = [terminal_text(answer)]
    else:
        lines = [with_short_answer(answer, answer.text, lambda s: f"**{s}**")]
    if confidence_line(answer):
        lines += ["", confidence_line(answer)]
    as_of = as_of_line(answer)
    if as_of:
        lines += ["", as_of]
    if answer.note:
        lines += ["", f"({answer.note})"]
    if answer.refused:
        lines += ["", *refusal_lines(answer)]
    elif answer.citations:
        lines += ["", "Sources:", *cited_lines(answer)]
    return "\n".join(lines)
