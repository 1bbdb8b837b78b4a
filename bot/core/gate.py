"""The refusal gate: every rule that says "the articles don't answer this", in one place.

Run after ranking and before any answerer (so an LLM is never asked a question
the articles cannot answer). The LLM's own "not in the articles" reply is the
one refusal decided later: the answerer reports it in its `Draft`.
"""

from __future__ import annotations

import logging

from bot.core.evidence import weigh_evidence
from bot.core.records import ArticleHit
from bot.core.sentence_scores import score_sentences, states_asked_figure
from bot.core.stages import Refusal

log = logging.getLogger("spacebot.answer")


class EvidenceGate:
    """Refuses when:

    1. nothing was retrieved;
    2. a specific term of the question (a rare name, number or country) or an acronym it
       types in capitals is absent from the top articles (`bot.core.evidence`);
    3. no sentence of the best passages can be quoted (all are splitting failures);
    4. it asks for an amount, count or date and no sentence stating one is about the
       question (`bot.core.sentence_scores.states_asked_figure`): quoting a figure about
       something else would be a made-up answer.
    """

    def __init__(self, index):
        self.index = index

    def check(self, question: str, hits: list[ArticleHit], context: list[str]) -> Refusal | None:
        refusal = self._check(question, hits, context)
        if refusal is not None:
            log.debug("refused %r: %s", question, refusal.reason)
        return refusal

    def _check(self, question: str, hits: list[ArticleHit], context: list[str]) -> Refusal | None:
        keyword = self.index.keyword
        if not hits:
            return Refusal("nothing retrieved")
        evidence = weigh_evidence(question, hits, keyword)
        if evidence.weak:
            return Refusal(f"the top articles never mention {', '.join(evidence.missing)}")
        return figure_refusal(question, hits, keyword, context)


def figure_refusal(question: str, hits: list[ArticleHit], keyword, context: list[str]) -> Refusal | None:
    """Rules 3 and 4 of `EvidenceGate`: no quotable sentence, or no sentence stating the asked-for
    amount, count or date is about the question."""
    scored = score_sentences(question, hits, keyword, context)
    if not scored.candidates:
        return Refusal("no quotable sentence in the best passages")
    if not states_asked_figure(scored):
        return Refusal(f"no sentence stating the asked-for {scored.kind} is about the question")
    return None
