"""Experiment: a cross-encoder reranking stage, sentence choice by cross-encoder + answer type,
and one refusal gate on the reranker's score, measured on dev and dev2 side by side.

Candidates are the product's own: the union of the dense and BM25 chunk lists
(`Retriever.dense`, `Retriever.bm25`), each cut at a depth d. The cross-encoder
(bot/core/rerank.py) scores every candidate chunk (title + text); an article
scores as its best chunk, and the reranked order is the article order (articles
the reranker did not see follow in hybrid order).

Model scores are cached in `--cache` (a pickle) so that re-analysis is cheap;
`--fresh` drops it. Settings are tuned on dev and confirmed on dev2: the report
prints both.

    PYTHONPATH=. python -m eval.bench_rerank --data-dir /work/bench/minilm
"""

from __future__ import annotations

import argparse
import json
import pickle
import statistics
import time
from pathlib import Path

import numpy as np

DEPTHS = (4, 6, 8, 10, 15, 20)  # chunks taken from each of the dense and BM25 lists
MAX_DEPTH = max(DEPTHS)
SENTENCE_PASSAGES = 5  # best reranked chunks whose sentences are candidates
SETS = ("../shared/eval/dev.jsonl", "../shared/eval/dev2.jsonl")
SERVICE = None  # the AnswerService the old rules read the index through


def auroc(positive: list[float], negative: list[float]) -> float:
    """P(a positive scores above a negative), ties half: the Mann-Whitney form of the ROC area."""
    if not positive or not negative:
        return float("nan")
    wins = sum((p > n) + 0.5 * (p == n) for p in positive for n in negative)
    return wins / (len(positive) * len(negative))


def contains(text: str | None, expected: str | None) -> bool:
    from eval.metrics import answer_contains

    return bool(text) and expected is not None and answer_contains(text, expected)


# -- collection (model calls, cached) -------------------------------------------------------------
def collect(service, questions, set_name: str, reranker) -> list[dict]:
    from bot.core.records import Filters

    retriever = service.retriever
    table = service.index.keyword.table.columns
    out = []
    for q in questions:
        query = service.query_for(q.question, list(q.history))
        dense = [r for r, _ in retriever.dense(query, Filters())]
        bm = [r for r, _ in retriever.bm25(query, Filters())]
        hybrid = [h.article_id for h in retriever.search(query, k=10)]
        _, base = service.answer(q.question, [(h, "") for h in q.history], k=5, retrieve_k=10)
        rows = list(dict.fromkeys(dense[:MAX_DEPTH] + bm[:MAX_DEPTH]))
        started = time.perf_counter()
        scores = reranker.score(query, [f"{table['title'][r]}\n{table['text'][r]}" for r in rows])
        ms = (time.perf_counter() - started) * 1000
        out.append(
            {
                "id": q.id,
                "set": set_name,
                "kind": q.kind,
                "question": q.question,
                "history": q.history,
                "query": query,
                "relevant": q.relevant,
                "answer": q.answer,
                "dense": dense,
                "bm25": bm,
                "hybrid": hybrid,
                "base_text": base.text,
                "base_refused": base.refused,
                "ce": dict(zip(rows, map(float, scores))),
                "ce_ms": ms,
                "ce_pairs": len(rows),
            }
        )
        print(f"{q.id} {len(rows)} pairs {ms:.0f} ms", flush=True)
    return out


# -- reranking ------------------------------------------------------------------------------------
def reranked(rec: dict, depth: int, article_of: list[str], blend: float = 0.0) -> list[tuple[str, float, int]]:
    """(article, best CE score, best row) in reranked order; unseen articles follow in hybrid order.

    `blend` > 0 fuses the CE article rank with the hybrid rank by RRF (weight `blend` on hybrid).
    """
    rows = list(dict.fromkeys(rec["dense"][:depth] + rec["bm25"][:depth]))
    best: dict[str, tuple[float, int]] = {}
    for r in rows:
        s = rec["ce"][r]
        a = article_of[r]
        if a not in best or s > best[a][0]:
            best[a] = (s, r)
    order = sorted(best, key=lambda a: -best[a][0])
    if blend:
        hyb = {a: i for i, a in enumerate(rec["hybrid"])}
        fused = {a: 1 / (60 + i + 1) + blend / (60 + hyb.get(a, 100) + 1) for i, a in enumerate(order)}
        order = sorted(order, key=lambda a: -fused[a])
    out = [(a, best[a][0], best[a][1]) for a in order]
    out += [(a, float("-inf"), -1) for a in rec["hybrid"] if a not in best]
    return out


