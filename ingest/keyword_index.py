"""The keyword index kept beside the vector store: BM25 search, corpus statistics and the chunk table.

It is derived state: built from the chunks Chroma holds (`build_from_store`),
written to one folder, and rebuilt whenever its fingerprint differs from the
store's contents. The chunk table lets the query side turn chunk ids (from
either search) into passages without a round trip to Chroma.

It also holds what is derived from whole articles (put back together from their chunks):
BM25 over each article's whole text, and the groups of near-duplicate articles
(`ingest.near_duplicates`).

On disk (`SPACEBOT_DATA_DIR/bm25/`): `chunks.json` (table, statistics), `fingerprint.txt`,
bm25s's own files under `bm25/` (chunks) and `articles/` (whole articles, ids in
`articles.json`), and `groups.json`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.article_texts import ArticleText, article_texts
from ingest.bm25_search import Bm25Search, stemmer, tokenize
from ingest.chunk_record import TABLE_FIELDS
from ingest.corpus_stats import CorpusStats
from ingest.near_duplicates import DuplicateGroups, find_groups, write_groups

TABLE = "chunks.json"
FINGERPRINT = "fingerprint.txt"
BM25_DIR = "bm25"
ARTICLES_DIR = "articles"
ARTICLE_IDS = "articles.json"
FORMAT = "3"  # bump when what is indexed changes (2: URL slug words; 3: articles, groups): old ones are rebuilt
COLUMNS = TABLE_FIELDS  # the table's columns are `ChunkRecord` fields


@dataclass
class ChunkTable:
    """Column-wise chunk rows (`ChunkRecord.table_row`); row i is document i of the BM25 index."""

    columns: dict[str, list]
    fingerprint: str

    def __len__(self) -> int:
        return len(self.columns["id"])

    def row(self, i: int) -> dict:
        return {name: values[i] for name, values in self.columns.items()}


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


def indexed_text(row: dict) -> str:
    """What BM25 indexes for a chunk: its title, the URL slug words the title lacks, its text."""
    return f"{row['title']}\n{slug_words(row['url'], row['title'])}\n{row['text']}"


def article_indexed_text(article: ArticleText) -> str:
    """What article-level BM25 indexes: the title, the URL slug words the title lacks, the whole text."""
    return f"{article.title}\n{slug_words(article.url, article.title)}\n{article.text}"


def build(rows: list[dict], fingerprint: str, target: Path) -> None:
    """Index `rows` (`ChunkRecord.table_row()` dicts) and replace the folder `target` atomically."""
    from ingest.derived_files import replace_folder

    rows = sorted(rows, key=lambda r: (r["article_id"], r["chunk_index"]))
    columns = {name: [r[name] for r in rows] for name in COLUMNS}
    stem = stemmer()
    corpus = tokenize([indexed_text(r) for r in rows], stem)
    stats = CorpusStats.of(corpus, columns["text"], stem)
    articles = article_texts(columns)
    with replace_folder(Path(target)) as staging:
        Bm25Search.build(corpus).save(staging / BM25_DIR)
        Bm25Search.build(tokenize([article_indexed_text(a) for a in articles], stem)).save(staging / ARTICLES_DIR)
        (staging / ARTICLE_IDS).write_text(json.dumps([a.article_id for a in articles], ensure_ascii=False))
        write_groups(find_groups(articles), staging)
        with open(staging / TABLE, "w", encoding="utf-8") as handle:
            json.dump(
                {
                    "fingerprint": fingerprint,
                    "columns": columns,
                    "doc_freq": stats.doc_freq,
                    "proper": sorted(stats.proper),
                },
                handle,
                ensure_ascii=False,
            )
        (staging / FINGERPRINT).write_text(f"{FORMAT}:{fingerprint}")


def build_from_store(store, fingerprint: str, target: Path) -> None:
    """Rebuild the index at `target` from every chunk the vector store holds."""
    build([record.table_row() for record in store.iter_chunks()], fingerprint, target)


def read_fingerprint(target: Path) -> str | None:
    """The fingerprint the index at `target` was built for; None if there is none or it has an older format."""
    try:
        version, _, fingerprint = (Path(target) / FINGERPRINT).read_text().strip().partition(":")
    except (OSError, UnicodeDecodeError):
        return None
    return fingerprint if version == FORMAT and fingerprint else None


class KeywordIndex:
    """What the answering side reads: the chunk table, BM25 search and the corpus statistics.

    A thin composition: `search`/`rows_with` go to `Bm25Search`, `idf`/`doc_freq`/`proper`
    to `CorpusStats`; `rows_of` and `spelled_out` read the table.
    """

    def __init__(self, target: Path):
        target = Path(target)
        with open(target / TABLE, encoding="utf-8") as handle:
            data = json.load(handle)
        self.table = ChunkTable(data["columns"], data["fingerprint"])
        self.stats = CorpusStats(len(self.table), data.get("doc_freq", {}), frozenset(data.get("proper", ())))
        self.bm25 = Bm25Search.load(target / BM25_DIR, len(self.table))
        self.article_ids: list[str] = json.loads((target / ARTICLE_IDS).read_text(encoding="utf-8"))
        self.article_bm25 = Bm25Search.load(target / ARTICLES_DIR, len(self.article_ids))
        self.groups = DuplicateGroups.load(target)
        self._stemmer = stemmer()
        self.position = {cid: i for i, cid in enumerate(self.table.columns["id"])}
        self._rows_by_article: dict[str, list[int]] | None = None
        self._spelled_out: dict[str, frozenset[str]] = {}

    @property
    def doc_freq(self) -> dict[str, int]:
        return self.stats.doc_freq

    @property
    def proper(self) -> frozenset[str]:
        return self.stats.proper

    def idf(self, term: str) -> float:
        return self.stats.idf(term)

    def terms(self, text: str) -> list[str]:
        """`text` as index terms (stemmed, stop words out), in order."""
        return tokenize([text], self._stemmer)[0]

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Top-k rows for `query`: `(row, bm25 score)`, best first, zero scores dropped."""
        return self.bm25.search(self.terms(query), k, mask)

    def search_articles(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """Top-k whole articles for `query` by BM25 over their whole text: `(article id, score)`, best first.

        `mask` is over chunk rows (as for `search`); an article counts when its first row is kept.
        """
        article_mask = None
        if mask is not None:
            article_mask = np.array([mask[self.rows_of(a)[0]] for a in self.article_ids], dtype=np.float32)
        hits = self.article_bm25.search(self.terms(query), k, article_mask)
        return [(self.article_ids[i], score) for i, score in hits]

    def chunk_scores(self, query: str) -> np.ndarray:
        """BM25 score of every chunk row for `query` (zeros when none of its terms is indexed)."""
        return self.bm25.scores(self.terms(query))

    def rows_with(self, term: str) -> np.ndarray:
        """Rows (chunks) whose title, slug or text holds `term`."""
        return self.bm25.rows_with(term)

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
                " ".join(m.split())
                for term in self.terms(acronym)
                for row in self.rows_with(term)
                for m in pattern.findall(texts[row])
            )
        return self._spelled_out[acronym]
