"""Brings the keyword index in step with the vector store, article by article.

`sync` compares the article versions the index holds (its side table) with those the
store holds, and re-indexes only the difference: a changed or removed article's
documents are deleted by its id, a new or changed article's chunks are read from the
store and added, its capitalisation counts are added (the old version's taken away),
and its near-duplicate group is found again through MinHash band keys kept in the
index (the LSH of `ingest.near_duplicates`, so the groups are those `find_groups` finds).
`build` makes a fresh index from every chunk (first ingest, repair).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

from ingest import keyword_engine as engine
from ingest import keyword_side as side
from ingest.article_texts import ArticleText, article_texts
from ingest.bm25_search import stemmer, tokenize
from ingest.corpus_stats import term_uses
from ingest.near_duplicates import LSH_THRESHOLD, NUM_PERM, SAME_STORY, SEED, jaccard, representative_order
from ingest.near_duplicates import shingle_hashes as _shingles

log = logging.getLogger("spacebot.index")
FORMAT = "6"  # 6: side articles with source and publisher; 5: tantivy segments, side tables with article states
# (3: bm25s files): older ones are rebuilt
FINGERPRINT = "fingerprint.txt"
ARTICLES_PER_BATCH = 200  # articles read from the store per request while re-indexing


@lru_cache(maxsize=1)
def _bands() -> tuple[int, int]:
    """(bands, rows per band) that datasketch's MinHashLSH picks for our threshold and permutations."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=min(LSH_THRESHOLD, SAME_STORY), num_perm=NUM_PERM)
    return lsh.b, lsh.r


def band_keys(shingles) -> list[str]:
    """An article's LSH band keys: articles sharing one are compared exactly (`near_duplicates`)."""
    from datasketch import MinHash

    sketch = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=lambda v: v)
    sketch.update_batch(shingles.tolist())
    bands, rows = _bands()
    values = sketch.hashvalues
    return [f"{b}:{hashlib.sha1(values[b * rows : (b + 1) * rows].tobytes()).hexdigest()[:16]}" for b in range(bands)]


def spelled_out_in(text: str) -> list[str]:
    """Every "European Space Agency (ESA)" in `text`, as "ESA\\tEuropean Space Agency"."""
    import re

    out = []
    for acronym in dict.fromkeys(re.findall(r"\(\s*([A-Z]{2,6})\s*\)", text)):
        words = r"\W+(?:(?:of|for|and|the|on)\W+)*".join(f"{letter}[a-z]+" for letter in acronym)
        pattern = re.compile(rf"\b({words})\s*\(\s*{re.escape(acronym)}\s*\)")
        out.extend(f"{acronym}\t{' '.join(m.split())}" for m in pattern.findall(text))
    return list(dict.fromkeys(out))


def _article(rows: list[dict]) -> ArticleText:
    columns = {name: [r[name] for r in rows] for name in rows[0]}
    return article_texts(columns)[0]


