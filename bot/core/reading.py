"""The reader's view of a question: every candidate sentence scored for "states the answer".

The reader is the reranking cross-encoder (`bot.core.rerank`, `SPACEBOT_READER=cross-encoder`, the
default: on dev it did better than the trained reader, docs/BENCHMARKS.md) or `bot.core.reader.Reader`
(trained here, `bot/models/reader.onnx`, `SPACEBOT_READER=trained`). Both score (question, sentence,
context) with one logit per sentence; the context is the sentence's article title.

The refusal gate and the answerer read the same sentences: `read` keeps the last readings,
so the second read is free.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from bot.core.records import ArticleHit, Passage

STANDIN = "cross-encoder"  # the calibration key of the stand-in reader (bot/models/reader_calibration.json)
READER = "reader"  # the calibration key of the trained reader
KEEP_READINGS = 64  # readings kept per process (the gate and the answerer of one question share one)


@dataclass
class Sentence:
    """A candidate sentence with the reader's logit."""

    sentence: str
    passage: Passage
    logit: float


@dataclass
class Reading:
    """A question's candidate sentences, best first; `top_passage`: the best cross-encoder passage logit
    (None when the articles were not reranked)."""

    query: str
    sentences: list[Sentence] = field(default_factory=list)
    top_passage: float | None = None
    reader: str = STANDIN

    @property
    def best(self) -> Sentence | None:
        return self.sentences[0] if self.sentences else None


class StandInReader:
    """The cross-encoder as a reader: question against "title. sentence"."""

    name = STANDIN

    def __init__(self, model):
        self.model = model

    def scores(self, question: str, sentences: list[str], contexts: list[str] | None = None) -> list[float]:
        texts = [f"{c}. {s}" if c else s for s, c in zip(sentences, contexts or [None] * len(sentences))]
        return [float(x) for x in self.model.score(question, texts)] if texts else []


_lock = threading.Lock()
_readers: dict[str, object] = {}


def load_reader(setting: str | None = None, choice: str = "cross-encoder"):
    """The trained reader when `choice` is "trained" and its model is installed, else the stand-in over the
    configured cross-encoder (`setting`: SPACEBOT_RERANKER); None when neither is."""
    if choice == "trained":
        with _lock:
            if READER not in _readers:
                _readers[READER] = _trained_reader()
            if _readers[READER] is not None:
                return _readers[READER]
    from bot.core.rerank import load_reranker

    model = load_reranker(setting)
    return StandInReader(model) if model is not None else None


def _trained_reader():
    """The shipped reader (`bot.core.reader`), or None while its model file is not in the repository."""
    try:
        from bot.core import reader as trained
    except ImportError:
        return None
    if not trained.MODEL_PATH.is_file():
        return None
    reader = trained.load_reader()
    if not getattr(reader, "name", None):
        reader.name = READER
    return reader


_cache: OrderedDict[tuple, Reading] = OrderedDict()
_cache_lock = threading.Lock()


def read(question: str, hits: list[ArticleHit], context: list[str] | None = None, reader=None) -> Reading:
    """The candidate sentences of `hits` (`sentence_choice.candidate_sentences`) scored by the reader
    for `question` (with a follow-up's earlier turns `context`), best first."""
    from bot.core.followup import contextual_query
    from bot.core.sentence_choice import candidate_sentences

    query = contextual_query(question, context)
    top = max((h.score for h in hits), default=None) if hits and hits[0].reranked else None
    reader = reader or load_reader()
    name = getattr(reader, "name", STANDIN)
    key = (name, query, tuple(p.chunk_id for h in hits for p in h.passages))
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    pairs = candidate_sentences(hits)
    logits = reader.scores(query, [s for s, _ in pairs], [p.title for _, p in pairs]) if pairs else []
    scored = sorted((Sentence(s, p, float(x)) for (s, p), x in zip(pairs, logits)), key=lambda c: -c.logit)
    reading = Reading(query, scored, top, name)
    with _cache_lock:
        _cache[key] = reading
        while len(_cache) > KEEP_READINGS:
            _cache.popitem(last=False)
    return reading
