"""Embedding: sentence-transformers for documents, plus the ONNX copy the query side runs."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

ONNX_FILE = "model.onnx"


class DocumentEmbedder:
    """all-MiniLM-L6-v2 through sentence-transformers, on the CPU, L2-normalised output."""

    def __init__(self, folder: Path, batch_size: int = 32):
        from sentence_transformers import SentenceTransformer

        self.folder = Path(folder)
        self.batch_size = batch_size
        self.model = SentenceTransformer(str(self.folder), device="cpu")

    def encode(self, texts: list[str]) -> np.ndarray:
        """Embeddings for `texts`, one row each (float32, unit length)."""
        return self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        ).astype(np.float32)

    def export_onnx(self, folder: Path) -> Path:
        """Write an ONNX copy of the transformer and its tokenizer into `folder`.

        The caller adds the recipe (`ingest.models`) and makes the folder atomic
        (`ingest.derived_files.replace_folder`).
        """
        import warnings

        import torch

        folder = Path(folder)
        transformer = self.model[0].auto_model.eval()

        class _LastHidden(torch.nn.Module):
            def __init__(self, inner):
                super().__init__()
                self.inner = inner

            def forward(self, input_ids, attention_mask, token_type_ids):
                return self.inner(
                    input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
                ).last_hidden_state

        sample = self.model.tokenizer(["a sample sentence", "b"], return_tensors="pt", padding=True)
        names = ["input_ids", "attention_mask", "token_type_ids"]
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                _LastHidden(transformer),
                tuple(sample[n] for n in names),
                str(folder / ONNX_FILE),
                input_names=names,
                output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
                opset_version=17,
                dynamo=False,
            )
        shutil.copy2(self.folder / "tokenizer.json", folder / "tokenizer.json")
        return folder / ONNX_FILE
