"""The query stage: what retrieval searches for a question in its conversation."""

from __future__ import annotations

from collections.abc import Callable

from bot.core.followup import contextual_query
from bot.core.stages import Query


class FollowupQuery:
    """A follow-up becomes the LLM's standalone rewrite when an LLM is ready (`llm()`
    returns a client), else the question with the earlier turns' key terms added."""

    def __init__(self, llm: Callable[[], object | None] = lambda: None):
        self.llm = llm

    def build(self, question: str, history: list[str]) -> Query:
        history = list(history)
        client = self.llm() if history else None
        if client is not None:
            from bot.core.generate import rewrite_followup

            rewritten = rewrite_followup(question, history, client)
            if rewritten:
                return Query(question, rewritten, tuple(history))
        return Query(question, contextual_query(question, history), tuple(history))