def retrieval_figures(records: list[dict], runs: dict[str, list[str]]) -> dict[str, float]:
    from eval.metrics import per_query_retrieval

    qrels = {r["id"]: r["relevant"] for r in records if r["relevant"]}
    scores = per_query_retrieval(qrels, runs)
    para = [s for qid, s in scores.items() if next(r for r in records if r["id"] == qid)["kind"] == "paraphrase"]
    return {
        "hit@5": float(np.mean([s["hit@5"] for s in scores.values()])),
        "mrr@10": float(np.mean([s["mrr@10"] for s in scores.values()])),
        "para hit@5": float(np.mean([s["hit@5"] for s in para])),
    }


# -- sentences ------------------------------------------------------------------------------------
def sentence_candidates(rec: dict, order, table) -> list[dict]:
    """Sentences of the best `SENTENCE_PASSAGES` reranked chunks (a chunk per article at most twice)."""
    from bot.core.sentences import split_sentences

    ranked_rows = sorted(((s, r) for r, s in rec["ce"].items()), reverse=True)
    rank_of = {a: i for i, (a, _, _) in enumerate(order)}
    seen_articles: dict[str, int] = {}
    chosen = []
    for s, r in ranked_rows:
        a = table["article_id"][r]
        if a not in rank_of or seen_articles.get(a, 0) >= 2:
            continue
        seen_articles[a] = seen_articles.get(a, 0) + 1
        chosen.append((s, r))
        if len(chosen) >= SENTENCE_PASSAGES:
            break
    out, seen = [], set()
    for prank, (s, r) in enumerate(chosen):
        for sent in split_sentences(table["text"][r]):
            if len(sent) > 600 or sent in seen:
                continue
            seen.add(sent)
            out.append({"sentence": sent, "row": r, "title": table["title"][r], "passage_ce": s, "prank": prank})
    return out


def score_sentences(records, table, reranker, depth: int) -> None:
    """Adds rec["sentences"] (with CE score and spaCy types) for the reranked order at `depth`."""
    from bot.core.entities import asked_type, type_sentences

    article_of = table["article_id"]
    for rec in records:
        order = reranked(rec, depth, article_of)
        cands = sentence_candidates(rec, order, table)
        started = time.perf_counter()
        ce = reranker.score(rec["query"], [f"{c['title']}. {c['sentence']}" for c in cands])
        t_ce = time.perf_counter() - started
        kind = asked_type(rec["question"])
        started = time.perf_counter()
        typed = type_sentences(rec["question"], [c["sentence"] for c in cands], kind)
        t_nlp = time.perf_counter() - started
        for c, s, t in zip(cands, ce, typed):
            c.update(ce=float(s), typed=t.found, agent=t.agent, entities=t.entities)
        rec["sentences"], rec["kind_asked"] = cands, kind
        rec["sent_ms"], rec["nlp_ms"] = t_ce * 1000, t_nlp * 1000
        print(f"{rec['id']} {len(cands)} sentences ce {t_ce * 1000:.0f} ms nlp {t_nlp * 1000:.0f} ms", flush=True)


def retype(data: dict) -> None:
    from bot.core.entities import asked_type, type_sentences

    for name in ("dev", "dev2"):
        for rec in data[name]:
            cands = rec.get("sentences") or []
            kind = asked_type(rec["question"])
            for c, t in zip(cands, type_sentences(rec["question"], [c["sentence"] for c in cands], kind)):
                c.update(typed=t.found, agent=t.agent, entities=t.entities)
            rec["kind_asked"] = kind


