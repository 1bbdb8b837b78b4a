"""The vector store: one Chroma collection of chunks (embedded on disk, or a Chroma server)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from ingest.settings import Settings

PAGE = 2000


class StoreUnavailable(Exception):
    """The vector store cannot be reached or opened; the message is one clear line."""


@dataclass
class ArticleState:
    """What the index holds for one article, read back from its chunks' metadata."""

    hashes: set[str] = field(default_factory=set)
    indices: set[int] = field(default_factory=set)
    n_chunks: int = 0
    origin: str = ""
    path: str | None = None
    chunk_ids: set[str] = field(default_factory=set)

    @property
    def complete(self) -> bool:
        """Every chunk present exactly once, all from the same version of the article."""
        return len(self.hashes) == 1 and self.indices == set(range(self.n_chunks))

    @property
    def hash(self) -> str | None:
        return next(iter(self.hashes)) if len(self.hashes) == 1 else None


def _client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_host:
        try:
            return chromadb.HttpClient(host=settings.chroma_host, port=settings.chroma_port,
                                       ssl=settings.chroma_ssl, settings=chroma_settings)
        except Exception as exc:  # chromadb raises ValueError/ConnectError here
            raise StoreUnavailable(
                f"cannot reach the Chroma server at {settings.chroma_host}:{settings.chroma_port} "
                f"(CHROMA_HOST/CHROMA_PORT): {_first_line(exc)}") from None
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)
    except Exception as exc:
        if "readonly" in str(exc).replace(" ", "").lower():  # SQLite: "attempt to write a readonly database"
            raise StoreUnavailable(
                f"{settings.chroma_dir / 'chroma.sqlite3'} needs write access: the embedded Chroma opens it "
                "for writing even to answer questions") from None
        raise StoreUnavailable(f"cannot open the index at {settings.chroma_dir}: {_first_line(exc)}") from None


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
                    settings.collection, embedding_function=None,
                    configuration={"hnsw": {"space": "cosine", "ef_search": SEARCH_EF}},
                )
                hnsw = (self.collection.configuration_json or {}).get("hnsw") or {}
                if hnsw.get("ef_search", 0) < SEARCH_EF:  # a collection made by an earlier version
                    self.collection.modify(configuration={"hnsw": {"ef_search": SEARCH_EF}})
            else:
                self.collection = client.get_collection(settings.collection, embedding_function=None)
            self.max_batch = client.get_max_batch_size()
        except Exception as exc:
            if not create and "does not exist" in str(exc).lower():
                raise StoreUnavailable(f"no index yet at {self.location}: run `spacebot ingest` first") from None
            raise StoreUnavailable(f"the index at {self.location} is unavailable: {_first_line(exc)}") from None

    def _guard(self, action: str, fn, *args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except StoreUnavailable:
            raise
        except Exception as exc:
            raise StoreUnavailable(f"{action} failed at {self.location}: {_first_line(exc)}") from None

    def count(self) -> int:
        return self._guard("counting chunks", self.collection.count)

    def iter_records(self, include: list[str]) -> Iterator[tuple[str, dict, str | None]]:
        """Every chunk as `(id, metadata, document-or-None)`, paged."""
        offset = 0
        while True:
            page = self._guard("reading the index", self.collection.get,
                               include=include, limit=PAGE, offset=offset)
            ids = page["ids"]
            if not ids:
                return
            docs = page.get("documents") or [None] * len(ids)
            metas = page.get("metadatas") or [{}] * len(ids)
            for chunk_id, meta, doc in zip(ids, metas, docs):
                yield chunk_id, meta or {}, doc
            offset += len(ids)

    def article_states(self) -> dict[str, ArticleState]:
        """Per article: which chunk positions and versions the index holds."""
        states: dict[str, ArticleState] = {}
        for chunk_id, meta, _ in self.iter_records(["metadatas"]):
            article_id = meta.get("article_id", chunk_id.rsplit("::", 1)[0])
            state = states.setdefault(article_id, ArticleState())
            state.hashes.add(meta.get("article_hash", ""))
            state.indices.add(int(meta.get("chunk_index", -1)))
            state.n_chunks = max(state.n_chunks, int(meta.get("n_chunks", 0)))
            state.origin = meta.get("origin", state.origin)
            state.path = meta.get("path", state.path)
            state.chunk_ids.add(chunk_id)
        return states

    def upsert(self, ids: list[str], embeddings: np.ndarray, documents: list[str],
               metadatas: list[dict]) -> None:
        """Write chunks in one call per batch (whole articles only, never half of one)."""
        self._guard("writing to the index", self.collection.upsert, ids=ids,
                    embeddings=embeddings, documents=documents, metadatas=metadatas)

    def delete_ids(self, ids: list[str]) -> None:
        for start in range(0, len(ids), PAGE):
            self._guard("deleting from the index", self.collection.delete, ids=ids[start:start + PAGE])

    def set_fingerprint(self, value: str) -> None:
        """Record which contents the keyword index was built for (read by the query side)."""
        if (self.collection.metadata or {}).get("fingerprint") != value:
            self._guard("updating the index metadata", self.collection.modify, metadata={"fingerprint": value})

    def query(self, embedding: np.ndarray, k: int, where: dict | None = None) -> list[tuple[str, float]]:
        """Nearest chunks to one unit vector: `(chunk id, cosine similarity)`, best first.

        Ties (the same sentence in several articles) are ordered by chunk id: HNSW returns
        them in any order, and answers must not change from one run to the next.
        """
        result = self._guard("searching the index", self.collection.query,
                             query_embeddings=[embedding], n_results=k, where=where, include=["distances"])
        hits = [(cid, 1.0 - float(d)) for cid, d in zip(result["ids"][0], result["distances"][0])]
        return sorted(hits, key=lambda hit: (-hit[1], hit[0]))


def fingerprint(states: dict[str, ArticleState]) -> str:
    """A digest of exactly which chunks of which article versions the store holds."""
    digest = hashlib.sha256()
    for article_id in sorted(states):
        state = states[article_id]
        digest.update(f"{article_id}\0{sorted(state.hashes)}\0{sorted(state.chunk_ids)}\n".encode())
    return digest.hexdigest()
