"""The answerer stage that picks an answer by the question's shape (`bot.core.shapes`).

A `fact` question goes to the single-fact answerer unchanged (no spaCy, no extra work);
a `list`, `timeline` or `outlets` question to its own answerer, which reads the relevant
sentences of every retrieved article (`bot.core.shape_evidence`). When a shaped answerer
finds nothing to say (no items of the asked type, no reranked articles), the single-fact
answerer answers instead.
"""

from __future__ import annotations

from bot.core.stages import AnswerRequest, Draft


class ShapedAnswerer:
    """Wraps the single-fact answerer `fact`; `enabled` is `SPACEBOT_ANSWER_SHAPES`."""

    def __init__(self, index, fact, setting: str | None = None, enabled: bool = True):
        from bot.core.list_answerer import ListAnswerer
        from bot.core.outlets_answerer import OutletsAnswerer
        from bot.core.timeline_answerer import TimelineAnswerer

        self.fact = fact
        self.setting = setting  # SPACEBOT_RERANKER
        self.enabled = enabled
        self.by_shape = {
            "list": ListAnswerer(index, setting),
            "timeline": TimelineAnswerer(index, setting),
            "outlets": OutletsAnswerer(index, setting),
        }

    def draft(self, request: AnswerRequest) -> Draft | None:
        from bot.core.shapes import question_shape

        shape = question_shape(request.question, self.enabled)
        if shape.name == "fact" or not request.hits or not request.hits[0].reranked:
            return self.fact.draft(request)
        from bot.core.rerank import load_reranker
        from bot.core.shape_evidence import relevant_sentences

        model = load_reranker(self.setting)
        relevant = relevant_sentences(request.question, request.hits, model) if model is not None else []
        draft = self.by_shape[shape.name].draft(request, shape, relevant) if relevant else None
        if draft is None:
            return self.fact.draft(request)
        if request.on_token is not None:
            request.on_token(draft.text)
            draft.streamed = draft.text
        return draft
