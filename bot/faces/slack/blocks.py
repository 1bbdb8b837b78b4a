"""Block Kit rendering of an `Answer`, with everything untrusted escaped.

Text from articles and users (answer text, titles, quotes, sources, questions)
goes through `escape_mrkdwn`, so `<!channel>`, `<!here>` or `<@U123>` inside an
article or a question is shown, never acted on. Links are built only from
http(s) URLs, with labels that cannot close the link early.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from bot.faces.sources import (
    LineStyle,
    as_of_line,
    cited_lines,
    confidence_line,
    refusal_lines,
    source_line,
    with_short_answer,
)

if TYPE_CHECKING:
    from bot.core.records import Answer

FEEDBACK_BLOCK_ID = "spacebot_feedback"
ACTION_UP = "feedback_up"
ACTION_DOWN = "feedback_down"
REFUSAL_HEADER = ":mag: *The ingested articles don't answer this.*"
APOLOGY = ":warning: Sorry, something went wrong while answering that. Please try again in a moment."

PLACEHOLDER = ":hourglass_flowing_sand: _Looking through the articles…_"
WRITING = ":pencil2: _writing…_"

SECTION_LIMIT = 3000  # Slack's limit for a section's text
QUOTE_LIMIT = 200
TEXT_LIMIT = 3000  # the plain fallback, kept short: it is what notifications show

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def escape_mrkdwn(text: object) -> str:
    """Escape Slack's control characters `&`, `<`, `>` (in that order)."""
    s = "" if text is None else str(text)
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def link_label(text: object) -> str:
    """A link label: one line, no `|` or `>` (they would end the label), escaped."""
    s = " ".join(("" if text is None else str(text)).split())
    return escape_mrkdwn(s.replace("|", "").replace(">", ""))


def safe_url(url: str | None) -> str | None:
    """`url` fit for `<url|label>`: http(s) with a host only, else None."""
    if not url:
        return None
    url = url.strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    # Characters that would break out of `<...|...>` or the line are percent-encoded;
    # `&` is entity-escaped as Slack's own clients do.
    encoded = quote(url, safe="/:?#[]@!$&'()*+,;=%~-._")
    return encoded.replace("&", "&amp;")


def link(url: str | None, label: object) -> str:
    """`<url|label>` when `url` is safe, else just the escaped label."""
    target = safe_url(url)
    if target is None:
        return escape_mrkdwn(" ".join(str(label or "").split())) or "untitled"
    return f"<{target}|{link_label(label) or 'untitled'}>"


def _one_line(text: object, limit: int) -> str:
    s = " ".join(("" if text is None else str(text)).split())
    return s if len(s) <= limit else s[: limit - 1].rstrip() + "…"


def _clip(mrkdwn: str, limit: int = SECTION_LIMIT) -> str:
    """Cut escaped text to `limit` chars without splitting an `&...;` entity."""
    if len(mrkdwn) <= limit:
        return mrkdwn
    cut = mrkdwn[: limit - 1]
    amp = cut.rfind("&", max(0, len(cut) - 5))
    if amp != -1 and ";" not in cut[amp:]:
        cut = cut[:amp]
    return cut + "…"


def _join_lines(lines: list[str], limit: int = SECTION_LIMIT) -> str:
    """Join whole lines (links are never cut in half) up to `limit` chars."""
    out: list[str] = []
    size = 0
    for i, line in enumerate(lines):
        extra = len(line) + (1 if out else 0)
        if size + extra > limit - 20:
            out.append(f"…and {len(lines) - i} more")
            break
        out.append(line)
        size += extra
    return "\n".join(out)


def _title(text: str) -> str:
    return _one_line(text, 150)


def _detail(text: str) -> str:
    return escape_mrkdwn(_one_line(text, 80))


# Source lines in blocks: `[1] <url|title> — source, date`;
# in the plain `text` fallback: `[1] title — source, date, url`.
MRKDWN = LineStyle(title=_title, detail=_detail, link=link, bullet="•")
FALLBACK_TEXT = LineStyle(title=lambda t: escape_mrkdwn(_title(t)), detail=_detail, url=safe_url)


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _clip(text)}}


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": _clip(text)}]}


def feedback_actions(feedback_key: str) -> dict[str, Any]:
    """The 👍/👎 buttons; their value is the key under which the answer was stored."""
    return {
        "type": "actions",
        "block_id": FEEDBACK_BLOCK_ID,
        "elements": [
            {
                "type": "button",
                "action_id": ACTION_UP,
                "text": {"type": "plain_text", "text": "👍 Helpful", "emoji": True},
                "value": feedback_key,
            },
            {
                "type": "button",
                "action_id": ACTION_DOWN,
                "text": {"type": "plain_text", "text": "👎 Not helpful", "emoji": True},
                "value": feedback_key,
            },
        ],
    }


