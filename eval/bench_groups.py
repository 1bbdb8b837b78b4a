"""Experiment: how the near-duplicate settings (ingest/near_duplicates.py) were chosen.

Over the articles of an index (put back together from its chunk table), for several
shingle sizes: the exact-Jaccard pairs above several thresholds (named, so a reader can
judge whether each is the same story); how many of 300 synthetic reprints (an article with
its first paragraph replaced by another's) reach each threshold; and, for the chosen
shingle size, which share of the pairs at or above the chosen threshold MinHash LSH
proposes at each number of permutations. Prints JSON.

    PYTHONPATH=. python -m eval.bench_groups --data-dir /work/bench/groups-index
"""

from __future__ import annotations

import argparse
import json
import random
import time

import numpy as np

SIZES = (5, 8, 13, 16, 20)
THRESHOLDS = (0.5, 0.6, 0.65, 0.7)
PERMS = (32, 64, 128, 256)
SYNTHETIC = 300


def exact_pairs(shingles: list[np.ndarray], floor: float) -> list[tuple[int, int, float]]:
    """Every pair with exact Jaccard >= floor (sparse product over shingle hashes)."""
    import scipy.sparse as sp

    values = np.concatenate(shingles)
    vocab, cols = np.unique(values, return_inverse=True)
    rows = np.repeat(np.arange(len(shingles)), [len(s) for s in shingles])
    matrix = sp.csr_matrix((np.ones(len(cols)), (rows, cols)), shape=(len(shingles), len(vocab)))
    shared = (matrix @ matrix.T).tocoo()
    sizes = np.array([len(s) for s in shingles])
    out = []
    for i, j, n in zip(shared.row, shared.col, shared.data):
        if i < j:
            score = n / (sizes[i] + sizes[j] - n)
            if score >= floor:
                out.append((int(i), int(j), float(score)))
    return out


def synthetic_reprints(texts: list[str], size: int, rng: random.Random) -> list[tuple[int, np.ndarray, float]]:
    """(article, its copy's shingles, Jaccard) for `SYNTHETIC` articles, each copied with its
    first paragraph replaced by another article's."""
    from ingest.near_duplicates import jaccard, shingle_hashes

    out = []
    for i in rng.sample(range(len(texts)), min(SYNTHETIC, len(texts))):
        paragraphs = [p for p in texts[i].split("\n\n") if p.strip()]
        if len(paragraphs) < 2:
            continue
        header = texts[rng.randrange(len(texts))].split("\n\n")[0]
        copy = shingle_hashes("\n\n".join([header, *paragraphs[1:]]), size)
        out.append((i, copy, jaccard(shingle_hashes(texts[i], size), copy)))
    return out


def lsh_recall(shingles: list[np.ndarray], truth: set[tuple[int, int]]) -> dict[int, float]:
    """Share of the `truth` pairs `similar_pairs` returns, per number of permutations."""
    from ingest.near_duplicates import SAME_STORY, similar_pairs

    out = {}
    for perms in PERMS:
        found = {(min(i, j), max(i, j)) for i, j, _ in similar_pairs(shingles, SAME_STORY, perms)}
        out[perms] = len(found & truth) / len(truth) if truth else 1.0
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", required=True)
    args = parser.parse_args()
    from ingest.article_texts import article_texts
    from ingest.keyword_index import KeywordIndex
    from ingest.near_duplicates import SAME_STORY, SHINGLE_WORDS, find_groups, shingle_hashes
    from ingest.settings import Settings

    settings = Settings(_env_file=None, SPACEBOT_DATA_DIR=args.data_dir)
    articles = article_texts(KeywordIndex(settings.keyword_dir).table.columns)
    texts = [a.text for a in articles]
    report: dict = {"articles": len(articles), "sizes": {}}
    for size in SIZES:
        shingles = [shingle_hashes(t, size) for t in texts]
        pairs = exact_pairs(shingles, min(THRESHOLDS))
        reprints = synthetic_reprints(texts, size, random.Random(0))
        synthetic = np.array([score for _, _, score in reprints])
        report["sizes"][size] = {
            "pairs": {
                t: [(articles[i].article_id, articles[j].article_id, round(s, 3)) for i, j, s in pairs if s >= t]
                for t in THRESHOLDS
            },
            "synthetic reprints at or above": {t: round(float((synthetic >= t).mean()), 3) for t in THRESHOLDS},
        }
        if size == SHINGLE_WORDS:
            truth = {(i, j) for i, j, s in pairs if s >= SAME_STORY}
            truth |= {(i, len(shingles) + n) for n, (i, _, s) in enumerate(reprints) if s >= SAME_STORY}
            report["lsh pairs >= threshold (corpus + synthetic)"] = len(truth)
            report["lsh recall by num_perm"] = lsh_recall(shingles + [c for _, c, _ in reprints], truth)
    started = time.perf_counter()
    groups = find_groups(articles)
    report["groups"] = groups
    report["find_groups seconds"] = round(time.perf_counter() - started, 2)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
