"""The LLM answerer, and the fallback to quoted sentences when the LLM cannot be used."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot.core.records import ArticleHit, Passage
from bot.core.stages import Answerer, AnswerRequest, Claim, Draft

log = logging.getLogger("spacebot.answer")

LLM_FALLBACK_NOTE = "The language model gave no usable answer; showing quoted sentences instead."


@dataclass(frozen=True)
class LLMLimits:
    """How much the LLM reads and writes: the best `per_article` passages of each of the
    best `articles` articles, an answer cut at `max_tokens` tokens. Smaller limits trade
    quality for speed (e.g. a small local model on a CPU). The defaults keep a prompt
    of ten 128-wordpiece passages, about 2,000 tokens, within a 4k-context model."""

    articles: int = 5
    per_article: int = 2
    max_tokens: int = 512


def llm_passages(hits: list[ArticleHit], articles: int = 5, per_article: int = 2) -> list[Passage]:
    """The passages an LLM answers from, numbered 1.. in this order: the best `per_article`
    passages of each of the best `articles` articles."""
    return [p for hit in hits[:articles] for p in hit.passages[:per_article]]


class LLMAnswerer:
    """Asks the LLM `client()` returns (None: no LLM to ask) to answer from numbered passages.

    Its streamed text reaches `on_token` with markers checked; a `Draft` is returned
    with the passages it cited, marked `refused` when the model said the passages hold
    no answer, or `failed` when it failed or cited nothing (see `generate_answer`);
    None when there is no LLM to ask.
    """

    def __init__(self, client: Callable[[], object | None], limits: LLMLimits | None = None):
        self.client = client
        self.limits = limits or LLMLimits()

    def draft(self, request: AnswerRequest) -> Draft | None:
        from bot.core.generate import CleanStream, generate_answer

        client = self.client()
        if client is None:
            return None
        passages = llm_passages(request.hits, self.limits.articles, self.limits.per_article)
        history = [(q, a) for q, a in request.history if a]  # turns without a known answer are left out
        stream = CleanStream(request.on_token, len(passages)) if request.on_token is not None else None
        result = generate_answer(
            request.question, passages, client, history=history, on_token=stream, max_tokens=self.limits.max_tokens
        )
        streamed = stream.sent if stream is not None else ""
        if result is None:
            return Draft(failed=True, streamed=streamed)
        if result.refused:
            return Draft(refused=True, streamed=streamed)
        if stream is not None:
            streamed = stream.finish()  # the text held back at the end (e.g. a closing marker)
        claims = [Claim(passages[n - 1], n=n) for n in result.used]
        return Draft(claims=claims, text=result.text, streamed=streamed)


class WithFallback:
    """`primary` (the LLM) when it gives a usable draft, else `fallback` (quoted sentences),
    noted as a fallback when an LLM is configured at all (`configured`)."""

    def __init__(self, primary: Answerer, fallback: Answerer, configured: bool):
        self.primary = primary
        self.fallback = fallback
        self.configured = configured

    def draft(self, request: AnswerRequest) -> Draft | None:
        streamed = ""
        if self.configured:
            draft = self.primary.draft(request)
            if draft is not None and not draft.failed:
                return draft
            streamed = draft.streamed if draft is not None else ""
        draft = self.fallback.draft(replace(request, on_token=None))
        if draft is not None:
            draft.streamed = streamed
            if self.configured:
                draft.note = LLM_FALLBACK_NOTE
        return draft
