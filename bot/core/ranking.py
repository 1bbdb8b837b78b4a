"""The ranking stage: reorders the fused articles before the refusal gate reads them.

The default keeps fusion's order. A reranker (e.g. a cross-encoder scoring
(query, passage) pairs) is any object with the same `rank` method, passed as
`Stages(ranker=...)`; it may reorder, rescore or cut the list.
"""

from __future__ import annotations

from bot.core.records import ArticleHit
from bot.core.stages import Query


class KeepOrder:
    """The ranker that changes nothing: fusion's order stands."""

    def rank(self, query: Query, hits: list[ArticleHit]) -> list[ArticleHit]:
        return hits
