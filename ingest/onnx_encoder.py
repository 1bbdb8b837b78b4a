"""The ONNX encoder: a model run by onnxruntime (no torch import), pooled and L2-normalised.

Used for every query, and for documents too when the model ships as ONNX (bge-small).
For all-MiniLM-L6-v2 it pools exactly as sentence-transformers does (mean over the
attention mask), so query vectors match the document vectors it made.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ingest.embedding import ONNX_FILE

DIMENSION = 384  # both models' vector size (only used to shape an empty result)


class OnnxEncoder:
    """Encodes texts with onnxruntime on the CPU.

    folder: holds `model.onnx` (or the recipe's weights file) and `tokenizer.json`;
    recipe: a `QueryRecipe` (pooling, window, query prefix); default: the folder's `source.json`;
    for_queries: prepend the recipe's query prefix (False when embedding documents).
    """

    def __init__(
        self, folder: Path, recipe=None, threads: int | None = None, batch_size: int = 32, for_queries: bool = True
    ):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        from ingest.models import QueryRecipe, embedding_model

        folder = Path(folder)
        self.recipe = recipe or QueryRecipe.read(folder)
        weights = folder / ONNX_FILE
        if not weights.exists():  # a package's own folder (bge-small) names it its own way
            weights = folder / embedding_model(self.recipe.key).weights
        options = ort.SessionOptions()
        options.log_severity_level = 3
        if threads:
            options.intra_op_num_threads = threads
        self.session = ort.InferenceSession(str(weights), sess_options=options, providers=["CPUExecutionProvider"])
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.recipe.max_tokens)
        self.tokenizer.enable_padding()
        self.prefix = self.recipe.query_prefix if for_queries else ""
        self.batch_size = batch_size

    def encode(self, texts: list[str]) -> np.ndarray:
        """Unit-length float32 vectors, one row per text."""
        if not texts:
            return np.zeros((0, DIMENSION), dtype=np.float32)
        texts = [self.prefix + t for t in texts]
        parts = [self._encode(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return np.concatenate(parts).astype(np.float32)

    def _encode(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        types = np.array([e.type_ids for e in encodings], dtype=np.int64)
        hidden = self.session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": types})[0]
        if self.recipe.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return pooled / np.clip(norms, 1e-12, None)
