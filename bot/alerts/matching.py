"""Does a new story match a followed topic? Semantic matching, sentence by sentence.

The story is split into sentences (each an exact substring, so the one that matched can be
quoted verbatim). The embedder picks the `candidates` sentences closest to the topic; the
cross-encoder (bot/core/rerank.py) scores the topic against each, read with the story's title
in front; the story matches when the best logit reaches `threshold`. The threshold was
calibrated on labelled topic/story pairs (eval/topic_pairs.jsonl, `python -m eval.bench_topics`,
docs/BENCHMARKS.md "Topic matching").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from bot.core.sentences import split_sentences

# Sentences the cross-encoder reads per (topic, story): the embedder's nearest (the headline is one of them).
# 8 is the reranking stage's order of magnitude (FIRST 5 .. DEPTH 15 chunks); not tuned separately.
CANDIDATES = 8
# The cross-encoder logit a story's best sentence needs: the middle of the best plateau on the 86 labelled
# pairs of eval/topic_pairs.jsonl (2.5-3.5: precision 0.960, recall 0.923; `python -m eval.bench_topics`,
# docs/BENCHMARKS.md "Topic matching"). Settings.topic_threshold overrides it.
THRESHOLD = 3.0
MAX_SENTENCES = 400  # a story longer than this is read from its first 400 sentences (a treaty, a report)


@dataclass(frozen=True)
class TopicMatch:
    """The sentence of the story that best matches the topic, and its cross-encoder logit."""

    sentence: str
    score: float


@dataclass
class PreparedStory:
    """A story's sentences and their embeddings, computed once for every follow it is matched against."""

    title: str
    sentences: list[str]
    vectors: np.ndarray


class TopicMatcher:
    """`embed(texts)` gives unit vectors (the index's embedder); `reranker` is a `CrossEncoder`."""

    def __init__(
        self,
        embed: Callable[[list[str]], np.ndarray],
        reranker,
        threshold: float = THRESHOLD,
        candidates: int = CANDIDATES,
    ) -> None:
        self.embed = embed
        self.reranker = reranker
        self.threshold = threshold
        self.candidates = candidates

    def prepare(self, title: str, text: str) -> PreparedStory:
        sentences = [s for s in split_sentences(text) if s.strip()][:MAX_SENTENCES]
        if title.strip() and title.strip() not in sentences:
            sentences.insert(0, title.strip())  # the headline is a candidate too (it is the article's first line)
        vectors = self.embed(sentences) if sentences else np.zeros((0, 1), dtype=np.float32)
        return PreparedStory(title.strip(), sentences, np.asarray(vectors, dtype=np.float32))

    def best(self, topic: str, story: PreparedStory) -> TopicMatch | None:
        """The story's sentence that best matches `topic` (None for a story with no text)."""
        if not story.sentences:
            return None
        query = np.asarray(self.embed([topic]), dtype=np.float32)[0]
        near = np.argsort(-(story.vectors @ query), kind="stable")[: self.candidates]
        passages = [
            story.sentences[i] if story.sentences[i] == story.title else f"{story.title}. {story.sentences[i]}"
            for i in near
        ]
        if self.reranker is None:  # SPACEBOT_RERANKER=none: the embedder alone (cosine), a weaker signal
            scores = (story.vectors[near] @ query).astype(np.float32)
        else:
            scores = np.asarray(self.reranker.score(topic, passages), dtype=np.float32)
        top = int(np.argmax(scores))
        return TopicMatch(story.sentences[int(near[top])], float(scores[top]))

    def match(self, topic: str, story: PreparedStory) -> TopicMatch | None:
        """The best sentence when it reaches the threshold, else None."""
        found = self.best(topic, story)
        return found if found is not None and found.score >= self.threshold else None
