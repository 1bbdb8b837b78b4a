"""The one interface every face (CLI, chat, Slack, and the HTTP API to come) uses to reach the core.

`AnswerService` implements it. A face asks a question, optionally within a
conversation, and may pass `on_token` to show the answer while it is written;
`QuestionError` (re-exported here) means the question itself cannot be asked.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from bot.core.question import QuestionError
from bot.core.records import Answer, Filters

__all__ = ["AskService", "QuestionError", "streams_answers"]


class AskService(Protocol):
    """The answering core as a face sees it."""

    def ask(
        self,
        question: str,
        conversation_id: str | None = None,
        filters: Filters | None = None,
        k: int | None = None,
        on_token: Callable[[str], object] | None = None,
    ) -> Answer:
        """Answer `question` (remembered in `conversation_id` when given), citing at most `k`
        sources; `on_token(piece)` receives the answer text as it is written."""
        ...

    def llm_ready(self) -> bool:
        """True when answers are now written by an LLM, so streaming them is worth it."""
        ...


def streams_answers(service: object) -> bool:
    """True when `service` writes answers with an LLM now (a face then streams them).
    A service without `llm_ready` streams when it has an `llm`."""
    ready = getattr(service, "llm_ready", None)
    if callable(ready):
        return bool(ready())
    return getattr(service, "llm", None) is not None
