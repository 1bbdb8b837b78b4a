"""The vector store: one Chroma collection of chunks (embedded on disk, or a Chroma server)."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from ingest.article_state import ArticleState, article_states
from ingest.chunk_record import ChunkRecord
from ingest.settings import Settings

PAGE = 2000


class StoreUnavailable(Exception):
    """The vector store cannot be reached or opened; the message is one clear line."""


def _client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(
                host=settings.chroma_host, port=settings.chroma_port, ssl=settings.chroma_ssl, settings=chroma_settings
            )
        except Exception as exc:  # noqa: BLE001  (chromadb raises ValueError/ConnectError here)
            raise StoreUnavailable(
                f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} "
                f"(CHROMA_HOST/CHROMA_PORT): {_first_line(exc)}"
            ) from None
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    except Exception as exc:  # noqa: BLE001  (any failure to open is one clear line, whatever its type)
        if "readonly" in str(exc).replace(" ", "").lower():  # SQLite: "attempt to write a readonly database"
            raise StoreUnavailable(
                f"{settings.chroma_dir / 'chroma.sqlite3'} needs write access: the embedded Chroma opens it "
                "for writing even to answer questions"
            ) from None
        raise StoreUnavailable(
            f"cannot open the index at {settings.chroma_dir}: {_first_line(exc)}; move that folder aside "
            "and run `spacebot ingest` again to rebuild it"
        ) from None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0][:300]


# HNSW's search breadth. Chroma's default (100) found 93% of the true 100 nearest chunks on the
# full corpus, and a different 93% from one process to the next; 1000 finds 99.96% for ~2 ms more.
SEARCH_EF = 1000


class ChunkStore:
    """Chunks with their embeddings and metadata, in one Chroma collection.

    Every chunk's metadata names its article, position, the article's chunk
    count and content hash, so the store alone tells which articles are whole.
    """

    def __init__(self, settings: Settings, create: bool = True):
        self.settings = settings
        self.location = settings.index_location
        client = _client(settings)
        try:
            if create:
                self.collection = client.get_or_create_collection(
                    settings.collection,
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine", "ef_search": SEARCH_EF}},
                )
                hnsw = (self.collection.configuration_json or {}).get("hnsw") or {}
                if hnsw.get("ef_search", 0) < SEARCH_EF:  # a collection made by an earlier version
                    self.collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})
            else:
                self.collection = client.get_collection(settings.collection, embedding_function=None)
            self.max_batch = client.get_max_batch_size()
        except Exception as exc:  # noqa: BLE001  (chromadb's errors have no common base class)
            if not create and "does not exist" in str(exc).lower():
                raise StoreUnavailable(f"no index yet at {self.location}: run `spacebot ingest` first") from None
            raise StoreUnavailable(f"the index at {self.location} is unavailable: {_first_line(exc)}") from None

    def _guard(self, action: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except StoreUnavailable:
            raise
        except Exception as exc:  # noqa: BLE001  (chromadb's errors have no common base class)
            raise StoreUnavailable(f"{action} failed at {self.location}: {_first_line(exc)}") from None

    def count(self) -> int:
        return self._guard("counting chunks", self.collection.count)

    def iter_records(self, include: list[str]) -> Iterator[tuple[str, dict, str | None]]:
        """Every chunk as `(id, metadata, document-or-None)`, paged."""
        offset = 0
        while True:
            page = self._guard("reading the index", self.collection.get, include=include, limit=PAGE, offset=offset)
            ids = page["ids"]
            if not ids:
                return
            docs = page.get("documents") or [None] * len(ids)
            metas = page.get("metadatas") or [{}] * len(ids)
            for chunk_id, meta, doc in zip(ids, metas, docs):
                yield chunk_id, meta or {}, doc
            offset += len(ids)

    def iter_chunks(self, with_text: bool = True) -> Iterator[ChunkRecord]:
        """Every chunk as a `ChunkRecord` (text left empty when `with_text` is False: faster)."""
        include = ["metadatas", "documents"] if with_text else ["metadatas"]
        for chunk_id, meta, doc in self.iter_records(include):
            yield ChunkRecord.from_chroma(chunk_id, meta, doc)

    def chunks_of(self, article_ids: list[str]) -> dict[str, list[ChunkRecord]]:
        """Every chunk of these articles, by article (one request per `PAGE` chunks)."""
        out: dict[str, list[ChunkRecord]] = {}
        if not article_ids:
            return out
        where = {"article_id": {"$in": list(article_ids)}}
        offset = 0
        while True:
            page = self._guard(
                "reading the index",
                self.collection.get,
                where=where,
                include=["metadatas", "documents"],
                limit=PAGE,
                offset=offset,
            )
            if not page["ids"]:
                return out
            for chunk_id, meta, doc in zip(page["ids"], page["metadatas"], page["documents"]):
                record = ChunkRecord.from_chroma(chunk_id, meta, doc)
                out.setdefault(record.article_id, []).append(record)
            offset += len(page["ids"])

    def article_states(self) -> dict[str, ArticleState]:
        """Per article: which chunk positions and versions the index holds."""
        return article_states(self.iter_chunks(with_text=False))

    def write(self, records: list[ChunkRecord], vectors: np.ndarray) -> None:
        """Upsert whole articles' chunks, `max_batch` at a time (one call for a normal batch)."""
        for start in range(0, len(records), self.max_batch):
            part = records[start : start + self.max_batch]
            self.upsert(
                [r.id for r in part],
                vectors[start : start + self.max_batch],
                [r.text for r in part],
                [r.metadata() for r in part],
            )

    def upsert(self, ids: list[str], embeddings: np.ndarray, documents: list[str], metadatas: list[dict]) -> None:
        """Write chunks in one call per batch (whole articles only, never half of one)."""
        self._guard(
            "writing to the index",
            self.collection.upsert,
            ids=ids,
            embeddings=embeddings,
            documents=documents,
            metadatas=metadatas,
        )

    def delete_ids(self, ids: list[str]) -> None:
        for start in range(0, len(ids), PAGE):
            self._guard("deleting from the index", self.collection.delete, ids=ids[start : start + PAGE])

    def fingerprint(self) -> str | None:
        """The fingerprint of the contents the keyword index was last built for (collection metadata)."""
        return (self.collection.metadata or {}).get("fingerprint")

    def set_fingerprint(self, value: str) -> None:
        """Record which contents the keyword index was built for (read by the query side)."""
        self._set_metadata(fingerprint=value)

    def embed_model(self) -> str:
        """The embedding model whose vectors the collection holds (indexes from before the choice: minilm)."""
        return (self.collection.metadata or {}).get("embed_model", "minilm")

    def record_model(self, key: str) -> None:
        """Say which model's vectors are (being) written; an article re-embedded by it replaces the old ones."""
        self._set_metadata(embed_model=key)

    def _set_metadata(self, **values) -> None:
        current = dict(self.collection.metadata or {})
        if any(current.get(k) != v for k, v in values.items()):
            self._guard("updating the index metadata", self.collection.modify, metadata={**current, **values})

    def query(self, embedding: np.ndarray, k: int, where: dict | None = None) -> list[tuple[str, float]]:
        """Nearest chunks to one unit vector: `(chunk id, cosine similarity)`, best first.

        Ties (the same sentence in several articles) are ordered by chunk id: HNSW returns
        them in any order, and answers must not change from one run to the next.
        """
        return [(record.id, score) for record, score in self.query_records(embedding, k, where, with_text=False)]

    def query_records(
        self, embedding: np.ndarray, k: int, where: dict | None = None, with_text: bool = True
    ) -> list[tuple[ChunkRecord, float]]:
        """`query`, each hit as its whole `ChunkRecord` (text and metadata in the same reply)."""
        include = ["distances", "metadatas", "documents"] if with_text else ["distances"]
        result = self._guard(
            "searching the index",
            self.collection.query,
            query_embeddings=[embedding],
            n_results=k,
            where=where,
            include=include,
        )
        ids = result["ids"][0]
        metas = (result.get("metadatas") or [None])[0] or [None] * len(ids)
        docs = (result.get("documents") or [None])[0] or [None] * len(ids)
        hits = [
            (ChunkRecord.from_chroma(cid, meta, doc), 1.0 - float(d))
            for cid, meta, doc, d in zip(ids, metas, docs, result["distances"][0])
        ]
        return sorted(hits, key=lambda hit: (-hit[1], hit[0].id))
