"""The answering core: one question in, an `Answer` out. The CLI and Slack both call this.

Flow: check the question -> build the retrieval query (with the conversation's
earlier turns) -> hybrid retrieval -> weigh the evidence (refuse when weak) ->
answer (an LLM if configured, else quoted sentences) -> remember the turn.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable
from functools import cached_property

from bot.core.records import Answer, ArticleHit, Citation, Filters, Passage
from ingest.settings import Settings

log = logging.getLogger("spacebot.answer")

MAX_QUESTION_CHARS = 2000
RETRIEVE_K = 10
REFUSAL_TEXT = "The ingested articles don't answer this."
LLM_FALLBACK_NOTE = "The language model gave no usable answer; showing quoted sentences instead."
LLM_RETRY_AFTER = 30.0  # seconds an LLM server that timed out or was unreachable is left alone


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
    """Answers questions from the index. Thread-safe; open once and share.

    With an LLM, the passages it reads are the best `llm_passages_per_article` of
    each of the best `llm_articles` articles, and its answer is cut at
    `llm_max_tokens` tokens (set these on an instance to trade quality for speed,
    e.g. for a small local model on a CPU).
    """

    llm_articles = 5
    llm_passages_per_article = 2
    llm_max_tokens = 512

    def __init__(self, settings: Settings, index=None):
        self.settings = settings
        self._index = index
        self._lock = threading.Lock()

    @property
    def index(self):
        with self._lock:
            if self._index is None:
                from bot.core.search_index import SearchIndex

                self._index = SearchIndex(self.settings)
            return self._index

    @cached_property
    def retriever(self):
        from bot.core.retrieval import Retriever

        return Retriever(self.index)

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

    # -- retrieval ---------------------------------------------------------------------
    def query_for(self, question: str, history: list[str]) -> str:
        """The retrieval query: the LLM's standalone rewrite of a follow-up, else key terms added."""
        from bot.core.followup import contextual_query

        if history and self.llm_ready():
            from bot.core.generate import rewrite_followup

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
               retrieve_k: int = RETRIEVE_K, focus: set[str] | None = None) -> tuple[list[ArticleHit], Answer]:
        """Retrieve and answer, without touching any stored conversation.

        `k` sources are cited or listed; `retrieve_k` articles are retrieved and returned.
        `focus`: articles the conversation's last answer cited (a follow-up is likely about them).
        `on_token(piece)` receives the answer text as it is written: with an LLM, its
        streamed tokens (markers already checked: the pieces add up to a prefix of the
        final text); otherwise, or when the LLM failed before writing anything, the
        extractive answer in one piece. If the LLM wrote something and then failed, no
        more pieces come: show the returned `Answer` (it carries a note) instead.
        A refusal sends nothing of its own (an LLM may have streamed its words for it).
        """
        from bot.core.evidence import weigh_evidence
        from bot.core.extractive import MAX_SENTENCES, compose_answer, select_sentences

        question = check_question(question)
        history = list(history or [])
        k = k or self.settings.top_k
        hits = self.search(question, [q for q, _ in history], k=max(k, retrieve_k), filters=filters, mode=mode)
        evidence = weigh_evidence(question, hits, self.index.keyword)
        if evidence.weak:
            return hits, Answer(question=question, text=REFUSAL_TEXT, refused=True, closest=hits[:k])
        streamed = False
        if self.llm_ready():
            generated, streamed = self._generate(question, hits, history, on_token)
            if generated is not None:
                return hits, generated
        elif self.llm is not None:
            log.debug("LLM failed less than %.0fs ago; answering with quoted sentences", LLM_RETRY_AFTER)
        chosen = select_sentences(question, hits, self.index, context=[q for q, _ in history], focus=focus,
                                  max_sentences=min(k, MAX_SENTENCES))
        if not chosen:
            return hits, Answer(question=question, text=REFUSAL_TEXT, refused=True, closest=hits[:k])
        answer = compose_answer(question, chosen)
        if self.llm is not None:
            answer.note = LLM_FALLBACK_NOTE
        if on_token is not None and not streamed:
            on_token(answer.text)
        return hits, answer

    def _generate(self, question, hits, history, on_token) -> tuple[Answer | None, bool]:
        """The LLM's answer (None: answer extractively), and whether any of it was streamed."""
        from bot.core.generate import CleanStream, generate_answer

        passages = llm_passages(hits, self.llm_articles, self.llm_passages_per_article)
        history = [(q, a) for q, a in history if a]  # turns without a known answer are left out
        stream = CleanStream(on_token, len(passages)) if on_token is not None else None
        result = generate_answer(question, passages, self.llm, history=history, on_token=stream,
                                 max_tokens=self.llm_max_tokens)
        streamed = stream is not None and bool(stream.sent)
        if result is None:
            return None, streamed
        if result.refused:
            closest = hits[:self.settings.top_k]
            return Answer(question=question, text=REFUSAL_TEXT, refused=True, closest=closest), streamed
        if stream is not None:
            stream.finish()  # the text held back at the end (e.g. a closing marker)
        citations = []
        for n in result.used:
            p = passages[n - 1]
            citations.append(Citation(n=n, article_id=p.article_id, title=p.title, source=p.source, url=p.url,
                                      published=p.published, quote=_excerpt(p.text), score=round(p.score, 4)))
        return Answer(question=question, text=result.text, refused=False, citations=citations), streamed

    def ask(self, question: str, conversation_id: str | None = None, filters: Filters | None = None,
            k: int | None = None, on_token: Callable[[str], object] | None = None) -> Answer:
        """Answer a question in a conversation (a chat session, a Slack thread) and remember it."""
        history, focus = [], None
        if conversation_id:
            turns = self.conversations.history(conversation_id)
            history = [(t.question, t.answer) for t in turns]
            focus = set(turns[-1].article_ids) if turns else None
        _, answer = self.answer(question, history, filters=filters, k=k, on_token=on_token, focus=focus)
        if conversation_id:
            self.conversations.append(conversation_id, answer.question, answer.text,
                                      [c.article_id for c in answer.citations], answer.refused)
        return answer


def llm_passages(hits: list[ArticleHit], articles: int = 5, per_article: int = 2) -> list[Passage]:
    """The passages an LLM answers from, numbered 1.. in this order: the best `per_article`
    passages of each of the best `articles` articles."""
    return [p for hit in hits[:articles] for p in hit.passages[:per_article]]


def _excerpt(text: str, limit: int = 300) -> str:
    """An exact prefix of `text`, cut at a word boundary."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[:cut if cut > 0 else limit]
