"""Topic matching for follows: precision and recall of `bot.alerts.matching` on labelled pairs.

`eval/topic_pairs.jsonl` holds (topic, corpus document, label) rows written by hand from
`../shared/corpus` (positives, and near-miss negatives from the same field), never from
evaluation questions. Each pair is scored once (the best sentence's cross-encoder logit);
the report gives precision and recall at the configured threshold and a sweep, so the
threshold's origin is reproducible:

    python -m eval.bench_topics [--pairs eval/topic_pairs.jsonl] [--corpus ../shared/corpus] [--json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def read_article(path: Path):
    """The article as ingest reads it (title, cleaned text)."""
    from ingest.sources import Fetcher, iter_articles

    fetcher = Fetcher(10.0, 20_000_000)
    try:
        found = [a for a in iter_articles([str(path)], max_bytes=20_000_000, fetcher=fetcher) if hasattr(a, "text")]
    finally:
        fetcher.close()
    return found[0]


def score_pairs(pairs: list[dict], corpus: Path, matcher) -> list[dict]:
    """Each pair with its best sentence's `score` and `sentence`."""
    prepared = {}
    out = []
    for pair in pairs:
        if pair["doc"] not in prepared:
            article = read_article(corpus / pair["doc"])
            prepared[pair["doc"]] = matcher.prepare(article.title, article.text)
        best = matcher.best(pair["topic"], prepared[pair["doc"]])
        out.append({**pair, "score": best.score if best else float("-inf"), "sentence": best.sentence if best else ""})
    return out


def precision_recall(scored: list[dict], threshold: float) -> tuple[float, float]:
    tp = sum(1 for p in scored if p["label"] and p["score"] >= threshold)
    fp = sum(1 for p in scored if not p["label"] and p["score"] >= threshold)
    fn = sum(1 for p in scored if p["label"] and p["score"] < threshold)
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def brief_seconds(corpus: Path, count: int = 50) -> float:
    """Seconds to build and render (Slack blocks and text) a briefing of `count` corpus stories."""
    import time

    from bot.alerts.briefing import build_briefing, render_text
    from bot.alerts.stories import Story
    from bot.faces.slack.follow_blocks import brief_message

    paths = sorted((corpus / "whitehouse").glob("*.md"))[:count]
    articles = [read_article(p) for p in paths]
    now = time.time()
    stories = [Story(a.id, a.title, a.source, a.url, a.published_iso, a.text, now - i) for i, a in enumerate(articles)]
    started = time.perf_counter()
    briefing = build_briefing(stories, now - 86400, now)
    brief_message(briefing)
    render_text(briefing)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=Path, default=ROOT / "eval" / "topic_pairs.jsonl")
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--brief", action="store_true", help="Only time a briefing of 50 stories.")
    args = parser.parse_args()
    if args.brief:
        print(f"briefing of 50 stories built and rendered in {brief_seconds(args.corpus):.3f} s")
        return

    from bot.alerts.matching import THRESHOLD, TopicMatcher
    from bot.core.rerank import load_reranker
    from ingest.embedding import DocumentEmbedder
    from ingest.model_files import model_dir

    embedder = DocumentEmbedder(model_dir())
    matcher = TopicMatcher(embedder.encode, load_reranker())
    pairs = [json.loads(line) for line in args.pairs.read_text().splitlines() if line.strip()]
    scored = score_pairs(pairs, args.corpus, matcher)
    sweep = {t / 2: precision_recall(scored, t / 2) for t in range(-8, 13)}
    precision, recall = precision_recall(scored, THRESHOLD)
    if args.json:
        print(json.dumps({"threshold": THRESHOLD, "precision": precision, "recall": recall, "pairs": scored}))
        return
    for p in sorted(scored, key=lambda p: (p["topic"], -p["label"], -p["score"])):
        ok = (p["score"] >= THRESHOLD) == bool(p["label"])
        print(
            f"{'  ' if ok else '! '}{p['label']} {p['score']:6.2f} {p['topic'][:40]:40} {p['doc'][:44]:44} "
            f"{p['sentence'][:70]!r}"
        )
    print(f"\n{len(scored)} pairs ({sum(p['label'] for p in scored)} positive)")
    for t, (pr, rc) in sweep.items():
        print(f"threshold {t:5.1f}: precision {pr:.3f} recall {rc:.3f}")
    print(f"\nat THRESHOLD {THRESHOLD}: precision {precision:.3f}, recall {recall:.3f}")


if __name__ == "__main__":
    main()
