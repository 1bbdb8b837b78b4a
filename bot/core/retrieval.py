"""Hybrid retrieval: candidate chunks from dense (Chroma) and BM25 search (and, when on, BM25
over whole articles), fused by reciprocal rank at article level (`ReciprocalRankFusion`, a
stage of its own) or reranked; near-duplicate articles then count once (`collapse_copies`)."""

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
# Articles whole-article BM25 adds when it is on (each as its best chunk). 15 = the rerank depth: 5 changed
# nothing, 10 lowered dev hit@5, 15 moved MRR by +/-0.003 (docs/BENCHMARKS.md "Long articles"), so it is off.
ARTICLE_CANDIDATES = 15


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

    def fuse(self, ranked_lists: list[list[tuple[int, float]]], article_of, top: int | None) -> list[FusedArticle]:
        """The `top` articles (None: all); `ranked_lists` hold (table row, score), `article_of[row]` is its article."""
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

    def __init__(
        self,
        index: SearchIndex,
        fusion=None,
        rerank_depth: int | None = None,
        reranker: str | None = None,
        article_signal: bool = False,
        group_copies: bool = True,
    ):
        from bot.core.rerank import DEPTH

        self.index = index
        self.article_signal = article_signal  # whole-article BM25 as a third candidate list
        self.group_copies = group_copies  # one article per near-duplicate group
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

    def articles(self, query: str, filters: Filters, n: int = ARTICLE_CANDIDATES) -> list[tuple[int, float]]:
        """Whole-article BM25: the `n` best articles, each as (its best chunk's row by chunk BM25,
        the article's score), best first. It finds an article whose question terms are spread
        over its chunks (a long article: the name in its lead, the answer deep in its body)."""
        keyword = self.index.keyword
        found = keyword.search_articles(query, n, mask=self._mask(filters))
        if not found:
            return []
        chunk_scores = keyword.chunk_scores(query)
        out = []
        for article_id, score in found:
            rows = keyword.rows_of(article_id)
            out.append((max(rows, key=lambda r: (chunk_scores[r], -r)), score))
        return out

    def _mask(self, filters: Filters) -> np.ndarray | None:
        if filters.is_empty():
            return None
        keep = np.ones(len(self._sources), dtype=bool)
        if isinstance(filters.source, tuple):  # a channel's own sources
            keep &= np.isin(self._sources, list(filters.source))
        elif filters.source is not None:
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
        if self.article_signal and mode in ("hybrid", "rerank"):
            lists.append(self.articles(query, filters))
        # twice k: enough for k after copies collapse (groups here hold 2 articles), and building
        # a hit for every fused candidate instead cost ~7 ms of a ~30 ms hybrid search (measured)
        hits = self._group(lists, 2 * k)
        if mode == "rerank":
            reranker = self.reranker
            if reranker is not None:
                hits = self._rerank(reranker, query, lists, hits, len(hits) + len(lists) * self.rerank_depth)
        if self.group_copies:
            hits = collapse_copies(hits, self.index.keyword.groups, self._address)
        return hits[:k]

    def _address(self, article_id: str) -> str:
        """How a citation names another copy of an article: its URL, else its id (a path)."""
        rows = self.index.keyword.rows_of(article_id)
        url = self.index.keyword.table.columns["url"][rows[0]] if rows else None
        return url or article_id

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
            hits.append(_article_hit(article_id, passages, passages[0].score, reranked=True))
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

    def _group(self, ranked_lists: list[list[tuple[int, float]]], k: int | None) -> list[ArticleHit]:
        table = self.index.keyword.table
        hits = []
        for fused in self.fusion.fuse(ranked_lists, table.columns["article_id"], k):
            passages = [_passage(table.row(r), score) for r, score in fused.chunks[:PASSAGES_PER_ARTICLE]]
            hits.append(_article_hit(fused.article_id, passages, fused.score))
        return hits


def collapse_copies(hits: list[ArticleHit], groups, address) -> list[ArticleHit]:
    """One hit per near-duplicate group, at the rank of its best member.

    The group's representative stands in that slot when retrieval found it the same way
    (reranked or not) as the best member: a copy with the same text nearly always is, and
    its own passages are quoted, so every quote stays an exact stretch of the cited page.
    Otherwise the best member keeps the slot. Either way the hit and its passages list the
    group's other members (`address(id)`: URL or id) as `also_in`.
    """
    found = {hit.article_id: hit for hit in hits}
    taken: set[tuple[str, ...]] = set()
    out = []
    for hit in hits:
        members = groups.members(hit.article_id)
        if len(members) == 1:
            out.append(hit)
            continue
        if members in taken:
            continue
        taken.add(members)
        representative = found.get(members[0])
        if representative is not None and representative.reranked == hit.reranked:
            hit = representative
        hit.also_in = [address(m) for m in members if m != hit.article_id]
        for passage in hit.passages:
            passage.also_in = list(hit.also_in)
        out.append(hit)
    return out


def _article_hit(article_id: str, passages: list[Passage], score: float, reranked: bool = False) -> ArticleHit:
    """An article hit described by its first (best) passage."""
    first = passages[0]
    return ArticleHit(
        article_id=article_id,
        title=first.title,
        source=first.source,
        url=first.url,
        published=first.published,
        path=first.path,
        score=score,
        passages=passages,
        reranked=reranked,
    )


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
        publisher=row.get("publisher"),  # absent from keyword indexes written before it was stored
    )


def _chroma_where(filters: Filters) -> dict | None:
    return chroma_where(
        filters.source,
        date_to_ts(filters.since) if filters.since else None,
        date_to_ts(filters.until) if filters.until else None,
    )
