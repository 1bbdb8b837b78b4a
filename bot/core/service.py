"""The answering core: one question in, an `Answer` out. Every face calls this.

`AnswerService` runs the stages of `bot.core.stages` in order (question check ->
query -> retrieval -> ranking -> refusal gate -> answerer -> citations) and
remembers conversations. The stages are built in `bot.core.compose`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from functools import cached_property

from bot.core.answer_knobs import AnswerKnobs
from bot.core.compose import Stages, build_stages
from bot.core.llm_answerer import LLM_FALLBACK_NOTE, LLMLimits, llm_passages
from bot.core.question import MAX_QUESTION_CHARS, QuestionError, check_question
from bot.core.records import Answer, ArticleHit, Filters
from bot.core.stages import AnswerRequest
from ingest.settings import Settings

__all__ = [
    "AnswerService",
    "QuestionError",
    "check_question",
    "llm_passages",
    "LLM_FALLBACK_NOTE",
    "LLMLimits",
    "MAX_QUESTION_CHARS",
    "REFUSAL_TEXT",
    "RETRIEVE_K",
    "Stages",
]

log = logging.getLogger("spacebot.answer")

# the mode `ask` uses: dense + BM25 candidates reranked by the cross-encoder (docs/BENCHMARKS.md);
# with SPACEBOT_RERANKER=none it is plain hybrid
DEFAULT_MODE = "rerank"
RETRIEVE_K = 10  # articles retrieved per question: what eval scores (MRR@10) and what the answerers read
REFUSAL_TEXT = "The ingested articles don't answer this."
LLM_RETRY_AFTER = 30.0  # seconds an LLM server that timed out or was unreachable is left alone


def closest_articles(hits: list[ArticleHit], closest_min: float) -> list[ArticleHit]:
    """The articles a refusal lists: reranked ones whose best passage reaches `closest_min` (the
    cross-encoder's logit; unrelated text scores about -11), all of them when not reranked."""
    if not any(h.reranked for h in hits):
        return list(hits)
    return [h for h in hits if h.reranked and h.score >= closest_min]


class AnswerService:
    """Answers questions from the index. Thread-safe; open once and share.

    `stages` swaps any stage (a field left None gets the default); `llm_limits`
    sets how much an LLM reads and writes.
    """

    def __init__(
        self, settings: Settings, index=None, stages: Stages | None = None, llm_limits: LLMLimits | None = None
    ):
        self.settings = settings
        self._index = index
        self._given = stages
        self._llm_limits = llm_limits
        self._lock = threading.Lock()

    @property
    def index(self):
        with self._lock:
            if self._index is None:
                from bot.core.search_index import SearchIndex

                self._index = SearchIndex(self.settings)
            return self._index

    @cached_property
    def stages(self) -> Stages:
        """The stages this service runs, built on first use (the index opens then)."""
        return build_stages(self.settings, self.index, self._ready_llm, self._given, self._llm_limits)

    @property
    def retriever(self):
        """The retrieval stage (dense + BM25 candidates, fused)."""
        return self.stages.retrieval

    @cached_property
    def conversations(self):
        from bot.state.conversations import ConversationStore

        return ConversationStore(self.settings.state_url, self.settings.conversation_ttl_days)

    @cached_property
    def llm(self):
        """The LLM client, or None when no LLM server is configured."""
        if not self.settings.llm_enabled:
            return None
        from bot.core.llm import LLMClient

        return LLMClient(self.settings)

    def llm_ready(self) -> bool:
        """True when an LLM is configured and did not time out or fail to connect in the
        last `LLM_RETRY_AFTER` seconds (a server that is down then costs no waiting)."""
        llm = self.llm
        if llm is None:
            return False
        failed_at = getattr(llm, "failed_at", None)
        return failed_at is None or time.monotonic() - failed_at >= LLM_RETRY_AFTER

    def _ready_llm(self):
        if self.llm_ready():
            return self.llm
        if self.llm is not None:
            log.debug("LLM failed less than %.0fs ago; answering with quoted sentences", LLM_RETRY_AFTER)
        return None

    # -- retrieval ---------------------------------------------------------------------
    def query_for(self, question: str, history: list[str]) -> str:
        """The retrieval query: the LLM's standalone rewrite of a follow-up, else key terms added."""
        return self.stages.query.build(question, list(history)).text

    def search(
        self,
        question: str,
        history: list[str] | None = None,
        k: int = RETRIEVE_K,
        filters: Filters | None = None,
        mode: str = DEFAULT_MODE,
    ) -> list[ArticleHit]:
        """Articles for a question (with its conversation history), best first."""
        query = self.stages.query.build(question, list(history or []))
        if filters is not None and filters.as_of is not None:
            query = replace(query, as_of=filters.as_of)  # "now" for the ranking stage
        return self.stages.ranker.rank(query, self.stages.retrieval.search(query.text, k=k, filters=filters, mode=mode))

    # -- answering ---------------------------------------------------------------------
    def answer(
        self,
        question: str,
        history: list[tuple[str, str]] | None = None,
        filters: Filters | None = None,
        k: int | None = None,
        mode: str = DEFAULT_MODE,
        on_token: Callable[[str], object] | None = None,
        retrieve_k: int = RETRIEVE_K,
        focus: set[str] | None = None,
    ) -> Answer:
        """Retrieve and answer, without touching any stored conversation.

        `k` sources are cited or listed; `retrieve_k` articles are retrieved (`Answer.hits`).
        `focus`: articles the conversation's last answer cited (a follow-up is likely about them).
        `on_token(piece)` receives the answer text as it is written: with an LLM, its
        streamed tokens (markers already checked: the pieces add up to a prefix of the
        final text); otherwise, or when the LLM failed before writing anything, the
        extractive answer in one piece. If the LLM wrote something and then failed, no
        more pieces come: show the returned `Answer` (it carries a note) instead.
        A refusal sends nothing of its own (an LLM may have streamed its words for it).
        """
        stages = self.stages
        question = stages.question.check(question)
        history = list(history or [])
        asked = [q for q, _ in history]
        k = k or self.settings.top_k
        hits = self.search(question, asked, k=max(k, retrieve_k), filters=filters, mode=mode)
        refusal = stages.gate.check(question, hits, asked)
        if refusal is not None:
            return self._refusal(question, hits, k, refusal.confidence)
        draft = stages.answerer.draft(AnswerRequest(question, hits, history, focus, k, on_token))
        if draft is None or draft.refused:
            return self._refusal(question, hits, k, draft.confidence if draft else None)
        answer = stages.citations.build(question, draft)
        answer.hits = hits
        if on_token is not None and not draft.streamed:
            on_token(answer.text)
        return answer

    def _refusal(self, question: str, hits: list[ArticleHit], k: int, confidence: float | None = None) -> Answer:
        """The refusal, with the closest articles that are close (`closest_articles`)."""
        closest = closest_articles(hits[:k], AnswerKnobs.from_settings(self.settings).closest_min)
        return Answer(
            question=question,
            text=REFUSAL_TEXT,
            refused=True,
            closest=closest,
            hits=hits,
            confidence=0.0 if confidence is None else confidence,
        )

    def ask(
        self,
        question: str,
        conversation_id: str | None = None,
        filters: Filters | None = None,
        k: int | None = None,
        on_token: Callable[[str], object] | None = None,
    ) -> Answer:
        """Answer a question in a conversation (a chat session, a Slack thread) and remember it."""
        history, focus = [], None
        if conversation_id:
            turns = self.conversations.history(conversation_id)
            history = [(t.question, t.answer) for t in turns]
            focus = set(turns[-1].article_ids) if turns else None
        answer = self.answer(question, history, filters=filters, k=k, on_token=on_token, focus=focus)
        if conversation_id:
            self.conversations.append(
                conversation_id, answer.question, answer.text, [c.article_id for c in answer.citations], answer.refused
            )
        return answer
