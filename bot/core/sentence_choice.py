"""Which sentences answer the question: the cross-encoder's relevance, sentence by sentence.

Candidates are the sentences of the best reranked passages. Each is scored by
the cross-encoder (question against "title. sentence", so a sentence that
relies on its article's title still reads as on topic), plus a bonus when its
article was cited by the conversation's last answer. A second or third sentence
is quoted only when it scores close to the first. A chosen sentence that opens
with a personal pronoun is quoted from the sentence before it, which names the
person (`with_antecedent`).

An answer-type bonus from spaCy's entities and parse (a who-question wants a
PERSON/ORG, "was signed by X") was measured on this pipeline and dropped: without
it the answers are as good on dev (0.704) and better on dev2 (0.700 vs 0.688),
and a cold `ask` no longer loads spaCy (eval/bench_pipeline.py, docs/BENCHMARKS.md).
The constants are tuned on dev and confirmed on dev2; docs/BENCHMARKS.md has the table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.core.records import ArticleHit, Passage
from bot.core.sentences import best_within, split_sentences

# Best passages whose sentences compete: 4 answers as 5 does on dev (0.704) and dev2 (0.700) and reads 8%
# fewer wordpieces; 3 loses two dev answers (eval/bench_pipeline.py).
SENTENCE_PASSAGES = 4
PER_ARTICLE = 2  # at most this many of them from one article, so one long article cannot crowd out the rest
MAX_SENTENCE_CHARS = 600  # longer "sentences" are tables or run-ons: not quotable
W_PASSAGE = 0.0  # share of the passage's reranker score: 0.1-0.3 changed nothing on dev (eval/bench_rerank.py)
MARGIN = 2.0  # 2nd/3rd sentence quoted within this many logits of the first: dev 0.648 -> 0.667 (0 -> 2),
# dev2 0.613 -> 0.762
MAX_SENTENCES = 3
# A follow-up is most likely about the articles the conversation's last answer cited. Not measurable with
# eval (it asks follow-ups without a stored conversation); set to MARGIN so such a sentence is at least quoted
# beside a slightly better one, and checked by the sample-corpus follow-up tests.
W_FOCUS = 2.0


@dataclass
class Scored:
    sentence: str
    passage: Passage
    score: float  # the cross-encoder's logit for the sentence, before bonuses
    total: float = 0.0


def candidate_sentences(hits: list[ArticleHit], passages: int | None = None) -> list[tuple[str, Passage]]:
    """(sentence, passage) pairs from the best `passages` passages (by score, `PER_ARTICLE` per article;
    default `SENTENCE_PASSAGES`)."""
    passages = passages or SENTENCE_PASSAGES
    ranked = sorted((p for h in hits for p in h.passages), key=lambda p: -p.score)
    per_article: dict[str, int] = {}
    chosen: list[Passage] = []
    for p in ranked:
        if per_article.get(p.article_id, 0) >= PER_ARTICLE:
            continue
        per_article[p.article_id] = per_article.get(p.article_id, 0) + 1
        chosen.append(p)
        if len(chosen) >= passages:
            break
    out, seen = [], set()
    for p in chosen:
        for sentence in split_sentences(p.text):
            if len(sentence) <= MAX_SENTENCE_CHARS and sentence not in seen:
                seen.add(sentence)
                out.append((sentence, p))
    return out


def relevance(query: str, hits: list[ArticleHit], model, focus: set[str] | None = None) -> list[Scored]:
    """Every candidate sentence with the cross-encoder's logit for `query` (the question with a
    follow-up's context), in candidate order; `total` adds the passage and focus shares."""
    pairs = candidate_sentences(hits)
    if not pairs:
        return []
    logits = model.score(query, [f"{p.title}. {s}" for s, p in pairs])
    return [
        Scored(s, p, float(x), float(x) + W_PASSAGE * p.score + (W_FOCUS if focus and p.article_id in focus else 0.0))
        for (s, p), x in zip(pairs, logits)
    ]


def score_sentences(query: str, hits: list[ArticleHit], model, focus: set[str] | None = None) -> list[Scored]:
    """Every candidate sentence scored, best first (`relevance`, ordered by `total`)."""
    return sorted(relevance(query, hits, model, focus), key=lambda c: -c.total)


def choose(scored: list[Scored], max_sentences: int = MAX_SENTENCES, margin: float = MARGIN) -> list[Scored]:
    """The best sentence, and up to `max_sentences - 1` more that score within `margin` of it."""
    return best_within(scored, lambda c: c.total, max_sentences, margin)


# A quote that opens with a personal pronoun ("He takes over the role from Rob Manning.") names nobody:
# its antecedent is in the sentence before it.
_PERSONAL_PRONOUN = re.compile(r"^(?:he|she|they|his|her|their)\b", re.IGNORECASE)


def with_antecedent(chosen: list[Scored]) -> list[Scored]:
    """Each chosen sentence that opens with a personal pronoun, quoted from the sentence before it in its
    passage (an exact slice of the passage); a chosen sentence the longer quote holds is dropped."""
    out: list[Scored] = []
    for c in chosen:
        if _PERSONAL_PRONOUN.match(c.sentence):
            sentences = split_sentences(c.passage.text)
            i = sentences.index(c.sentence) if c.sentence in sentences else 0
            if i > 0:
                text = c.passage.text
                start = text.find(sentences[i - 1])
                end = text.find(c.sentence, start) + len(c.sentence)
                if 0 <= start < end:
                    c = replace(c, sentence=text[start:end])
        out.append(c)
    return [c for c in out if not any(c is not o and c.sentence in o.sentence for o in out)]
