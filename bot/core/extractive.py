"""The no-LLM answerer: the retrieved sentences that best answer the question, quoted verbatim.

Sentences are scored in `bot.core.sentence_scores`; the citation builder turns
the chosen ones into "sentence [n]" text with exact quotes.
"""

from __future__ import annotations

from bot.core.records import ArticleHit
from bot.core.sentence_scores import Candidate, score_sentences
from bot.core.sentences import best_within
from bot.core.stages import AnswerRequest, Claim, Draft

MAX_SENTENCES = 3  # an answer quotes at most three sentences: enough for a list's lead-in and two items
SECOND_SENTENCE_MARGIN = 0.25  # a further sentence is quoted only if it scores within this of the best


def select_sentences(
    question: str,
    hits: list[ArticleHit],
    index,
    context: list[str] | None = None,
    max_sentences: int = MAX_SENTENCES,
    focus: set[str] | None = None,
) -> list[Candidate]:
    """Up to `max_sentences` sentences, best first, none inside another.

    `index.keyword` is the BM25 index; `context` holds a follow-up's earlier turns;
    `focus` the articles cited by the conversation's last answer.
    """
    ranked = sorted(score_sentences(question, hits, index.keyword, context, focus).candidates, key=lambda c: -c.score)
    return best_within(ranked, lambda c: c.score, max_sentences, SECOND_SENTENCE_MARGIN)


class ExtractiveAnswerer:
    """Quotes the best sentences of the retrieved passages (no model runs)."""

    def __init__(self, index):
        self.index = index

    def draft(self, request: AnswerRequest) -> Draft | None:
        chosen = select_sentences(
            request.question,
            request.hits,
            self.index,
            context=[q for q, _ in request.history],
            focus=request.focus,
            max_sentences=min(request.k, MAX_SENTENCES),
        )
        if not chosen:
            return None
        return Draft(claims=[Claim(c.passage, c.sentence, c.score) for c in chosen])
