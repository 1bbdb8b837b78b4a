"""How the faces show a list, timeline or outlets answer: one renderer per shape and face.

The terminal gets aligned columns (item and its citations; date and milestone; outlet, date and
quote); Slack gets a section for a list or a timeline and one context block per outlet. Every
text from articles goes through the face's escaping (`escape` argument), as the rest of an answer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.core.records import Answer

UNDATED = "undated"


def _refs(numbers: list[int]) -> str:
    return "".join(f"[{n}]" for n in numbers)


# -- terminal -------------------------------------------------------------------------------------


def terminal_text(answer: Answer) -> str:
    """The shaped part of an answer as aligned plain-text lines."""
    shaped = answer.shaped
    render = {"list": _terminal_list, "timeline": _terminal_timeline, "outlets": _terminal_outlets}[shaped.shape]
    return "\n".join(render(answer))


def _terminal_list(answer: Answer) -> list[str]:
    items = answer.shaped.items
    width = max((len(i.name) for i in items), default=0)
    lines = [f"{answer.shaped.heading}:"]
    lines += [f"  {i.name.ljust(width)}  {_refs(i.citations)}" for i in items]
    quotes = answer.text.split("\n\n", 1)[1] if "\n\n" in answer.text else ""
    return lines + (["", quotes] if quotes else [])


def _terminal_timeline(answer: Answer) -> list[str]:
    shaped = answer.shaped
    width = max((len(m.date or UNDATED) for m in shaped.milestones), default=0)
    lines = [f"  {(m.date or UNDATED).ljust(width)}  {m.text} [{m.citation}]" for m in shaped.milestones]
    return ["Timeline, oldest first:", *lines] + ([f"  (as of {shaped.as_of})"] if shaped.as_of else [])


def _terminal_outlets(answer: Answer) -> list[str]:
    outlets = answer.shaped.outlets
    width = max((len(o.outlet) for o in outlets), default=0)
    lines = [f"{answer.shaped.heading}:"]
    for o in outlets:
        also = f"  (also in: {', '.join(o.also_in)})" if o.also_in else ""
        lines.append(f"  {o.outlet.ljust(width)}  {(o.date or UNDATED):10}  {o.quote} [{o.citation}]{also}")
    return lines


# -- Slack ----------------------------------------------------------------------------------------


def slack_blocks(answer: Answer, escape: Callable[[str], str], clip: Callable[[str], str]) -> list[dict[str, Any]]:
    """Block Kit blocks for the shaped part: a section (list, timeline) or context blocks (outlets)."""
    shaped = answer.shaped
    if shaped.shape == "list":
        listed = ", ".join(f"{escape(i.name)} {_refs(i.citations)}" for i in shaped.items)
        return [_section(clip(f"*{escape(shaped.heading)}*: {listed}"))]
    if shaped.shape == "timeline":
        lines = [f"*{m.date or UNDATED}*  {escape(m.text)} [{m.citation}]" for m in shaped.milestones]
        if shaped.as_of:
            lines.append(f"_as of {shaped.as_of}_")
        return [_section(clip("\n".join(lines)))]
    blocks = [_section(f"*{escape(shaped.heading)}*")]
    for o in shaped.outlets:
        also = f" _(also in: {escape(', '.join(o.also_in))})_" if o.also_in else ""
        text = f"*{escape(o.outlet)}* · {o.date or UNDATED}{also}\n> {escape(o.quote)} [{o.citation}]"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(text)}]})
    return blocks


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}
