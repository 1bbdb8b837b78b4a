"""The BM25 keyword index (bm25s), kept beside the vector store and rebuilt from it.

It also holds the table of chunk texts and metadata that the query side uses
to turn chunk ids (from either search) into passages without a round trip.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

TABLE = "chunks.json"
FINGERPRINT = "fingerprint.txt"
FORMAT = "2"  # bump when what is indexed changes (2: URL slug words), so old indexes are rebuilt
COLUMNS = ("id", "article_id", "title", "text", "source", "url", "published", "published_ts",
           "path", "chunk_index")


def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: list[str], stemmer=None) -> list[list[str]]:
    """Lower-cased, stop-worded, stemmed tokens, the same for documents and queries."""
    import bm25s

    return bm25s.tokenize(texts, stopwords="en", stemmer=stemmer or _stemmer(),
                          return_ids=False, show_progress=False)


@dataclass
class ChunkTable:
    """Column-wise chunk records; row i is document i of the BM25 index."""

    columns: dict[str, list]
    fingerprint: str

    def __len__(self) -> int:
        return len(self.columns["id"])

    def row(self, i: int) -> dict:
        return {name: values[i] for name, values in self.columns.items()}


def record_from_metadata(chunk_id: str, meta: dict, document: str) -> dict:
    """A table row from a Chroma record (its metadata and document text)."""
    return {
        "id": chunk_id, "article_id": meta.get("article_id", ""), "title": meta.get("title", ""),
        "text": document or "", "source": meta.get("source", ""), "url": meta.get("url"),
        "published": meta.get("published"), "published_ts": meta.get("published_ts"),
        "path": meta.get("path"), "chunk_index": meta.get("chunk_index", 0),
    }


_WORD_AT = re.compile(r"\b[A-Za-z][A-Za-z]+\b")


def proper_terms(texts: list[str], stemmer=None) -> list[str]:
    """Terms written capitalised in at least 70% of their mid-sentence uses: names, places, acronyms.

    Questions typed in lower case lose that signal; the corpus keeps it.
    """
    stemmer = stemmer or _stemmer()
    capitalised: dict[str, int] = {}
    total: dict[str, int] = {}
    for text in texts:
        for match in _WORD_AT.finditer(text):
            start = match.start()
            before = text[max(0, start - 2):start]
            if start == 0 or before.strip() in (".", "!", "?", '"', "“", ":") or before.endswith("\n"):
                continue
            word = match.group(0)
            term = stemmer.stemWord(word.lower())
            total[term] = total.get(term, 0) + 1
            if word[0].isupper():
                capitalised[term] = capitalised.get(term, 0) + 1
    return sorted(t for t, n in total.items() if n >= 2 and capitalised.get(t, 0) >= 0.7 * n)


def slug_words(url: str | None, title: str) -> str:
    """Words of a page's URL slug that its title lacks: ".../presidential-memorandum-nspm-17/" → "nspm 17".

    Releases are often known by a name only their address carries (NSPM-17, EO 14335).
    """
    from urllib.parse import urlsplit

    segments = [s for s in urlsplit(url or "").path.split("/") if s]
    if not segments:
        return ""
    have = set(title.lower().split())
    slug = segments[-1].rsplit(".", 1)[0]  # "st_space_61rev03E.pdf" -> "st_space_61rev03E"
    return " ".join(w for w in re.split(r"[-_\W]+", slug.lower()) if w and w not in have)


def build(records: list[dict], fingerprint: str, target: Path) -> None:
    """Index `records` (rows as from `record_from_metadata`) and replace `target` atomically."""
    import bm25s

    records = sorted(records, key=lambda r: (r["article_id"], r["chunk_index"]))
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".bm25-", dir=target.parent))
    doc_freq: dict[str, int] = {}
    if records:
        retriever = bm25s.BM25()
        corpus = tokenize([f"{r['title']}\n{slug_words(r['url'], r['title'])}\n{r['text']}" for r in records])
        retriever.index(corpus, show_progress=False)
        retriever.save(str(staging / "bm25"))
        for tokens in corpus:
            for token in set(tokens):
                doc_freq[token] = doc_freq.get(token, 0) + 1
    columns = {name: [r[name] for r in records] for name in COLUMNS}
    with open(staging / TABLE, "w", encoding="utf-8") as handle:
        json.dump({"fingerprint": fingerprint, "columns": columns, "doc_freq": doc_freq,
                   "proper": proper_terms(columns["text"])}, handle, ensure_ascii=False)
    (staging / FINGERPRINT).write_text(f"{FORMAT}:{fingerprint}")
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}-old-{os.getpid()}")
        os.replace(target, old)
    os.replace(staging, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def build_from_store(store, fingerprint: str, target: Path) -> None:
    """Rebuild the index at `target` from every chunk the vector store holds."""
    records = [record_from_metadata(cid, meta, doc)
               for cid, meta, doc in store.iter_records(["metadatas", "documents"])]
    build(records, fingerprint, target)


def read_fingerprint(target: Path) -> str | None:
    """The fingerprint the index at `target` was built for; None if there is none or it has an older format."""
    try:
        version, _, fingerprint = (Path(target) / FINGERPRINT).read_text().strip().partition(":")
    except OSError:
        return None
    return fingerprint if version == FORMAT and fingerprint else None


class KeywordIndex:
    """A loaded BM25 index plus its chunk table."""

    def __init__(self, target: Path):
        target = Path(target)
        with open(target / TABLE, encoding="utf-8") as handle:
            data = json.load(handle)
        self.table = ChunkTable(data["columns"], data["fingerprint"])
        self.doc_freq: dict[str, int] = data.get("doc_freq", {})
        self.proper: frozenset[str] = frozenset(data.get("proper", ()))
        self.retriever = None
        if len(self.table):
            import bm25s

            self.retriever = bm25s.BM25.load(str(target / "bm25"), mmap=False)
        self._stemmer = _stemmer()
        self.position = {cid: i for i, cid in enumerate(self.table.columns["id"])}
        self._rows_by_article: dict[str, list[int]] | None = None
        self._spelled_out: dict[str, frozenset[str]] = {}

    def terms(self, text: str) -> list[str]:
        """`text` as index terms (stemmed, stop words out), in order."""
        return tokenize([text], self._stemmer)[0]

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term over chunks; unseen terms get the maximum."""
        n = max(len(self.table), 1)
        return math.log(1 + (n - self.doc_freq.get(term, 0) + 0.5) / (self.doc_freq.get(term, 0) + 0.5))

    def rows_with(self, term: str) -> np.ndarray:
        """Rows (chunks) whose title or text holds `term`, straight from the BM25 postings."""
        if self.retriever is None or term not in self.retriever.vocab_dict:
            return np.zeros(0, dtype=np.int64)
        token = self.retriever.vocab_dict[term]
        indptr = self.retriever.scores["indptr"]
        return np.asarray(self.retriever.scores["indices"][indptr[token]:indptr[token + 1]])

    def rows_of(self, article_id: str) -> list[int]:
        """Rows (chunks) of one article, in order."""
        if self._rows_by_article is None:
            self._rows_by_article = {}
            for row, owner in enumerate(self.table.columns["article_id"]):
                self._rows_by_article.setdefault(owner, []).append(row)
        return self._rows_by_article.get(article_id, [])

    def spelled_out(self, acronym: str) -> frozenset[str]:
        """How the articles spell an acronym out where they introduce it: "European Space Agency (ESA)".

        Remembered per acronym: for "NASA" it reads ~6,600 chunks (50 ms).
        """
        if acronym not in self._spelled_out:
            words = r"\W+(?:(?:of|for|and|the|on)\W+)*".join(f"{letter}[a-z]+" for letter in acronym)
            pattern = re.compile(rf"\b({words})\s*\(\s*{re.escape(acronym)}\s*\)")
            texts = self.table.columns["text"]
            self._spelled_out[acronym] = frozenset(
                " ".join(m.split()) for term in self.terms(acronym)
                for row in self.rows_with(term) for m in pattern.findall(texts[row]))
        return self._spelled_out[acronym]

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top-k rows for `query`: `(row, bm25 score)`, best first, zero scores dropped."""
        if self.retriever is None:
            return []
        tokens = [t for t in tokenize([query], self._stemmer)[0] if t in self.retriever.vocab_dict]
        if not tokens:
            return []
        k = min(k, len(self.table))
        docs, scores = self.retriever.retrieve([tokens], k=k, weight_mask=mask,
                                               show_progress=False, n_threads=1)
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0]) if s > 0]
