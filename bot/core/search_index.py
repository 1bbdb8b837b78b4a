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
    missing, damaged, or was built for other contents than the vector store now holds
    (a Chroma server fed from another machine), it is rebuilt from the store.
    """

    def __init__(self, settings: Settings):
        from ingest.store import ChunkStore

        self.settings = settings
        self.store = ChunkStore(settings, create=False)
        self.keyword = self._load_keyword_index()

    def _load_keyword_index(self):
        from ingest.derived_state import check_model, open_keyword_index

        check_model(self.store, self.settings)  # vectors of another model would match nothing sensibly
        return open_keyword_index(self.store, self.settings)

    @cached_property
    def encoder(self):
        """The query encoder: the ONNX copy ingest made (rebuilt if damaged), else sentence-transformers."""
        from ingest.derived_state import open_query_encoder

        return open_query_encoder(self.settings)

    def embed(self, texts: list[str]) -> np.ndarray:
        return self.encoder.encode(texts)