def choose(rec: dict, w_passage: float, w_type: float, w_agent: float, margin: float, max_n: int = 3) -> list[dict]:
    cands = rec.get("sentences") or []
    if not cands:
        return []
    for c in cands:
        c["score"] = (
            c["ce"] + w_passage * c["passage_ce"] + (w_type if c["typed"] else 0.0) + (w_agent if c["agent"] else 0.0)
        )
    ranked = sorted(cands, key=lambda c: -c["score"])
    out = [ranked[0]]
    for c in ranked[1:]:
        if len(out) >= max_n or c["score"] < ranked[0]["score"] - margin:
            break
        out.append(c)
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", required=True)
    parser.add_argument("--cache", default="/tmp/bench_rerank.pkl")
    parser.add_argument("--fresh", action="store_true")
    parser.add_argument("--sentence-depth", type=int, default=20)
    parser.add_argument("--out", default=None)
    parser.add_argument("--sets", nargs="+", default=list(SETS))
    parser.add_argument("--sentences", action="store_true", help="also score sentences (cached)")
    parser.add_argument("--retype", action="store_true", help="type the cached sentences again (entities.py changed)")
    args = parser.parse_args(argv)

    from bot.core.rerank import load_reranker
    from bot.core.service import AnswerService
    from eval.evaluate import known_aliases
    from eval.questions import load_questions, resolve_questions
    from ingest.settings import Settings

    global SERVICE
    service = SERVICE = AnswerService(Settings(_env_file=None, SPACEBOT_DATA_DIR=args.data_dir))
    table = service.index.keyword.table.columns
    reranker = load_reranker()
    data = {}
    for path in args.sets:
        name = Path(path).stem
        cache = Path(f"{args.cache}.{name}")
        if cache.exists() and not args.fresh:
            data[name] = pickle.loads(cache.read_bytes())
        else:
            questions, _ = load_questions(path)
            questions, _ = resolve_questions(questions, known_aliases(service.index.keyword))
            data[name] = collect(service, questions, name, reranker)
            cache.write_bytes(pickle.dumps(data[name]))
        if args.sentences and data[name][0].get("sentences_depth") != args.sentence_depth:
            score_sentences(data[name], table, reranker, args.sentence_depth)
            data[name][0]["sentences_depth"] = args.sentence_depth
            cache.write_bytes(pickle.dumps(data[name]))
    if len(data) < 2:
        return
    if args.retype:
        retype(data)
    report = analyse(data, table)
    print(json.dumps(report, indent=1))
    if args.out:
        Path(args.out).write_text(json.dumps(report, indent=1))


def analyse(data: dict, table) -> dict:
    article_of = table["article_id"]
    report: dict = {}
    for name in ("dev", "dev2"):
        recs = data[name]
        fig: dict = {"hybrid": retrieval_figures(recs, {r["id"]: r["hybrid"] for r in recs})}
        fig["dense"] = retrieval_figures(
            recs, {r["id"]: list(dict.fromkeys(article_of[x] for x in r["dense"]))[:10] for r in recs}
        )
        fig["bm25"] = retrieval_figures(
            recs, {r["id"]: list(dict.fromkeys(article_of[x] for x in r["bm25"]))[:10] for r in recs}
        )
        for d in DEPTHS:
            for blend in (0.0, 0.5, 1.0):
                runs = {r["id"]: [a for a, _, _ in reranked(r, d, article_of, blend)][:10] for r in recs}
                fig[f"ce d={d} blend={blend}"] = retrieval_figures(recs, runs)
            pairs = [len(set(r["dense"][:d] + r["bm25"][:d])) for r in recs]
            per_pair = statistics.median(r["ce_ms"] / r["ce_pairs"] for r in recs)
            fig[f"ce d={d} blend=0.0"]["pairs p50"] = statistics.median(pairs)
            fig[f"ce d={d} blend=0.0"]["est ms p50"] = statistics.median(pairs) * per_pair
        report[name] = fig
    report["sentences"] = sentence_figures(data, table)
    report["refusal"] = refusal_figures(data, table)
    return report


