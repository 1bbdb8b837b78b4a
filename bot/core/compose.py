"""The one place the answering stages are chosen and built from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import TYPE_CHECKING

from bot.core.llm_answerer import LLMLimits

if TYPE_CHECKING:
    from bot.core.question import QuestionCheck
    from bot.core.retrieval import ReciprocalRankFusion
    from bot.core.stages import Answerer, CitationBuilder, QueryBuilder, Ranker, RefusalGate, Retrieval


@dataclass
class Stages:
    """One object per stage (see `bot.core.stages` for each protocol). A field left None
    is filled with the default by `build_stages`; set one to swap that stage."""

    question: QuestionCheck | None = None
    query: QueryBuilder | None = None
    retrieval: Retrieval | None = None  # candidates from dense + BM25, then `fusion`
    fusion: ReciprocalRankFusion | None = None  # read by the default retrieval only
    ranker: Ranker | None = None  # where a reranker plugs in
    gate: RefusalGate | None = None
    answerer: Answerer | None = None
    citations: CitationBuilder | None = None


def build_stages(
    settings, index, llm: Callable[[], object | None], given: Stages | None = None, llm_limits: LLMLimits | None = None
) -> Stages:
    """`given` with every empty field filled with its default.

    `index` is the open `SearchIndex`; `llm()` returns the LLM client when one is
    configured and ready now, else None.
    """
    from bot.core.answer_knobs import AnswerKnobs
    from bot.core.citations import Citations
    from bot.core.llm_answerer import LLMAnswerer, WithFallback
    from bot.core.query import FollowupQuery
    from bot.core.question import QuestionCheck
    from bot.core.ranking import KeepOrder
    from bot.core.reader_answerer import ReaderAnswerer, ReaderGate
    from bot.core.recency import RecencyAnswerer, RecencyRanker
    from bot.core.retrieval import ReciprocalRankFusion, Retriever
    from bot.core.shaped_answerer import ShapedAnswerer

    stages = replace(given) if given is not None else Stages()
    stages.fusion = stages.fusion or ReciprocalRankFusion()
    knobs = AnswerKnobs.from_settings(settings)
    defaults = {
        "question": lambda: QuestionCheck(),
        "query": lambda: FollowupQuery(llm),
        "retrieval": lambda: Retriever(
            index,
            fusion=stages.fusion,
            rerank_depth=settings.rerank_depth,
            reranker=settings.reranker,
            article_signal=settings.article_signal,
            group_copies=settings.group_copies,
        ),
        "ranker": lambda: RecencyRanker(KeepOrder()),
        "gate": lambda: ReaderGate(index, knobs, setting=settings.reranker),
        "answerer": lambda: ShapedAnswerer(  # list / timeline / outlets by the question's shape, else a fact
            index,
            RecencyAnswerer(
                WithFallback(
                    LLMAnswerer(llm, llm_limits),
                    ReaderAnswerer(index, knobs, settings.reranker),
                    configured=settings.llm_enabled,
                )
            ),
            settings.reranker,
            enabled=settings.answer_shapes,
        ),
        "citations": lambda: Citations(),
    }
    for f in fields(stages):
        if getattr(stages, f.name) is None:
            setattr(stages, f.name, defaults[f.name]())
    return stages
