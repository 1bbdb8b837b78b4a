"""Follow-up questions without an LLM: the query carries what the earlier turns were about."""

from __future__ import annotations

import re

from bot.core.terms import STOP_WORDS

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-.]*[A-Za-z0-9]|[A-Za-z0-9]")


def key_terms(text: str) -> list[str]:
    """Content words of a turn (names, numbers, nouns), in order, without stop words."""
    seen, out = set(), []
    for word in _WORD.findall(text):
        lowered = word.lower().strip("'’.")
        if lowered in STOP_WORDS or len(lowered) < 2 or lowered in seen:
            continue
        seen.add(lowered)
        out.append(word)
    return out


def contextual_query(question: str, history: list[str] | None) -> str:
    """The retrieval query for `question` given earlier user turns (oldest first).

    A follow-up like "who signed it for them?" names nothing; the earlier turns'
    key terms are added so both BM25 and the dense search know the topic.
    """
    if not history:
        return question
    context = " ".join(key_terms(" ".join(history[-2:])))
    return f"{question} {context}".strip()
