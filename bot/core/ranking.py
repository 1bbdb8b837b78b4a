"""The ranking stage: reorders the fused articles before the refusal gate reads them.

`KeepOrder` keeps retrieval's order (fused or reranked: the cross-encoder runs inside
`Retriever`); the default is `RecencyRanker(KeepOrder())` (bot/core/recency.py), which
also puts the newest answering article first for a question about now. Any object with
the same `rank` method can be passed as `Stages(ranker=...)`; it may reorder, rescore or
cut the list.
"""

from __future__ import annotations

from bot.core.records import ArticleHit
from bot.core.stages import Query


class KeepOrder:
    """The ranker that changes nothing: fusion's order stands."""

    def rank(self, query: Query, hits: list[ArticleHit]) -> list[ArticleHit]:
        return hits