class Updater:
    """One writing session on the keyword index in `folder` (holds tantivy's writer lock)."""

    def __init__(self, folder: Path, create: bool = False, wait_s: float = 0.0):
        self.folder = Path(folder)
        self.chunks = engine.open_index(self.folder / engine.CHUNKS_DIR, engine.chunk_schema(), create)
        self.articles = engine.open_index(self.folder / engine.ARTICLES_DIR, engine.article_schema(), create)
        self.chunk_writer = engine.writer(self.chunks, wait_s)
        self.article_writer = engine.writer(self.articles, wait_s)
        self.db = side.connect(self.folder, write=True)
        self.stem = stemmer()
        self.texts: dict[str, ArticleText] = {}  # articles added in this session, for grouping them
        self.shingles: dict[str, object] = {}
        self.bands: dict[str, list[str]] = {}

    def indexed_versions(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT article_id, hash FROM articles"))

    # -- reading what is indexed ------------------------------------------------------------------
    def stored_rows(self, article_ids: Iterable[str]) -> dict[str, list[dict]]:
        """The table rows the index holds for these articles (committed state), in chunk order."""
        from ingest.keyword_index import fetch_rows

        self.chunks.reload()
        return fetch_rows(self.chunks.searcher(), self.chunks.schema, "article_id", list(article_ids))

    # -- writing ------------------------------------------------------------------------------------
    def remove(self, article_ids: list[str], old_rows: dict[str, list[dict]]) -> set[str]:
        """Delete these articles' documents and counts; returns the other members of their groups."""
        orphans: set[str] = set()
        for article_id in article_ids:
            orphans.update(side.members(self.db, article_id))
            self.chunk_writer.delete_documents_by_term("article_id", article_id)
            self.article_writer.delete_documents_by_term("article_id", article_id)
            rows = old_rows.get(article_id)
            if rows:
                side.add_uses(self.db, term_uses([r["text"] for r in rows], self.stem), sign=-1)
            self.db.execute("DELETE FROM articles WHERE article_id = ?", (article_id,))
        for article_id in article_ids:
            side.set_group(self.db, [article_id])
        return orphans - set(article_ids)

    def add(self, rows: list[dict], version: str) -> None:
        """Index one article (its table rows, any order) at `version` (its content hash)."""
        from ingest.chunk_record import TABLE_FIELDS
        from ingest.keyword_index import indexed_text

        n_chunks, origin = rows[0].get("n_chunks", len(rows)), rows[0].get("origin", "")
        rows = sorted(({k: r[k] for k in TABLE_FIELDS} for r in rows), key=lambda r: r["chunk_index"])
        terms = tokenize([indexed_text(r) for r in rows], self.stem)
        article = _article(rows)
        self.texts[article.article_id] = article
        self.shingles[article.article_id] = _shingles(article.text)
        bands = self.bands[article.article_id] = band_keys(self.shingles[article.article_id])
        for i, (row, row_terms) in enumerate(zip(rows, terms)):
            self.chunk_writer.add_document(
                engine.chunk_document(row, row_terms, spelled_out_in(row["text"]), bands if i == 0 else [])
            )
        from ingest.keyword_index import article_indexed_text

        first = rows[0]
        whole = tokenize([article_indexed_text(article)], self.stem)[0]
        self.article_writer.add_document(
            engine.article_document(article.article_id, first["source"], first["published_ts"], whole)
        )
        side.add_uses(self.db, term_uses([r["text"] for r in rows], self.stem))
        self.db.execute(
            "INSERT OR REPLACE INTO articles (article_id, hash, url, n_chunks, origin, path, chunk_ids, source, "
            "publisher) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                article.article_id,
                version,
                first["url"],
                n_chunks,
                origin,
                first["path"],
                json.dumps([r["id"] for r in rows]),
                first["source"] or "",
                first.get("publisher") or "",
            ),
        )

    def commit(self) -> None:
        """Make what was written visible to readers (new segments; merges finish before returning)."""
        self.chunk_writer.commit()
        self.article_writer.commit()
        self.chunk_writer.wait_merging_threads()
        self.article_writer.wait_merging_threads()

    # -- near-duplicate groups (after commit: they search the committed index) ----------------------
    def regroup(self, orphans: set[str], added: list[str]) -> None:
        """Split the groups `orphans` were left in as the exact Jaccard says; group each added article."""
        self.chunks.reload()
        searcher = self.chunks.searcher()
        texts, shingles = self.texts, self.shingles

        def article(article_id: str) -> ArticleText | None:
            if article_id not in texts:
                from ingest.keyword_index import fetch_rows

                rows = fetch_rows(searcher, self.chunks.schema, "article_id", [article_id]).get(article_id)
                if not rows:
                    return None
                texts[article_id] = _article(rows)
            return texts[article_id]

        def shingled(article_id: str):
            if article_id not in shingles:
                shingles[article_id] = _shingles(article(article_id).text)
            return shingles[article_id]

        if orphans:
            from ingest.near_duplicates import find_groups

            for orphan in orphans:  # out of the group it was left in; back in one if still a copy
                side.set_group(self.db, [orphan])
            left = [a for a in (article(o) for o in sorted(orphans)) if a is not None]
            for group in find_groups(left):
                side.set_group(self.db, group)
        for article_id in added:
            if article(article_id) is None:
                continue
            bands = self.bands.get(article_id) or band_keys(shingled(article_id))
            found = searcher.search(engine.band_query(self.chunks.schema, bands), limit=10_000, count=False).hits
            matches = set()
            for _, address in found:
                other = fetch_article_id(searcher, address)
                if other != article_id and other not in matches and article(other) is not None:
                    if jaccard(shingled(article_id), shingled(other)) >= SAME_STORY:
                        matches.add(other)
            if matches:
                group = {article_id}
                for other in matches:
                    group.update(side.members(self.db, other))
                ordered = representative_order([a for a in map(article, sorted(group)) if a is not None])
                side.set_group(self.db, [a.article_id for a in ordered])

    def close(self) -> None:
        self.db.close()
        del self.chunk_writer, self.article_writer  # releases tantivy's writer locks


