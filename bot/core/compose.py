"""The one place the answering stages are chosen and built from settings."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from bot.core.llm_answerer import LLMLimits


@dataclass
class Stages:
    """One object per stage (see `bot.core.stages` for each protocol). A field left None
    is filled with the default by `build_stages`; set one to swap that stage."""

    question: Any = None  # QuestionCheck
    query: Any = None  # QueryBuilder
    retrieval: Any = None  # Retrieval (candidates from dense + BM25, then fusion)
    fusion: Any = None  # used by the default retrieval: ReciprocalRankFusion
    ranker: Any = None  # Ranker: where a reranker plugs in
    gate: Any = None  # RefusalGate
    answerer: Any = None  # Answerer
    citations: Any = None  # CitationBuilder


def build_stages(settings, index, llm: Callable[[], object | None], given: Stages | None = None,
                 llm_limits: LLMLimits | None = None) -> Stages:
    """`given` with every empty field filled with its default.

    `index` is the open `SearchIndex`; `llm()` returns the LLM client when one is
    configured and ready now, else None.
    """
    from bot.core.citations import Citations
    from bot.core.extractive import ExtractiveAnswerer
    from bot.core.gate import EvidenceGate
    from bot.core.llm_answerer import LLMAnswerer, WithFallback
    from bot.core.query import FollowupQuery
    from bot.core.question import QuestionCheck
    from bot.core.ranking import KeepOrder
    from bot.core.retrieval import ReciprocalRankFusion, Retriever

    stages = replace(given) if given is not None else Stages()
    stages.fusion = stages.fusion or ReciprocalRankFusion()
    defaults = {
        "question": lambda: QuestionCheck(),
        "query": lambda: FollowupQuery(llm),
        "retrieval": lambda: Retriever(index, fusion=stages.fusion),
        "ranker": lambda: KeepOrder(),
        "gate": lambda: EvidenceGate(index),
        "answerer": lambda: WithFallback(LLMAnswerer(llm, llm_limits), ExtractiveAnswerer(index),
                                         configured=settings.llm_enabled),
        "citations": lambda: Citations(),
    }
    for f in fields(stages):
        if getattr(stages, f.name) is None:
            setattr(stages, f.name, defaults[f.name]())
    return stages
