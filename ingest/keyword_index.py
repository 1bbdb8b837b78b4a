"""The keyword index kept beside the vector store, as the query side reads it: BM25 search,
corpus statistics, near-duplicate groups, and chunk rows fetched per question.

It is derived state, kept in step with Chroma article by article (`ingest.keyword_update`)
in one folder (`SPACEBOT_DATA_DIR/bm25/`): two tantivy indexes (`chunks/`: one document per
chunk, its table row stored; `articles/`: one per whole article), small SQLite tables
(`side.sqlite3`: indexed versions, capitalisation counts, groups), `fingerprint.txt` and a
manifest of the immutable segment files. A process opens it (memory-mapped segments, an
SQLite connection) and reads only what a question needs: nothing is loaded whole.

A "row" is a chunk id: `table.columns[name][chunk_id]` is that chunk's field, fetched from
the index (or taken from a Chroma reply) and kept in a bounded cache.
"""

from __future__ import annotations

import json
import re
import threading
from collections import OrderedDict
from collections.abc import Iterable
from pathlib import Path

from ingest import keyword_engine as engine
from ingest import keyword_side as side
from ingest.article_texts import ArticleText
from ingest.bm25_search import stemmer, tokenize
from ingest.chunk_record import TABLE_FIELDS
from ingest.keyword_update import FINGERPRINT, FORMAT, read_fingerprint  # noqa: F401  (read elsewhere)

COLUMNS = TABLE_FIELDS  # a row's fields are `ChunkRecord` fields
# Rows kept in memory per process: a question reads ~300 (two candidate lists, the top articles'
# chunks); 20,000 rows of ~1.5 kB is ~30 MB whatever the index's size.
ROW_CACHE = 20_000


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


def fetch_rows(searcher, schema, field: str, values: list[str]) -> dict[str, list[dict]]:
    """Stored rows of the chunk documents whose `field` ("id" or "article_id") is one of `values`,
    grouped by that value, each group in chunk order."""
    from tantivy import Query

    out: dict[str, list[dict]] = {}
    for start in range(0, len(values), 1000):
        part = values[start : start + 1000]
        query = Query.term_set_query(schema, field, part)
        limit = max(1, searcher.search(query, limit=1, count=True).count)
        for _, address in searcher.search(query, limit=limit, count=False).hits:
            row = json.loads(searcher.doc(address)["row"][0])
            out.setdefault(row[field], []).append(row)
    for rows in out.values():
        rows.sort(key=lambda r: r["chunk_index"])
    return out


def build(rows: list[dict], fingerprint: str, target: Path) -> None:
    """Make the index at `target` afresh from table rows (`ChunkRecord.table_row()` dicts)."""
    from ingest.keyword_update import build_with

    by_article: dict[str, list[dict]] = {}
    for row in rows:
        by_article.setdefault(row["article_id"], []).append(row)
    build_with(lambda ids: {a: by_article[a] for a in ids}, {a: fingerprint for a in by_article}, fingerprint, target)


def build_from_store(store, fingerprint: str, target: Path) -> None:
    """Make the index at `target` afresh from every chunk the vector store holds (first ingest, repair)."""
    from ingest.keyword_update import build

    build(store, store.article_states(), fingerprint, target)


class Column:
    """One field of every row, read by chunk id (iterating it reads the whole index: evaluation only)."""

    def __init__(self, index: KeywordIndex, name: str):
        self._index, self._name = index, name

    def __getitem__(self, chunk_id: str | int):
        if isinstance(chunk_id, int):  # position in `all_rows()` order (evaluation scripts that enumerate)
            return self._index.all_rows()[chunk_id][self._name]
        if self._name == "id":
            return chunk_id
        if self._name == "article_id":
            return chunk_id.rsplit("::", 1)[0]
        return self._index.row(chunk_id)[self._name]

    def __iter__(self):
        return (row[self._name] for row in self._index.all_rows())

    def __len__(self) -> int:
        return len(self._index)


class LazyTable:
    """The chunk table's reading interface (`columns[name][row]`, `row(row)`, `len`) over the index."""

    def __init__(self, index: KeywordIndex):
        self._index = index
        self.columns = {name: Column(index, name) for name in COLUMNS}

    def __len__(self) -> int:
        return len(self._index)

    def row(self, chunk_id: str | int) -> dict:
        if isinstance(chunk_id, int):  # position in `all_rows()` order (evaluation scripts)
            return self._index.all_rows()[chunk_id]
        return self._index.row(chunk_id)


