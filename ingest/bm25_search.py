"""BM25 search over the chunk texts, through bm25s's public API only.

Documents and queries go through the same `tokenize`: lower case, English stop
words out, Snowball stems (PyStemmer).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np


def stemmer():
    """The English Snowball stemmer bm25s is given (one per index; it caches stems)."""
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str], stem=None) -> list[list[str]]:
    """Lower-cased, stop-worded, stemmed tokens, the same for documents and queries."""
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=stem or stemmer(), return_ids=False, show_progress=False)


class Bm25Search:
    """A bm25s index: built from token lists, saved to and loaded from one folder.

    An empty corpus has no bm25s index at all (bm25s cannot index nothing); every
    search on it finds nothing.
    """

    def __init__(self, retriever, size: int):
        self._retriever = retriever
        self.size = size

    @classmethod
    def build(cls, corpus_tokens: list[list[str]]) -> Bm25Search:
        if not corpus_tokens:
            return cls(None, 0)
        import bm25s

        retriever = bm25s.BM25()
        retriever.index(corpus_tokens, show_progress=False)
        return cls(retriever, len(corpus_tokens))

    def save(self, folder: Path) -> None:
        """Write bm25s's own files (`*.index.npy`, `vocab.index.json`, `params.index.json`) to `folder`."""
        if self._retriever is not None:
            self._retriever.save(str(folder))

    @classmethod
    def load(cls, folder: Path, size: int) -> Bm25Search:
        if not size:
            return cls(None, 0)
        import bm25s

        return cls(bm25s.BM25.load(str(folder), mmap=False), size)

    def known(self, tokens: list[str]) -> list[str]:
        """The tokens the index has seen, in order."""
        if self._retriever is None:
            return []
        return [t for t in tokens if self._retriever.get_tokens_ids([t])]

    def rows_with(self, token: str) -> np.ndarray:
        """Rows (documents) holding `token`: exactly those with a positive score for it.

        (Every BM25 term weight is positive where the term occurs: idf > 0 under bm25s's
        Lucene variant, and a positive term frequency gives a positive tf part.)
        """
        if not self.known([token]):
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self._retriever.get_scores([token]) > 0)

    def scores(self, tokens: list[str]) -> np.ndarray:
        """The BM25 score of every document for query `tokens` (zeros when none is indexed)."""
        tokens = self.known(tokens)
        if not tokens:
            return np.zeros(self.size, dtype=np.float32)
        return self._retriever.get_scores(tokens)

    def search(self, tokens: list[str], k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top-k rows for query `tokens`: `(row, score)`, best first, zero scores dropped."""
        tokens = self.known(tokens)
        if not tokens:
            return []
        docs, scores = self._retriever.retrieve(
            [tokens], k=min(k, self.size), weight_mask=mask, show_progress=False, n_threads=1
        )
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]
