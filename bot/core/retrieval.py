"""Hybrid retrieval: candidate chunks from dense (Chroma) and BM25 search, fused by
reciprocal rank at article level (`ReciprocalRankFusion`, a stage of its own)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np

from bot.core.records import ArticleHit, Filters, Passage
from bot.core.search_index import SearchIndex
from ingest.article import date_to_ts
from ingest.chunk_record import chroma_where

MODES = ("dense", "bm25", "hybrid", "rerank")
RRF_K = 60  # the usual reciprocal-rank-fusion constant (Cormack et al. 2009); k = 10/30/60 differ by noise
CANDIDATES = 100  # chunks each search contributes before grouping
PASSAGES_PER_ARTICLE = 3  # passages kept per article: what the answerers quote from


@dataclass
class FusedArticle:
    """An article as fusion ranks it: its score and its chunks (table row, score), best first."""

    article_id: str
    score: float
    chunks: list[tuple[int, float]] = field(default_factory=list)


class ReciprocalRankFusion:
    """Fuses ranked chunk lists at article level: each list ranks articles by their best
    chunk, and an article scores the sum of 1 / (k + rank) over the lists; a chunk scores
    the same over its own ranks (that orders the passages within an article)."""

    def __init__(self, k: int = RRF_K):
        self.k = k

    def fuse(self, ranked_lists: list[list[tuple[int, float]]], article_of, top: int) -> list[FusedArticle]:
        """The `top` articles; `ranked_lists` hold (table row, score), `article_of[row]` is its article."""
        article_score: dict[str, float] = defaultdict(float)
        chunk_score: dict[int, float] = defaultdict(float)
        for ranked in ranked_lists:
            article_rank: dict[str, int] = {}
            for rank, (row, _) in enumerate(ranked):
                chunk_score[row] += 1.0 / (self.k + rank + 1)
                article_rank.setdefault(article_of[row], len(article_rank))
            for article_id, rank in article_rank.items():
                article_score[article_id] += 1.0 / (self.k + rank + 1)
        by_article: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for row in sorted(chunk_score, key=chunk_score.get, reverse=True):
            by_article[article_of[row]].append((row, chunk_score[row]))
        best = sorted(article_score, key=lambda a: (-article_score[a], a))[:top]
        return [FusedArticle(a, article_score[a], by_article[a]) for a in best]


class Retriever:
    """Finds the articles (and their best passages) for a query: candidates from each
    search, then `fusion` (default `ReciprocalRankFusion()`)."""

    def __init__(self, index: SearchIndex, fusion=None, rerank_depth: int | None = None, reranker: str | None = None):
        from bot.core.rerank import DEPTH

        self.index = index
        self.rerank_depth = rerank_depth or DEPTH
        self.reranker_setting = reranker  # SPACEBOT_RERANKER; None reads the environment
        self.fusion = fusion or ReciprocalRankFusion()
        table = index.keyword.table.columns
        self._sources = np.array(table["source"], dtype=object)
        self._ts = np.array([t if t is not None else np.nan for t in table["published_ts"]], dtype=float)

    # -- the two searches, each a list of (table row, score), best first -----------------
    def dense(
        self, query: str, filters: Filters, n: int = CANDIDATES, vector: np.ndarray | None = None
    ) -> list[tuple[int, float]]:
        vector = self.index.embed([query])[0] if vector is None else vector
        n = min(n, max(1, len(self.index.keyword.table)))
        hits = self.index.store.query(vector, n, where=_chroma_where(filters))
        position = self.index.keyword.position
        rows = [(position[cid], score) for cid, score in hits if cid in position]
        if filters.as_of is not None:  # Chroma cannot say "or undated": dropped here
            rows = [(r, s) for r, s in rows if not self._ts[r] > date_to_ts(filters.as_of)]
        return rows

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
        if filters.as_of is not None:  # published later than "now" (undated articles stay: NaN > x is False)
            keep &= ~(self._ts > date_to_ts(filters.as_of))
        return keep.astype(np.float32)

    # -- fusion and grouping ---------------------------------------------------------------
    def search(
        self,
        query: str,
        k: int = 10,
        filters: Filters | None = None,
        mode: str = "hybrid",
        vector: np.ndarray | None = None,
    ) -> list[ArticleHit]:
        """The top `k` articles for `query`, each with its best passages."""
        filters = filters or Filters()
        if mode not in MODES:
            raise ValueError(f"unknown retrieval mode {mode!r}; choose from {', '.join(MODES)}")
        lists = []
        if mode in ("dense", "hybrid", "rerank"):
            lists.append(self.dense(query, filters, vector=vector))
        if mode in ("bm25", "hybrid", "rerank"):
            lists.append(self.bm25(query, filters))
        hits = self._group(lists, k)
        if mode == "rerank":
            reranker = self.reranker
            if reranker is not None:
                return self._rerank(reranker, query, lists, hits, k)
        return hits

    @property
    def reranker(self):
        """The cross-encoder (`SPACEBOT_RERANKER`), loaded on first use; None when it is `none`."""
        from bot.core.rerank import load_reranker

        return load_reranker(self.reranker_setting)

    def _rerank(self, reranker, query: str, lists, fused: list[ArticleHit], k: int) -> list[ArticleHit]:
        """Articles ordered by their best chunk's cross-encoder score over the union of the first
        `rerank_depth` chunks of each list; articles the reranker did not read follow in fused order."""
        from bot.core.rerank import rerank_candidates

        table = self.index.keyword.table
        scores = rerank_candidates(reranker, query, lists, table, self.rerank_depth)
        rows_of: dict[str, list[int]] = defaultdict(list)
        for row in sorted(scores, key=lambda r: -scores[r]):
            rows_of[table.columns["article_id"][row]].append(row)
        hits = []
        for article_id, rows in list(rows_of.items())[:k]:
            passages = [_passage(table.row(r), scores[r]) for r in rows[:PASSAGES_PER_ARTICLE]]
            first = passages[0]
            hits.append(
                ArticleHit(
                    article_id=article_id,
                    title=first.title,
                    source=first.source,
                    url=first.url,
                    published=first.published,
                    path=first.path,
                    score=passages[0].score,
                    passages=passages,
                    reranked=True,
                )
            )
        floor = min(scores.values(), default=0.0) - 1.0  # below every reranked passage
        for hit in fused:
            if len(hits) >= k:
                break
            if hit.article_id not in rows_of:
                for p in hit.passages:
                    p.score = floor
                hit.score = floor
                hits.append(hit)
        return hits

    def _group(self, ranked_lists: list[list[tuple[int, float]]], k: int) -> list[ArticleHit]:
        table = self.index.keyword.table
        hits = []
        for fused in self.fusion.fuse(ranked_lists, table.columns["article_id"], k):
            passages = [_passage(table.row(r), score) for r, score in fused.chunks[:PASSAGES_PER_ARTICLE]]
            first = passages[0]
            hits.append(
                ArticleHit(
                    article_id=fused.article_id,
                    title=first.title,
                    source=first.source,
                    url=first.url,
                    published=first.published,
                    path=first.path,
                    score=fused.score,
                    passages=passages,
                )
            )
        return hits


def _passage(row: dict, score: float) -> Passage:
    return Passage(
        chunk_id=row["id"],
        article_id=row["article_id"],
        title=row["title"],
        text=row["text"],
        source=row["source"],
        url=row["url"],
        published=row["published"],
        path=row["path"],
        score=score,
    )


def _chroma_where(filters: Filters) -> dict | None:
    return chroma_where(
        filters.source,
        date_to_ts(filters.since) if filters.since else None,
        date_to_ts(filters.until) if filters.until else None,
    )