class _DocFreq:
    def __init__(self, index: KeywordIndex):
        self._index = index

    def get(self, term: str, default: int = 0) -> int:
        return self._index.searcher().doc_freq(engine.BODY, term) or default


class _Proper:
    def __init__(self, index: KeywordIndex):
        self._index = index

    def __contains__(self, term: str) -> bool:
        return side.is_proper(self._index.db, term)


class KeywordIndex:
    """What the answering side reads: BM25 search, corpus statistics, groups and chunk rows."""

    def __init__(self, target: Path):
        target = Path(target)
        self.target = target
        self.chunks = engine.open_index(target / engine.CHUNKS_DIR, engine.chunk_schema())
        self.articles = engine.open_index(target / engine.ARTICLES_DIR, engine.article_schema())
        self.db = side.connect(target)
        self.db.execute("SELECT COUNT(*) FROM articles").fetchone()  # fails now on a damaged file
        self.fingerprint = read_fingerprint(target)
        self.table = LazyTable(self)
        self.doc_freq = _DocFreq(self)
        self.proper = _Proper(self)
        self.groups = side.SideGroups(self.db)
        self._stemmer = stemmer()
        self._cache: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()
        self._all: list[dict] | None = None
        self._spelled_out: dict[str, frozenset[str]] = {}
        self._stamp: int | None = None
        self._follow_commits()  # the state just opened: later commits reload

    # -- the index -----------------------------------------------------------------------------
    def searcher(self):
        """The chunks' latest committed state: the reader reloads when a writer (this process or
        another) has committed since (one `stat` per call)."""
        self._follow_commits()
        return self.chunks.searcher()

    def _follow_commits(self) -> None:
        try:
            stamp = (self.target / engine.CHUNKS_DIR / "meta.json").stat().st_mtime_ns
        except OSError:
            return
        if stamp != self._stamp:
            self.chunks.reload()
            self.articles.reload()
            self._stamp = stamp
            self._spelled_out.clear()
            with self._lock:  # an article re-indexed keeps its chunk ids: drop what may be stale
                self._cache.clear()

    def __len__(self) -> int:
        return self.searcher().num_docs

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term over chunks (`CorpusStats.idf`'s formula)."""
        import math

        n = max(len(self), 1)
        df = self.doc_freq.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def terms(self, text: str) -> list[str]:
        """`text` as index terms (stemmed, stop words out), in order."""
        return tokenize([text], self._stemmer)[0]

    # -- rows ----------------------------------------------------------------------------------
    def remember(self, rows: Iterable[dict]) -> None:
        """Keep rows another source returned (Chroma's reply to a dense search)."""
        with self._lock:
            for row in rows:
                self._cache[row["id"]] = row
                self._cache.move_to_end(row["id"])
            while len(self._cache) > ROW_CACHE:
                self._cache.popitem(last=False)

    def rows(self, chunk_ids: list[str]) -> list[dict]:
        """The rows of these chunks (fetched in one request for those not cached); unknown ids left out."""
        with self._lock:
            missing = [c for c in dict.fromkeys(chunk_ids) if c not in self._cache]
        if missing:
            found = fetch_rows(self.searcher(), self.chunks.schema, "id", missing)
            self.remember(r for rows in found.values() for r in rows)
        with self._lock:
            return [self._cache[c] for c in chunk_ids if c in self._cache]

    def row(self, chunk_id: str) -> dict:
        rows = self.rows([chunk_id])
        if not rows:
            raise KeyError(chunk_id)
        return rows[0]

    def rows_of(self, article_id: str) -> list[str]:
        """Rows (chunk ids) of one article, in order."""
        found = fetch_rows(self.searcher(), self.chunks.schema, "article_id", [article_id]).get(article_id, [])
        self.remember(found)
        return [r["id"] for r in found]

    def sources(self) -> list[str]:
        """The source names of the indexed articles, sorted."""
        return side.sources(self.db)

    def publisher_at(self, address: str) -> str | None:
        """The stored publisher of the article at `address` (its URL or id), if it has one."""
        return side.publisher_at(self.db, address)

    def article_url(self, article_id: str) -> str | None:
        found = self.db.execute("SELECT url FROM articles WHERE article_id = ?", (article_id,)).fetchone()
        return found[0] if found else None

    def all_rows(self) -> list[dict]:
        """Every row, by article and position (evaluation and benchmarks; it reads the whole index)."""
        if self._all is None:
            from tantivy import Query

            searcher = self.searcher()
            hits = searcher.search(Query.all_query(), limit=max(1, searcher.num_docs), count=False).hits
            rows = [json.loads(searcher.doc(a)["row"][0]) for _, a in hits]
            self._all = sorted(rows, key=lambda r: (r["article_id"], r["chunk_index"]))
        return self._all

    # -- search --------------------------------------------------------------------------------
    def _search(self, index, query, k: int) -> tuple[object, list[tuple[float, object]]]:
        """(the searcher, its positive-score hits): documents are read from the same searcher, so a
        commit landing meanwhile cannot shift the addresses."""
        self._follow_commits()
        searcher = index.searcher()
        return searcher, [(s, a) for s, a in searcher.search(query, limit=max(1, k), count=False).hits if s > 0]

    def search(self, query: str, k: int, filters: engine.Filter | None = None) -> list[tuple[str, float]]:
        """Top-k rows for `query`: `(chunk id, bm25 score)`, best first, zero scores dropped."""
        terms = self.terms(query)
        if not terms:
            return []
        searcher, hits = self._search(self.chunks, engine.terms_query(self.chunks.schema, terms, filters), k)
        rows = [json.loads(searcher.doc(a)["row"][0]) for _, a in hits]
        self.remember(rows)
        return [(row["id"], float(score)) for row, (score, _) in zip(rows, hits)]

    def search_articles(self, query: str, k: int, filters: engine.Filter | None = None) -> list[tuple[str, float]]:
        """Top-k whole articles for `query` by BM25 over their whole text: `(article id, score)`, best first."""
        terms = self.terms(query)
        if not terms:
            return []
        searcher, hits = self._search(self.articles, engine.terms_query(self.articles.schema, terms, filters), k)
        return [(searcher.doc(a)["article_id"][0], float(s)) for s, a in hits]

    def best_chunk(self, query: str, article_id: str) -> str | None:
        """The article's chunk with the highest BM25 score for `query` (its first chunk on a tie)."""
        from tantivy import Occur, Query

        within = [(Occur.Must, Query.term_query(self.chunks.schema, "article_id", article_id))]
        terms = self.terms(query)
        searcher, hits = self._search(self.chunks, engine.terms_query(self.chunks.schema, terms, None, within), 1000)
        if not hits:
            rows = self.rows_of(article_id)
            return rows[0] if rows else None
        scored = [(s, json.loads(searcher.doc(a)["row"][0])) for s, a in hits]
        self.remember(r for _, r in scored)
        return max(scored, key=lambda sr: (sr[0], -sr[1]["chunk_index"]))[1]["id"]

    def rows_with(self, term: str) -> list[str]:
        """Rows (chunk ids) whose title, slug or text holds `term` (benchmarks: it may be many)."""
        from tantivy import Query

        query = Query.term_query(self.chunks.schema, engine.BODY, term)
        searcher = self.searcher()
        limit = max(1, searcher.search(query, limit=1, count=True).count)
        return [json.loads(searcher.doc(a)["row"][0])["id"] for _, a in searcher.search(query, limit=limit).hits]

    def mentions(self, term: str, article_ids: Iterable[str]) -> bool:
        """Whether any chunk of these articles holds `term` (in its title, slug or text)."""
        from tantivy import Occur, Query

        schema = self.chunks.schema
        query = Query.boolean_query(
            [
                (Occur.Must, Query.term_query(schema, engine.BODY, term)),
                (Occur.Must, Query.term_set_query(schema, "article_id", list(article_ids))),
            ]
        )
        return self.searcher().search(query, limit=1, count=True).count > 0

    def spelled_out(self, acronym: str) -> frozenset[str]:
        """How the articles spell an acronym out where they introduce it: "European Space Agency (ESA)".

        Each chunk's spellings are found when it is indexed (`keyword_update.spelled_out_in`);
        here they are looked up by the acronym, one term-dictionary walk.
        """
        if acronym not in self._spelled_out:
            found = frozenset()
            if self.terms(acronym):  # an acronym that is a stop word ("US", "IT") is never looked up
                prefix = f"{acronym}\t"
                walk = self.searcher().terms_with_prefix("spelled", prefix)
                found = frozenset(term[len(prefix) :] for term, count in walk if count > 0)
            self._spelled_out[acronym] = found
        return self._spelled_out[acronym]


def article_of(chunk_id: str) -> str:
    """The article a chunk id names (`<article id>::<position>`)."""
    return chunk_id.rsplit("::", 1)[0]
