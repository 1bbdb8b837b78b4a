"""The answering core: one question in, an `Answer` out. The CLI and Slack both call this.

Flow: check the question -> build the retrieval query (with the conversation's
earlier turns) -> hybrid retrieval -> weigh the evidence (refuse when weak) ->
answer (an LLM if configured, else quoted sentences) -> remember the turn.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable
from functools import cached_property

from bot.records import Answer, ArticleHit, Citation, Filters
from ingest.settings import Settings

log = logging.getLogger("spacebot.answer")

MAX_QUESTION_CHARS = 2000
RETRIEVE_K = 10
REFUSAL_TEXT = "The ingested articles don't answer this."
LLM_FALLBACK_NOTE = "The language model gave no usable answer; showing quoted sentences instead."


class QuestionError(ValueError):
    """A question that cannot be asked (empty, punctuation only, too long)."""


def check_question(question: str | None) -> str:
    """The question, trimmed, or a `QuestionError` that says what is wrong with it."""
    text = (question or "").strip()
    if not text:
        raise QuestionError("the question is empty; ask something like "
                            "\"who signed the Artemis Accords for Brazil?\"")
    if not re.search(r"\w", text):
        raise QuestionError("the question has no words in it, only punctuation")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is {len(text):,} characters long; the limit is "
                            f"{MAX_QUESTION_CHARS:,}. Ask a shorter question.")
    return text


class AnswerService:
    """Answers questions from the index. Thread-safe; open once and share."""

    def __init__(self, settings: Settings, index=None):
        self.settings = settings
        self._index = index
        self._lock = threading.Lock()

    @property
    def index(self):
        with self._lock:
            if self._index is None:
                from bot.search_index import SearchIndex

                self._index = SearchIndex(self.settings)
            return self._index

    @cached_property
    def retriever(self):
        from bot.retrieval import Retriever

        return Retriever(self.index)

    @cached_property
    def conversations(self):
        from bot.conversations import ConversationStore

        return ConversationStore(self.settings.state_db, self.settings.conversation_ttl_days)

    @cached_property
    def llm(self):
        """The LLM client, or None when no LLM server is configured."""
        if not self.settings.llm_enabled:
            return None
        from bot.llm import LLMClient

        return LLMClient(self.settings)

    # -- retrieval ---------------------------------------------------------------------
    def query_for(self, question: str, history: list[str]) -> str:
        """The retrieval query: the LLM's standalone rewrite of a follow-up, else key terms added."""
        from bot.followup import contextual_query

        if history and self.llm is not None:
            from bot.generate import rewrite_followup

            rewritten = rewrite_followup(question, history, self.llm)
            if rewritten:
                return rewritten
        return contextual_query(question, history)

    def search(self, question: str, history: list[str] | None = None, k: int = RETRIEVE_K,
               filters: Filters | None = None, mode: str = "hybrid") -> list[ArticleHit]:
        """Articles for a question (with its conversation history), best first."""
        query = self.query_for(question, list(history or []))
        return self.retriever.search(query, k=k, filters=filters, mode=mode)

    # -- answering ---------------------------------------------------------------------
    def answer(self, question: str, history: list[tuple[str, str]] | None = None,
               filters: Filters | None = None, k: int | None = None, mode: str = "hybrid",
               on_token: Callable[[str], object] | None = None,
               retrieve_k: int = RETRIEVE_K) -> tuple[list[ArticleHit], Answer]:
        """Retrieve and answer, without touching any stored conversation.

        `k` sources are cited or listed; `retrieve_k` articles are retrieved and returned.
        """
        from bot.evidence import weigh_evidence
        from bot.extractive import compose_answer, select_sentences

        question = check_question(question)
        history = list(history or [])
        k = k or self.settings.top_k
        hits = self.search(question, [q for q, _ in history], k=max(k, retrieve_k), filters=filters, mode=mode)
        evidence = weigh_evidence(question, hits, self.index.keyword)
        if evidence.weak:
            return hits, Answer(question=question, text=REFUSAL_TEXT, refused=True, closest=hits[:k])
        if self.llm is not None:
            generated = self._generate(question, hits, history, on_token)
            if generated is not None:
                return hits, generated
        chosen = select_sentences(question, hits, self.index)
        if not chosen:
            return hits, Answer(question=question, text=REFUSAL_TEXT, refused=True, closest=hits[:k])
        answer = compose_answer(question, chosen)
        if self.llm is not None:
            answer.note = LLM_FALLBACK_NOTE
        if on_token is not None:
            on_token(answer.text)
        return hits, answer

    def _generate(self, question, hits, history, on_token) -> Answer | None:
        from bot.generate import generate_answer

        passages = [p for hit in hits[:5] for p in hit.passages[:2]]
        history = [(q, a) for q, a in history if a]  # turns without a known answer are left out
        result = generate_answer(question, passages, self.llm, history=history, on_token=on_token)
        if result is None:
            return None
        if result.refused:
            return Answer(question=question, text=REFUSAL_TEXT, refused=True, closest=hits[:self.settings.top_k])
        citations = []
        for n in result.used:
            p = passages[n - 1]
            citations.append(Citation(n=n, article_id=p.article_id, title=p.title, source=p.source, url=p.url,
                                      published=p.published, quote=_excerpt(p.text), score=round(p.score, 4)))
        return Answer(question=question, text=result.text, refused=False, citations=citations)

    def ask(self, question: str, conversation_id: str | None = None, filters: Filters | None = None,
            k: int | None = None, on_token: Callable[[str], object] | None = None) -> Answer:
        """Answer a question in a conversation (a chat session, a Slack thread) and remember it."""
        history = []
        if conversation_id:
            history = [(t.question, t.answer) for t in self.conversations.history(conversation_id)]
        _, answer = self.answer(question, history, filters=filters, k=k, on_token=on_token)
        if conversation_id:
            self.conversations.append(conversation_id, answer.question, answer.text,
                                      [c.article_id for c in answer.citations], answer.refused)
        return answer


def _excerpt(text: str, limit: int = 300) -> str:
    """An exact prefix of `text`, cut at a word boundary."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[:cut if cut > 0 else limit]
