"""The no-LLM answerer for reranked articles: sentences chosen by the cross-encoder.

Articles that were not reranked are answered by the keyword-scoring `ExtractiveAnswerer`.
Quotes stay verbatim; the citation builder adds the `[n]` markers.
"""

from __future__ import annotations

from bot.core.extractive import ExtractiveAnswerer
from bot.core.stages import AnswerRequest, Claim, Draft

ANTECEDENT = True


class RerankedExtractiveAnswerer:
    """Quotes the best sentence (and up to two more close to it) by `bot.core.sentence_choice`."""

    def __init__(self, index, setting: str | None = None):
        self.index = index
        self.setting = setting  # SPACEBOT_RERANKER; None reads the environment
        self.fallback = ExtractiveAnswerer(index)

    def draft(self, request: AnswerRequest) -> Draft | None:
        from bot.core.rerank import load_reranker

        hits = request.hits
        model = load_reranker(self.setting) if hits and hits[0].reranked else None
        if model is None:
            return self.fallback.draft(request)
        from bot.core.followup import contextual_query
        from bot.core.sentence_choice import MAX_SENTENCES, choose, score_sentences, with_antecedent

        query = contextual_query(request.question, [q for q, _ in request.history])
        scored = score_sentences(query, hits, model, focus=request.focus)
        chosen = choose(scored, max_sentences=min(request.k, MAX_SENTENCES))
        if ANTECEDENT:
            chosen = with_antecedent(chosen)
        if not chosen:
            return None
        return Draft(claims=[Claim(c.passage, c.sentence, c.total) for c in chosen])
