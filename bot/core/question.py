"""The first stage: a question as typed in any face, normalised and checked.

Slack sends `<@U123>`, `<!here>`, `<http://x|label>` and `&amp;`; a terminal
sends what was typed. `normalise_question` turns both into the same plain
question, so the CLI and Slack give the same answer to the same words.
"""

from __future__ import annotations

import re

MAX_QUESTION_CHARS = 2000  # a question, not a document: longer input is almost surely pasted by mistake

# Slack's markup (https://api.slack.com/reference/surfaces/formatting#retrieving-messages)
_USER_OR_SPECIAL = re.compile(r"<[@!][^>]*>")  # <@U123>, <@U123|name>, <!here>, <!subteam^S1|@team>
_CHANNEL = re.compile(r"<#[A-Z0-9]+\|([^>]*)>")  # <#C123|general> -> general
_LINK = re.compile(r"<((?:https?|mailto):[^>|]*)(?:\|([^>]*))?>")  # <http://x|label> -> label, <http://x> -> http://x


class QuestionError(ValueError):
    """A question that cannot be asked (empty, punctuation only, too long)."""


def normalise_question(text: str | None) -> str:
    """`text` without Slack markup (mentions dropped, links reduced to their label), entities
    unescaped, and white space collapsed to single spaces."""
    text = text or ""
    text = _USER_OR_SPECIAL.sub(" ", text)
    text = _CHANNEL.sub(lambda m: m.group(1), text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return " ".join(text.split())


def check_question(question: str | None) -> str:
    """The question, normalised, or a `QuestionError` that says what is wrong with it."""
    text = normalise_question(question)
    if not text:
        raise QuestionError('the question is empty; ask something like "who signed the Artemis Accords for Brazil?"')
    if not re.search(r"\w", text):
        raise QuestionError("the question has no words in it, only punctuation")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(
            f"the question is {len(text):,} characters long; the limit is "
            f"{MAX_QUESTION_CHARS:,}. Ask a shorter question."
        )
    return text


class QuestionCheck:
    """The question stage: `check(raw) -> question` (normalised), or `QuestionError`."""

    def check(self, question: str | None) -> str:
        return check_question(question)