def answer_blocks(answer: Answer, feedback_key: str | None = None) -> list[dict[str, Any]]:
    """Blocks for an answer (text, sources, buttons) or a refusal (closest articles)."""
    blocks: list[dict[str, Any]] = []
    text = escape_mrkdwn((answer.text or "").strip())
    if answer.refused:
        same = not text or text in REFUSAL_HEADER
        blocks.append(_section(REFUSAL_HEADER + ("" if same else f"\n{text}")))
        blocks.append(_context(_join_lines(refusal_lines(answer, MRKDWN, "*Closest articles:*"))))
        if confidence_line(answer):
            blocks.append(_context(f":bar_chart: {confidence_line(answer)}"))
    elif answer.shaped is not None:  # a list, timeline or outlets answer
        from bot.faces.shape_views import slack_blocks

        blocks += slack_blocks(answer, escape_mrkdwn, _clip)
        blocks.append(_context(_join_lines(["*Sources*", *cited_lines(answer, MRKDWN)])))
    else:
        shown = with_short_answer(answer, text, lambda s: f"*{escape_mrkdwn(_one_line(s, 150))}*")
        blocks.append(_section(shown or "_(empty answer)_"))
        context = [line for line in (confidence_line(answer), as_of_line(answer)) if line]
        if context:
            blocks.append(_context(" · ".join(escape_mrkdwn(line) for line in context)))
        if answer.citations:
            lines = ["*Sources*"]
            for numbers, c in answer.sources():
                lines.append(source_line(numbers, c.title, c.source, c.published, c.url, MRKDWN, c.also_in, c.path))
                lines += [_quote_lines(q) for q in answer.quotes(c.article_id)]
            blocks.append(_context(_join_lines(lines)))
    if answer.note:
        blocks.append(_context(f":information_source: {escape_mrkdwn(_one_line(answer.note, 300))}"))
    if feedback_key:
        blocks.append(feedback_actions(feedback_key))
    return blocks


def _quote_lines(quote: str) -> str:
    """A quote as Slack block quote lines: a list in the article stays a list (one `>` line per item)."""
    lines = [line.strip() for line in quote.splitlines() if line.strip()]
    if len(lines) == 1:
        return f"> _{escape_mrkdwn(_one_line(lines[0], QUOTE_LIMIT))}_"
    return "\n".join(f"> {escape_mrkdwn(_one_line(line, QUOTE_LIMIT))}" for line in lines)


def answer_text(answer: Answer) -> str:
    """The plain `text` fallback (notifications, clients without blocks), escaped."""
    if answer.refused:
        lines = ["The ingested articles don't answer this."]
        if answer.text and answer.text.strip() not in lines[0]:
            lines.append(escape_mrkdwn(answer.text.strip()))
        lines += refusal_lines(answer, FALLBACK_TEXT)
    else:
        as_of = [as_of_line(answer)] if as_of_line(answer) else []
        text = with_short_answer(answer, escape_mrkdwn((answer.text or "").strip()), escape_mrkdwn)
        lines = [text, *as_of, *cited_lines(answer, FALLBACK_TEXT)]
    return _clip("\n".join(lines), TEXT_LIMIT)


def render_answer(answer: Answer, feedback_key: str | None = None) -> dict[str, Any]:
    """`{"text": ..., "blocks": [...]}`, ready for `chat.postMessage(**...)`."""
    return {"text": answer_text(answer), "blocks": answer_blocks(answer, feedback_key)}


def placeholder_message() -> dict[str, Any]:
    """The message posted at once when an answer will be streamed into it."""
    return {"text": "Looking through the articles…", "blocks": [_section(PLACEHOLDER)]}


def draft_message(text: str) -> dict[str, Any]:
    """An answer still being written (`text` so far, escaped), for `chat.update(**...)`.

    It has no sources and no buttons yet: the final `render_answer` replaces it.
    """
    shown = escape_mrkdwn((text or "").strip())
    if not shown:
        return placeholder_message()
    return {
        "text": _clip(shown, TEXT_LIMIT),
        "blocks": [_section(shown + " …"), _context(WRITING)],
    }


def notice_message(text: str) -> dict[str, Any]:
    """A one-line message (e.g. `APOLOGY`) that also replaces any earlier blocks on update."""
    return {"text": text, "blocks": [_section(text)]}


def mention(user_id: str | None) -> str:
    """`<@U123>` for a well-formed user id, else the escaped text (never a ping)."""
    if user_id and _USER_ID.match(user_id):
        return f"<@{user_id}>"
    return escape_mrkdwn(user_id or "someone")


def with_feedback_recorded(blocks: list[dict[str, Any]], vote: int, user_id: str | None) -> list[dict[str, Any]]:
    """`blocks` with the buttons replaced by "Thanks — recorded 👍 from @user"."""
    emoji = "👍" if vote > 0 else "👎"
    done = _context(f"Thanks — recorded {emoji} from {mention(user_id)}")
    out: list[dict[str, Any]] = []
    replaced = False
    for block in blocks or []:
        if block.get("type") == "actions" and block.get("block_id") == FEEDBACK_BLOCK_ID:
            out.append(done)
            replaced = True
        else:
            out.append(block)
    if not replaced:
        out.append(done)
    return out
