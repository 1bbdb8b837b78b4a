"""Measure the reader against the shipped cross-encoder on an eval set's sentences (dev only while tuning).

For each question the candidates are the sentences of its relevant articles plus those of the best
BM25 neighbour articles (read straight from the corpus files; no index needed). Reported per model:
how often the top-scored sentence holds the expected answer (answerable questions with an answer
string), and the AUROC of the best score, answerable vs unanswerable questions. Follow-ups read
their last earlier turn before the question.

    python -m eval.bench_reader --questions ../shared/eval/dev.jsonl --corpus ../shared/corpus
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--questions", type=Path, default=Path("../shared/eval/dev.jsonl"))
    p.add_argument("--corpus", type=Path, default=Path("../shared/corpus"))
    p.add_argument("--reader", type=Path, default=None, help="reader ONNX file (default: the shipped one)")
    p.add_argument("--neighbours", type=int, default=2, help="BM25 neighbour articles added per question")
    p.add_argument("--per-neighbour", type=int, default=15, help="sentences read from each neighbour")
    p.add_argument("--no-context", action="store_true", help="score the reader without article titles")
    p.add_argument("--cache", type=Path, default=Path(".bench/reader/cross_encoder_scores.json"))
    p.add_argument("--cross-only", action="store_true", help="score only the cross-encoder (fills the cache)")
    p.add_argument("--out", type=Path, default=None, help="write the figures as JSON here")
    return p.parse_args(argv)


def candidates(question: str, relevant: list[str], articles: dict, retriever, keys, args) -> list[tuple[str, str, str]]:
    """(article id, title, sentence) for the relevant articles and the best BM25 neighbours."""
    import bm25s

    results, _ = retriever.retrieve(
        bm25s.tokenize([question], stopwords="en", show_progress=False), k=8, show_progress=False
    )
    neighbours = [keys[int(k)] for k in results[0] if keys[int(k)] not in relevant][: args.neighbours]
    out = []
    for key in relevant:
        if key in articles:
            out += [(key, articles[key].title, s) for s in articles[key].sentences]
    for key in neighbours:
        out += [(key, articles[key].title, s) for s in articles[key].sentences[: args.per_neighbour]]
    return out


def main(argv=None) -> int:
    args = parse_args(argv)
    import bm25s

    from bot.core.reader import Reader
    from bot.core.rerank import CrossEncoder, bundled_dir
    from eval.questions import load_questions
    from eval.reader_data import read_corpus
    from eval.train_reader import auroc

    questions, warnings = load_questions(args.questions)
    for w in warnings:
        print(w, file=sys.stderr)
    articles = {str(Path(a.path).relative_to(args.corpus)): a for a in read_corpus(args.corpus)}
    keys = list(articles)
    retriever = bm25s.BM25()
    docs = [articles[k].title + " " + " ".join(articles[k].sentences) for k in keys]
    retriever.index(bm25s.tokenize(docs, stopwords="en", show_progress=False), show_progress=False)
    reader = Reader(args.reader, threads=2)
    cross = CrossEncoder(bundled_dir())
    cache = json.loads(args.cache.read_text()) if args.cache.is_file() else {}
    rows, t0 = [], time.time()
    for q in questions:
        text = " ".join(q.history[-1:] + [q.question])
        cands = candidates(text, q.relevant, articles, retriever, keys, args)
        if not cands:
            continue
        sentences = [c[2] for c in cands]
        contexts = None if args.no_context else [c[1] for c in cands]
        r = None if args.cross_only else reader.scores(text, sentences, contexts)
        key = f"{text}\n{len(sentences)}\n{sentences[0]}"
        if key not in cache:
            cache[key] = [float(v) for v in cross.score(text, sentences)]
        x = cache[key]
        row = {"id": q.id, "kind": q.kind, "answerable": q.answerable, "answer": q.answer, "n": len(sentences)}
        both = [a + b for a, b in zip(r or x, x)]  # the two logits added, unweighted (not tuned)
        for name, s in (("reader", r or x), ("cross_encoder", x), ("reader_plus_cross_encoder", both)):
            best = max(range(len(s)), key=s.__getitem__)
            row[name] = {"best": s[best], "top": sentences[best]}
            if q.answer:
                row[name]["holds"] = q.answer.lower() in sentences[best].lower()
        rows.append(row)
    args.cache.parent.mkdir(parents=True, exist_ok=True)
    args.cache.write_text(json.dumps(cache))
    report = summarise(rows, auroc)
    report["seconds"] = round(time.time() - t0, 1)
    report["questions_file"] = str(args.questions)
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps({"report": report, "rows": rows}, indent=2))
    return 0


def summarise(rows: list[dict], auroc) -> dict:
    """Top sentence holds the answer (overall and by kind) and best-score AUROC, per model."""
    out: dict = {}
    for name in ("reader", "cross_encoder", "reader_plus_cross_encoder"):
        scored = [r for r in rows if r["answerable"] and "holds" in r[name]]
        by_kind: dict[str, list[int]] = {}
        for r in scored:
            by_kind.setdefault(r["kind"], []).append(int(r[name]["holds"]))
        out[name] = {
            "top_sentence_holds_answer": round(sum(int(r[name]["holds"]) for r in scored) / max(1, len(scored)), 3),
            "by_kind": {k: f"{sum(v)}/{len(v)}" for k, v in sorted(by_kind.items())},
            "answerable_vs_unanswerable_auroc": auroc(
                [r[name]["best"] for r in rows if r["answerable"]],
                [r[name]["best"] for r in rows if not r["answerable"]],
            ),
        }
    out["questions"] = len(rows)
    return out


if __name__ == "__main__":
    sys.exit(main())
