"""Near-duplicate articles (the same story under other URLs, reprints with another header),
found by MinHash LSH over word shingles (datasketch) and kept as groups.

A group is derived state, like the keyword index it is stored in: computed from every
article the collection holds whenever that index is built. Retrieval shows one article
per group, its representative, and cites the others as "also in".

The settings were chosen by measurement on `../shared/corpus` (`python -m
eval.bench_groups`, docs/BENCHMARKS.md "Near-duplicate groups"): the corpus holds one
exact copy (two White House releases, Jaccard 1.0) and one reprint under another
caption (two Hubble pages, 0.69 at 16-word shingles); the closest pairs that are NOT the
same story are three DC-8 flyover notices for different cities (one template, 0.55–0.62
at 16 words, but 0.79–0.83 at 5 words). Long shingles separate them: a header or
trailer changes a few shingles wherever it is, while a template's edits (a city, a date
in every paragraph) break every shingle that spans one.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ingest.article_texts import ArticleText

SHINGLE_WORDS = 16  # 5 and 8 words put the DC-8 template notices above the Hubble reprint (see above)
SAME_STORY = 0.65  # exact shingle Jaccard: above the DC-8 notices (0.62), below the reprint (0.69)
# Candidate pairs come from LSH at a lower threshold, then the exact Jaccard decides: with
# 128 permutations, LSH at 0.5 found every pair at or above 0.65 on the corpus and on 300
# synthetic reprints (bench_groups); fewer permutations missed some.
NUM_PERM = 128
LSH_THRESHOLD = 0.5
SEED = 1  # MinHash permutations are seeded: the same corpus always gives the same groups
GROUPS_FILE = "groups.json"
_WORD = re.compile(r"\w+")


def shingle_hashes(text: str, size: int = SHINGLE_WORDS) -> np.ndarray:
    """The distinct 32-bit hashes (datasketch's sha1) of the `size`-word shingles of `text`."""
    from datasketch.hashfunc import sha1_hash32

    words = _WORD.findall(text.lower())
    spans = [" ".join(words[i : i + size]) for i in range(max(1, len(words) - size + 1))]
    return np.unique(np.array([sha1_hash32(s.encode("utf-8")) for s in spans], dtype=np.uint32))


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted arrays of distinct hashes."""
    shared = len(np.intersect1d(a, b, assume_unique=True))
    union = len(a) + len(b) - shared
    return shared / union if union else 0.0


def _identity(value):
    return value


def similar_pairs(
    shingles: list[np.ndarray], threshold: float = SAME_STORY, num_perm: int = NUM_PERM
) -> Iterator[tuple[int, int, float]]:
    """(i, j, Jaccard) for every pair LSH proposes whose exact Jaccard is at least `threshold`."""
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=min(LSH_THRESHOLD, threshold), num_perm=num_perm)
    for i, hashes in enumerate(shingles):
        sketch = MinHash(num_perm=num_perm, seed=SEED, hashfunc=_identity)
        sketch.update_batch(hashes.tolist())
        for j in lsh.query(sketch):
            score = jaccard(shingles[i], shingles[j])
            if score >= threshold:
                yield j, i, score
        lsh.insert(i, sketch)


def representative_order(members: list[ArticleText]) -> list[ArticleText]:
    """A group's members, its representative first: the page whose URL a member declares
    canonical, else the earliest published (undated ones last), else the first by id."""
    declared = {m.canonical_url for m in members if m.canonical_url}

    def key(m: ArticleText):
        return (m.url not in declared, m.published is None, m.published or "", m.article_id)

    return sorted(members, key=key)


def find_groups(articles: list[ArticleText]) -> list[list[str]]:
    """Groups of near-duplicate articles (ids, representative first); articles without a copy are in none."""
    shingles = [shingle_hashes(a.text) for a in articles]
    parent = list(range(len(articles)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, j, _ in similar_pairs(shingles):
        parent[root(i)] = root(j)
    components: dict[int, list[ArticleText]] = {}
    for i, article in enumerate(articles):
        components.setdefault(root(i), []).append(article)
    groups = [[m.article_id for m in representative_order(c)] for c in components.values() if len(c) > 1]
    return sorted(groups)


def write_groups(groups: list[list[str]], folder: Path) -> None:
    """Save the groups (with the settings that found them) in `folder`."""
    settings = {"shingle_words": SHINGLE_WORDS, "jaccard": SAME_STORY, "num_perm": NUM_PERM}
    with open(Path(folder) / GROUPS_FILE, "w", encoding="utf-8") as handle:
        json.dump({"settings": settings, "groups": groups}, handle, ensure_ascii=False)


@dataclass
class DuplicateGroups:
    """Which articles are copies of which: `members(id)` is its group, representative first."""

    groups: list[list[str]]

    def __post_init__(self):
        self._of = {article_id: tuple(group) for group in self.groups for article_id in group}

    @classmethod
    def load(cls, folder: Path) -> DuplicateGroups:
        with open(Path(folder) / GROUPS_FILE, encoding="utf-8") as handle:
            return cls([list(map(str, g)) for g in json.load(handle)["groups"]])

    def members(self, article_id: str) -> tuple[str, ...]:
        """The group of `article_id`, representative first; `(article_id,)` when it has no copy."""
        return self._of.get(article_id, (article_id,))

    def representative(self, article_id: str) -> str:
        return self.members(article_id)[0]

    def __len__(self) -> int:
        return len(self.groups)
