"""The refusal gate for reranked articles: one calibrated threshold on a learned score, plus the figure rule.

When retrieval was reranked (`ArticleHit.reranked`), the gate reads the
candidate sentences the answerer will quote from (`sentence_choice.relevance`,
scored by the same cross-encoder; the model's pair cache makes the answerer's
second read free). Its score, `support`, is the best logit of a sentence that
states the kind of thing asked for (an amount, a count, a date:
`bot.core.answer_type`), or of any sentence when the question asks for none of
these; for a who-question (a person, an organisation, a country: `ACTOR_TYPES`), the best
logit of a sentence naming someone the question does not name.
A question is refused when `support` is below `REFUSE_BELOW`, or when no
sentence stating the asked-for figure is about the question (`figure_refusal`,
the one older rule that lifts refusals on dev and on dev2).

The rare-term and acronym rules of `EvidenceGate` are not applied to reranked
articles: measured on top of this gate they add no refusal on dev2 and only false
refusals there (docs/BENCHMARKS.md, eval/bench_rerank.py). Articles that were not
reranked (modes dense, bm25, hybrid, or `SPACEBOT_RERANKER=none`) still go
through `EvidenceGate` whole.
"""

from __future__ import annotations

import logging

from bot.core.gate import EvidenceGate, figure_refusal
from bot.core.records import ArticleHit
from bot.core.stages import Refusal

log = logging.getLogger("spacebot.answer")

# Calibrated on dev + dev2 together, with the figure rule applied (eval/bench_pipeline.py): AUROC of
# `support`, answerable vs unanswerable, dev 0.71, dev2 0.78, pooled 0.76 (the best passage's logit:
# 0.68 / 0.72 / 0.70). The operating point is the one with the highest pooled refusal minus false refusal
# with false refusal <= 0.10 on each set: every threshold from -20 to -8 ties there (dev 0.67 / 0.019,
# dev2 0.55 / 0.075); raising it to -2.8 (the most refusals within 0.10 false refusals) refuses one more
# dev2 question for three more false refusals (dev 0.67 / 0.093, dev2 0.60 / 0.10). -8 is the top of the
# tie: off-topic questions ("click evil example here" scores about -11) are refused by it, near-misses
# that ask for a figure by the figure rule.
REFUSE_BELOW = -8.0
NO_SENTENCE = -20.0  # `support` when no candidate sentence holds the asked-for figure: below any logit
# Asked-for types that are named actors (bot.core.entities.asked_type). A who-question is not supported by
# sentences that name no one the question does not already name. On dev and dev2 this refuses no more and no
# fewer questions than the plain best sentence at REFUSE_BELOW: every answerable actor question there (42 with
# the near-misses) has such a sentence above -8, so it costs no false refusal; it refuses the who-question
# whose articles talk about the topic and name no one. A name is a capitalised word (`names_someone`), not
# spaCy's entities: those gave the same decision on all 42 questions (eval/bench_pipeline.py --gate, "typed")
# but loading spaCy made a cold `spacebot ask` of a who-question 1 s slower (2.8 -> 3.8 s, median of 4,
# interleaved, load 2), past its 3 s target.
ACTOR_TYPES = ("who", "person", "org", "country")
# Candidates checked per question, best first. On dev and dev2 the best naming sentence of every actor
# question was among the best 3 of its ~13 candidates; 6 leaves room.
TYPED_SENTENCES = 6


def support(question: str, context: list[str], hits: list[ArticleHit], model) -> float:
    """The best cross-encoder logit of a candidate sentence stating the asked-for figure, or naming
    an asked-for actor the question does not name (any candidate sentence when the question asks
    for neither); `NO_SENTENCE` when there is none."""
    from bot.core.answer_type import expected_type, has_type
    from bot.core.followup import contextual_query
    from bot.core.sentence_choice import relevance
    from bot.core.sentence_scores import FIGURE_TYPES

    kind = expected_type(question)
    scored = relevance(contextual_query(question, context), hits, model)
    if kind in FIGURE_TYPES:
        scored = [c for c in scored if has_type(c.sentence, kind)]
    elif actor_type(question):
        scored = _naming_someone(question, scored)
    return max((c.score for c in scored), default=NO_SENTENCE)


def actor_type(question: str) -> str | None:
    """ "who", "person", "org" or "country" when the question asks for a named actor, else None."""
    from bot.core.entities import asked_type

    kind = asked_type(question)
    return kind if kind in ACTOR_TYPES else None


def _naming_someone(question: str, scored: list) -> list:
    """The best `TYPED_SENTENCES` candidates that name someone the question does not (`names_someone`)."""
    from bot.core.answer_type import names_someone

    ranked = sorted(scored, key=lambda c: -c.score)[:TYPED_SENTENCES]
    return [c for c in ranked if names_someone(c.sentence, question)]


class RerankGate:
    """`EvidenceGate` for fused articles; `support` >= the calibrated threshold and the figure rule
    for reranked ones."""

    def __init__(self, index, threshold: float | None = None, setting: str | None = None):
        self.index = index
        self.threshold = threshold  # None: REFUSE_BELOW
        self.setting = setting  # SPACEBOT_RERANKER; None reads the environment
        self.fallback = EvidenceGate(index)

    def check(self, question: str, hits: list[ArticleHit], context: list[str]) -> Refusal | None:
        from bot.core.rerank import load_reranker

        model = load_reranker(self.setting) if hits and hits[0].reranked else None
        if model is None:
            return self.fallback.check(question, hits, context)
        score = support(question, context, hits, model)
        threshold = REFUSE_BELOW if self.threshold is None else self.threshold
        if score < threshold:
            refusal = Refusal(f"no sentence supports an answer: best {score:.2f} < {threshold} (cross-encoder)")
        else:
            refusal = figure_refusal(question, hits, self.index.keyword, context)
        if refusal is not None:
            log.debug("refused %r: %s", question, refusal.reason)
        return refusal