def fetch_article_id(searcher, address) -> str:
    return json.loads(searcher.doc(address)["row"][0])["article_id"]


def from_store(store):
    """`apply`'s reader for a vector store: article id -> its chunks' table rows."""

    def read(article_ids: list[str]) -> dict[str, list[dict]]:
        return {
            a: [{**r.table_row(), "n_chunks": r.n_chunks, "origin": r.origin} for r in records]
            for a, records in store.chunks_of(article_ids).items()
        }

    return read


def apply(updater: Updater, read, changed: list[str], removed: list[str], versions: dict[str, str]) -> None:
    """Re-index `changed` articles (their rows from `read(ids)`) and drop `removed` ones, in one commit."""
    gone = [*changed, *removed]
    old_rows = updater.stored_rows(gone) if gone and updater.indexed_versions() else {}
    updater.db.execute("BEGIN")
    try:
        orphans = updater.remove(gone, old_rows)
        added = []
        for start in range(0, len(changed), ARTICLES_PER_BATCH):
            part = changed[start : start + ARTICLES_PER_BATCH]
            for article_id, rows in read(part).items():
                updater.add(rows, versions[article_id])
                added.append(article_id)
        updater.commit()
        updater.regroup(orphans - set(added), added)
        updater.db.execute("COMMIT")
    except BaseException:
        updater.db.execute("ROLLBACK")
        raise


def write_fingerprint(folder: Path, fingerprint: str) -> None:
    from ingest.derived_files import write_small_file

    write_small_file(Path(folder) / FINGERPRINT, f"{FORMAT}:{fingerprint}")


def sync(store, states: dict, fingerprint: str, folder: Path, wait_s: float = 0.0) -> tuple[int, int]:
    """Update the index at `folder` to hold exactly the complete articles of `states`.

    Returns (articles re-indexed, articles dropped). Raises `engine.IndexBusy` when another
    process is writing it.
    """
    from ingest.derived_files import update_manifest

    versions = {a: s.hash for a, s in states.items() if s.hash}
    updater = Updater(folder, wait_s=wait_s)
    try:
        indexed = updater.indexed_versions()
        changed = sorted(a for a, v in versions.items() if indexed.get(a) != v)
        removed = sorted(set(indexed) - set(versions))
        if changed or removed:
            apply(updater, from_store(store), changed, removed, versions)
    finally:
        updater.close()
    write_fingerprint(folder, fingerprint)
    update_manifest(Path(folder))
    return len(changed), len(removed)


def build(store, states: dict, fingerprint: str, target: Path) -> None:
    """A fresh index of every article in `store` (one version each), swapped in for `target` atomically."""
    versions = {a: s.hash for a, s in states.items() if s.hash}
    build_with(from_store(store), versions, fingerprint, target)


def build_with(read, versions: dict[str, str], fingerprint: str, target: Path) -> None:
    """A fresh index of the articles `versions` names (rows from `read(ids)`), swapped in atomically."""
    from ingest.derived_files import replace_folder

    with replace_folder(Path(target)) as staging:
        updater = Updater(staging, create=True)
        try:
            apply(updater, read, sorted(versions), [], versions)
        finally:
            updater.close()
        write_fingerprint(staging, fingerprint)


def read_fingerprint(folder: Path) -> str | None:
    """The fingerprint the index at `folder` was last brought in step with; None if none or older format."""
    try:
        version, _, value = (Path(folder) / FINGERPRINT).read_text().strip().partition(":")
    except (OSError, UnicodeDecodeError):
        return None
    return value if version == FORMAT and value else None
