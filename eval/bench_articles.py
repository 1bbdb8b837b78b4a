"""Experiment: the article-level keyword signal (BM25 over whole articles) and near-duplicate
grouping, measured on dev, dev2 and the long-article set, against plain BM25.

For every question: the product's candidate lists (`Retriever.dense`, `.bm25`, `.articles`),
and the cross-encoder's score of every chunk any reranking below reads (cached in `--cache`,
a pickle; `--seed` reads bench_rerank's caches so their scores are not computed again).
Runs (article ids, best first): plain BM25 over chunks, BM25 over whole articles, dense,
hybrid (RRF of dense and BM25), hybrid + the article list, rerank (cross-encoder over the
union of the first 15 dense and BM25 chunks; unread articles follow in hybrid order), and
rerank with the article list's first d best chunks added; each with and without grouping.
Prints JSON: hit@5 and MRR@10 per set and run.

    PYTHONPATH=. python -m eval.bench_articles --data-dir /work/bench/groups-index
"""

from __future__ import annotations

import argparse
import json
import pickle
from pathlib import Path

import numpy as np

SETS = ("../shared/eval/dev.jsonl", "../shared/eval/dev2.jsonl", "eval/long.jsonl")
DEPTH = 15  # the product's rerank depth (bot/core/rerank.py DEPTH)
ARTICLE_DEPTHS = (5, 10, 15)  # best chunks of the article list the reranker also reads
ARTICLE_LIST = 30  # articles the article list holds (fusion reads all of it)


def collect(service, questions, cache: dict, reranker) -> list[dict]:
    """Candidate lists per question; cross-encoder scores land in `cache[(query, row)]`."""
    from bot.core.records import Filters

    retriever = service.retriever
    table = service.index.keyword.table.columns
    out = []
    for q in questions:
        query = service.query_for(q.question, list(q.history))
        dense = retriever.dense(query, Filters())
        bm25 = retriever.bm25(query, Filters())
        articles = retriever.articles(query, Filters(), n=ARTICLE_LIST)
        whole = [a for a, _ in service.index.keyword.search_articles(query, 10)]
        rows = {r for ranked in (dense[:DEPTH], bm25[:DEPTH], articles[: max(ARTICLE_DEPTHS)]) for r, _ in ranked}
        todo = sorted(r for r in rows if (query, r) not in cache)
        if todo:
            scores = reranker.score(query, [f"{table['title'][r]}\n{table['text'][r]}" for r in todo])
            cache.update({(query, r): float(s) for r, s in zip(todo, scores)})
        out.append(
            {
                "id": q.id,
                "query": query,
                "relevant": q.relevant,
                "dense": dense,
                "bm25": bm25,
                "articles": articles,
                "whole": whole,
            }
        )
        print(f"{q.id}: {len(todo)} new pairs", flush=True)
    return out


def fused(lists, article_of) -> list[str]:
    from bot.core.retrieval import ReciprocalRankFusion

    return [f.article_id for f in ReciprocalRankFusion().fuse(lists, article_of, None)]


def reranked(rec: dict, cache: dict, lists, fill: list[str], article_of) -> list[str]:
    """Articles by their best read chunk's cross-encoder score; unread ones follow in `fill` order."""
    best: dict[str, float] = {}
    for ranked in lists:
        for r, _ in ranked:
            a, s = article_of[r], cache[(rec["query"], r)]
            best[a] = max(best.get(a, -1e9), s)
    order = sorted(best, key=lambda a: -best[a])
    return order + [a for a in fill if a not in best]


def grouped(ids: list[str], groups) -> list[str]:
    """The product's collapse on ids: one per group, the representative when it was retrieved."""
    present, taken, out = set(ids), set(), []
    for a in ids:
        members = groups.members(a)
        if len(members) == 1:
            out.append(a)
        elif members not in taken:
            taken.add(members)
            out.append(members[0] if members[0] in present else a)
    return out


def runs_for(rec: dict, cache: dict, article_of) -> dict[str, list[str]]:
    dense, bm25, art = rec["dense"], rec["bm25"], rec["articles"]
    hybrid = fused([dense, bm25], article_of)
    hybrid_a = fused([dense, bm25, art[:DEPTH]], article_of)
    runs = {
        "bm25 (chunks)": list(dict.fromkeys(article_of[r] for r, _ in bm25)),
        "bm25 (whole articles)": rec["whole"],
        "dense": list(dict.fromkeys(article_of[r] for r, _ in dense)),
        "hybrid": hybrid,
        "hybrid + article list": hybrid_a,
        "rerank": reranked(rec, cache, [dense[:DEPTH], bm25[:DEPTH]], hybrid, article_of),
    }
    for d in ARTICLE_DEPTHS:
        lists = [dense[:DEPTH], bm25[:DEPTH], art[:d]]
        runs[f"rerank + article list {d}"] = reranked(rec, cache, lists, hybrid_a, article_of)
    return runs


def figures(records: list[dict], runs: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, float]]:
    from eval.metrics import per_query_retrieval

    qrels = {r["id"]: r["relevant"] for r in records if r["relevant"]}
    out = {}
    for name, run in runs.items():
        scores = per_query_retrieval(qrels, {qid: ids[:10] for qid, ids in run.items()})
        out[name] = {m: round(float(np.mean([s[m] for s in scores.values()])), 3) for m in ("hit@5", "mrr@10")}
    return out


def seed(cache: dict, paths: list[str]) -> None:
    for path in paths:
        if Path(path).exists():
            for rec in pickle.loads(Path(path).read_bytes()):
                cache.update({(rec["query"], r): s for r, s in rec["ce"].items()})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--cache", default="/tmp/bench_articles.pkl")
    parser.add_argument("--seed", nargs="*", default=[])
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    args = parser.parse_args(argv)
    from bot.core.rerank import load_reranker
    from bot.core.service import AnswerService
    from eval.evaluate import known_aliases
    from eval.questions import load_questions, resolve_questions
    from ingest.settings import Settings

    service = AnswerService(Settings(_env_file=None, SPACEBOT_DATA_DIR=args.data_dir))
    keyword = service.index.keyword
    article_of = keyword.table.columns["article_id"]
    cache_path = Path(args.cache)
    cache = pickle.loads(cache_path.read_bytes()) if cache_path.exists() else {}
    seed(cache, args.seed)
    reranker = load_reranker()
    report = {"groups": len(keyword.groups)}
    for path in args.sets:
        questions, _ = load_questions(path)
        questions, _ = resolve_questions(questions, known_aliases(keyword))
        records = collect(service, questions, cache, reranker)
        cache_path.write_bytes(pickle.dumps(cache))
        runs: dict[str, dict[str, list[str]]] = {}
        for rec in records:
            for name, ids in runs_for(rec, cache, article_of).items():
                runs.setdefault(name, {})[rec["id"]] = ids
                runs.setdefault(name + ", grouped", {})[rec["id"]] = grouped(ids, keyword.groups)
        report[Path(path).stem] = figures(records, runs)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