def _hits(rec: dict, order, table) -> list:
    """ArticleHits in reranked order, each with its candidate chunks best first (for the old rules)."""
    from bot.core.records import ArticleHit, Passage

    rows_of: dict[str, list[int]] = {}
    for r in sorted(rec["ce"], key=lambda r: -rec["ce"][r]):
        rows_of.setdefault(table["article_id"][r], []).append(r)
    hits = []
    for a, s, _ in order[:10]:
        passages = [
            Passage(
                chunk_id=table["id"][r],
                article_id=a,
                title=table["title"][r],
                text=table["text"][r],
                score=rec["ce"][r],
            )
            for r in rows_of.get(a, [])[:3]
        ]
        if passages:
            hits.append(
                ArticleHit(
                    article_id=a,
                    title=passages[0].title,
                    source="",
                    url=None,
                    published=None,
                    path=None,
                    score=s,
                    passages=passages,
                )
            )
    return hits


TUNE = {"w_passage": (0.0, 0.1, 0.2, 0.3), "w_type": (0.0, 1.0, 2.0, 3.0), "w_agent": (0.0, 1.0)}


def sentence_figures(data: dict, table) -> dict:
    """Expected answer in the chosen sentence(s), answerable questions, no refusal applied."""
    import itertools

    def score(recs, wp, wt, wa, margin, n):
        ok = [
            contains(" ".join(c["sentence"] for c in choose(r, wp, wt, wa, margin, n)), r["answer"])
            for r in recs
            if r["answer"]
        ]
        return float(np.mean(ok))

    out: dict = {}
    for name in ("dev", "dev2"):
        recs = [r for r in data[name] if r["answer"]]
        out[name] = {
            "today (hybrid, extractive, refusals count as misses)": float(
                np.mean([not r["base_refused"] and contains(r["base_text"], r["answer"]) for r in recs])
            ),
            "today's text regardless of refusal": float(np.mean([contains(r["base_text"], r["answer"]) for r in recs])),
            "sentences": len(recs),
        }
    grid = []
    for wp, wt, wa in itertools.product(TUNE["w_passage"], TUNE["w_type"], TUNE["w_agent"]):
        grid.append(((wp, wt, wa), score(data["dev"], wp, wt, wa, 0.0, 1)))
    best = max(grid, key=lambda g: g[1])[0]
    out["tuned on dev (w_passage, w_type, w_agent), top-1 sentence"] = best
    for name in ("dev", "dev2"):
        recs = data[name]
        out[name]["ce only, top-1"] = score(recs, 0, 0, 0, 0.0, 1)
        out[name]["tuned, top-1"] = score(recs, *best, 0.0, 1)
        for margin in (0.5, 1.0, 2.0):
            out[name][f"tuned, up to 3 within {margin}"] = score(recs, *best, margin, 3)
        out[name]["tuned, top-3 always"] = score(recs, *best, 1e9, 3)
        out[name]["no type bonus, top-1 (w_passage only)"] = score(recs, best[0], 0, 0, 0.0, 1)
        out[name]["today's extractive on reranked hits"] = _old_on_reranked(recs, table)
    out["grid (dev)"] = [[list(k), v] for k, v in grid]
    return out


def _old_on_reranked(recs: list[dict], table) -> float:
    from bot.core.extractive import compose_answer, select_sentences

    ok = []
    for r in recs:
        if not r["answer"]:
            continue
        chosen = select_sentences(
            r["question"], _hits(r, reranked(r, 20, table["article_id"]), table), SERVICE.index, context=r["history"]
        )
        ok.append(bool(chosen) and contains(compose_answer(r["question"], chosen).text, r["answer"]))
    return float(np.mean(ok))


def refusal_figures(data: dict, table) -> dict:
    """AUROC of the reranker's best score for answerable vs unanswerable; old rules on top of a CE gate."""
    out, feats = _refusal_features(data, table)
    _calibrate(out, feats)
    th = out["dev+dev2 threshold passage (max refusal with false refusal <= 0.10)"][0]

    def gate(rows, rule):
        res = [(a, t < th or bool(rule and rule(x))) for a, t, x in rows]
        return {
            "refusal": float(np.mean([f for a, f in res if not a])),
            "false refusal": float(np.mean([f for a, f in res if a])),
        }

    out["rules"] = {
        label: {name: gate(feats[name], rule) for name in ("dev", "dev2")} for label, rule in _old_rules(table).items()
    }
    return out


