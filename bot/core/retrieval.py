"""Hybrid retrieval: dense (Chroma) + BM25, fused by reciprocal rank, grouped by article."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from bot.core.records import ArticleHit, Filters, Passage
from bot.core.search_index import SearchIndex
from ingest.article import date_to_ts
from ingest.chunk_record import chroma_where

MODES = ("dense", "bm25", "hybrid")
RRF_K = 60  # the usual reciprocal-rank-fusion constant
CANDIDATES = 100  # chunks each search contributes before grouping
PASSAGES_PER_ARTICLE = 3


class Retriever:
    """Finds the articles (and their best passages) for a query."""

    def __init__(self, index: SearchIndex):
        self.index = index
        table = index.keyword.table.columns
        self._sources = np.array(table["source"], dtype=object)
        self._ts = np.array([t if t is not None else np.nan for t in table["published_ts"]], dtype=float)

    # -- the two searches, each a list of (table row, score), best first -----------------
    def dense(self, query: str, filters: Filters, n: int = CANDIDATES,
              vector: np.ndarray | None = None) -> list[tuple[int, float]]:
        vector = self.index.embed([query])[0] if vector is None else vector
        n = min(n, max(1, len(self.index.keyword.table)))
        hits = self.index.store.query(vector, n, where=_chroma_where(filters))
        position = self.index.keyword.position
        return [(position[cid], score) for cid, score in hits if cid in position]

    def bm25(self, query: str, filters: Filters, n: int = CANDIDATES) -> list[tuple[int, float]]:
        return self.index.keyword.search(query, n, mask=self._mask(filters))

    def _mask(self, filters: Filters) -> np.ndarray | None:
        if filters.is_empty():
            return None
        keep = np.ones(len(self._sources), dtype=bool)
        if filters.source is not None:
            keep &= self._sources == filters.source
        if filters.since is not None:
            keep &= self._ts >= date_to_ts(filters.since)
        if filters.until is not None:
            keep &= self._ts <= date_to_ts(filters.until)
        return keep.astype(np.float32)

    # -- fusion and grouping ---------------------------------------------------------------
    def search(self, query: str, k: int = 10, filters: Filters | None = None, mode: str = "hybrid",
               vector: np.ndarray | None = None) -> list[ArticleHit]:
        """The top `k` articles for `query`, each with its best passages."""
        filters = filters or Filters()
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; choose from {', '.join(MODES)}")
        lists = []
        if mode in ("dense", "hybrid"):
            lists.append(self.dense(query, filters, vector=vector))
        if mode in ("bm25", "hybrid"):
            lists.append(self.bm25(query, filters))
        return self._group(lists, k)

    def _group(self, ranked_lists: list[list[tuple[int, float]]], k: int) -> list[ArticleHit]:
        table = self.index.keyword.table
        article_score: dict[str, float] = defaultdict(float)
        chunk_score: dict[int, float] = defaultdict(float)
        for ranked in ranked_lists:
            article_rank: dict[str, int] = {}
            for rank, (row, _) in enumerate(ranked):
                chunk_score[row] += 1.0 / (RRF_K + rank + 1)
                article_rank.setdefault(table.columns["article_id"][row], len(article_rank))
            for article_id, rank in article_rank.items():
                article_score[article_id] += 1.0 / (RRF_K + rank + 1)
        by_article: dict[str, list[int]] = defaultdict(list)
        for row in sorted(chunk_score, key=chunk_score.get, reverse=True):
            by_article[table.columns["article_id"][row]].append(row)
        top = sorted(article_score, key=lambda a: (-article_score[a], a))[:k]
        hits = []
        for article_id in top:
            rows = by_article[article_id][:PASSAGES_PER_ARTICLE]
            passages = [_passage(table.row(r), chunk_score[r]) for r in rows]
            first = passages[0]
            hits.append(ArticleHit(article_id=article_id, title=first.title, source=first.source,
                                   url=first.url, published=first.published, path=first.path,
                                   score=article_score[article_id], passages=passages))
        return hits


def _passage(row: dict, score: float) -> Passage:
    return Passage(chunk_id=row["id"], article_id=row["article_id"], title=row["title"], text=row["text"],
                   source=row["source"], url=row["url"], published=row["published"], path=row["path"],
                   score=score)


def _chroma_where(filters: Filters) -> dict | None:
    return chroma_where(filters.source, date_to_ts(filters.since) if filters.since else None,
                        date_to_ts(filters.until) if filters.until else None)
