"""Opens what the query side reads: Chroma, the BM25 index and the ONNX query encoder."""

from __future__ import annotations

import logging
from functools import cached_property

import numpy as np

from ingest.settings import Settings

log = logging.getLogger("spacebot.index")


class SearchIndex:
    """Read-only handles on the index, opened once and shared by every question.

    The BM25 index (and its chunk table) lives under `SPACEBOT_DATA_DIR`; if it is
    missing or was built for other contents than the vector store now holds (a
    Chroma server fed from another machine), it is rebuilt from the store.
    """

    def __init__(self, settings: Settings):
        from ingest.store import ChunkStore

        self.settings = settings
        self.store = ChunkStore(settings, create=False)
        self.keyword = self._load_keyword_index()

    def _load_keyword_index(self):
        from ingest.keyword_index import KeywordIndex, build_from_store, read_fingerprint
        from ingest.store import fingerprint

        target = self.settings.keyword_dir
        expected = (self.store.collection.metadata or {}).get("fingerprint")
        local = read_fingerprint(target)
        if local is None or (expected and expected != local):
            log.warning("keyword index %s; rebuilding it from %s",
                        "missing or from an older version" if local is None else "out of date", self.store.location)
            build_from_store(self.store, expected or fingerprint(self.store.article_states()), target)
        return KeywordIndex(target)

    @cached_property
    def encoder(self):
        """The query encoder: ONNX (fast start) if ingest made it, else sentence-transformers."""
        from ingest.embedding import ONNX_FILE

        if (self.settings.onnx_dir / ONNX_FILE).exists():
            from ingest.onnx_encoder import OnnxEncoder

            return OnnxEncoder(self.settings.onnx_dir)
        from ingest.embedding import DocumentEmbedder
        from ingest.model_files import model_dir

        log.warning("no ONNX query model under %s; loading sentence-transformers (slow start)",
                    self.settings.onnx_dir)
        return DocumentEmbedder(model_dir(self.settings.model_path))

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.encoder.encode(texts)