def _refusal_features(data: dict, table) -> tuple[dict, dict]:
    """Per set: (answerable, best passage logit, extras) rows and the AUROC of each score."""
    article_of = table["article_id"]
    out: dict = {}
    feats: dict[str, list[tuple[bool, float, dict]]] = {}
    for name in ("dev", "dev2"):
        rows = []
        for r in data[name]:
            sents = r.get("sentences") or []
            best_sent = max((c["ce"] for c in sents), default=-20.0)
            typed_best = (
                max((c["ce"] for c in sents if c["typed"]), default=-20.0) if r.get("kind_asked") else best_sent
            )
            extra = {
                "rec": r,
                "order": reranked(r, 20, article_of),
                "best_sent": best_sent,
                "typed_ok": r.get("kind_asked") is None or any(c["typed"] for c in sents),
                "typed_best": typed_best,
            }
            rows.append((bool(r["relevant"]), max(r["ce"].values()), extra))
        feats[name] = rows
        scores = (
            ("best passage CE", None),
            ("best sentence CE", "best_sent"),
            ("best typed sentence CE", "typed_best"),
        )
        for label, key in scores:
            pos = [x[key] if key else t for a, t, x in rows if a]
            neg = [x[key] if key else t for a, t, x in rows if not a]
            out[f"{name} AUROC {label}"] = auroc(pos, neg)
    return out, feats


def _calibrate(out: dict, feats: dict) -> None:
    """Pooled AUROC and the threshold refusing most with <= 10% false refusals, per score."""
    both = feats["dev"] + feats["dev2"]
    for feature in ("passage", "sentence", "typed"):

        def value(t, x, feature=feature):
            return {"passage": t, "sentence": x["best_sent"], "typed": x["typed_best"]}[feature]

        out[f"dev+dev2 AUROC {feature}"] = auroc(
            [value(t, x) for a, t, x in both if a], [value(t, x) for a, t, x in both if not a]
        )
        best = None
        for th in sorted({round(value(t, x), 2) for _, t, x in both}):
            refused = [value(t, x) < th for _, t, x in both]
            ref = np.mean([f for f, (a, _, _) in zip(refused, both) if not a])
            false = np.mean([f for f, (a, _, _) in zip(refused, both) if a])
            if false <= 0.10 and (best is None or ref > best[1]):
                best = (th, float(ref), float(false))
        out[f"dev+dev2 threshold {feature} (max refusal with false refusal <= 0.10)"] = best


def _old_rules(table) -> dict:
    """The EvidenceGate rules, each as a function of one question's extras."""
    from bot.core import evidence

    keyword = SERVICE.index.keyword
    fy = evidence._spellings

    def hits(x):
        if "hits" not in x:
            x["hits"] = _hits(x["rec"], x["order"], table)
        return x["hits"]

    def terms_rule(x):
        return bool(evidence.weigh_evidence(x["rec"]["question"], hits(x), keyword).missing)

    def terms_rule_no_fy(x):
        evidence._spellings = lambda term: [term]
        try:
            return terms_rule(x)
        finally:
            evidence._spellings = fy

    def acronym_rule(x):
        spec = set(evidence.specific_terms(x["rec"]["question"], keyword))
        typed = [a for a in evidence.acronyms(x["rec"]["question"], keyword) if not set(keyword.terms(a)) <= spec]
        return bool(typed) and bool(evidence.weigh_evidence(x["rec"]["question"], hits(x), keyword).missing)

    def figure_rule(x):
        from bot.core.extractive import select_sentences

        return not select_sentences(x["rec"]["question"], hits(x), SERVICE.index)

    return {
        "CE gate alone": None,
        "+ rare-term gate (with FY->year)": terms_rule,
        "+ rare-term gate (without FY->year)": terms_rule_no_fy,
        "+ acronym gate (as part of the term gate)": acronym_rule,
        "+ figure rule (extractive)": figure_rule,
        "+ answer-type check (spaCy)": lambda x: not x["typed_ok"],
    }


if __name__ == "__main__":
    main()
