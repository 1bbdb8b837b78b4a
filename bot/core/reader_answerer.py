"""The single-fact answer: the sentence the reader scores highest leads, with one gate and a confidence.

One score decides: the reader's best logit over the candidate sentences
(`bot.core.reading`), calibrated to a probability (`bot.core.calibration`), is the
answer's `confidence`. With the knobs of `AnswerKnobs`:

- off-topic (no retrieved passage reaches `closest_min`) or confidence below `floor`: refused;
  with `figure_rule` on, also when no sentence stating an asked-for figure is about the question
  (`bot.core.gate.figure_refusal`: kept while it still refuses unanswerable questions on dev that the
  confidence does not, docs/BENCHMARKS.md);
- below `sure`: answered with a hedge ("The articles may not say this directly; ...");
- else: the answer, opened by its short answer (`bot.core.short_answer`).

A second or third sentence is quoted only when it adds support: its reader logit is
within `margin` of the lead's and it comes from another article. Articles that were
not reranked (modes dense/bm25/hybrid, `SPACEBOT_RERANKER=none`) keep the keyword
gate and answerer (`EvidenceGate`, `ExtractiveAnswerer`).
"""

from __future__ import annotations

import logging
from dataclasses import replace

from bot.core.answer_knobs import AnswerKnobs
from bot.core.records import ArticleHit
from bot.core.stages import AnswerRequest, Claim, Draft, Refusal

log = logging.getLogger("spacebot.answer")

# A follow-up is most likely about the articles the conversation's last answer cited: their sentences
# read this many logits better (sentence_choice.W_FOCUS, checked by the sample-corpus follow-up tests).
W_FOCUS = 2.0


def confidence_of(reading, question: str, lead=None) -> float:
    """The calibrated probability that the answer led by `lead` (default: the reading's lead) holds the fact."""
    from bot.core.calibration import calibration

    lead = lead if lead is not None else next(iter(ranked(reading, question)), None)
    if lead is None:
        return 0.0
    return calibration(reading.reader).confidence(lead.logit, _missing(question, lead.sentence))


def _missing(question: str, sentence: str) -> bool:
    """True when the question asks for a typed thing (a name, date, number) that `sentence` lacks."""
    from bot.core.short_answer import asks_typed, short_answer

    return asks_typed(question) and short_answer(question, sentence) is None


def ranked(reading, question: str, focus: set[str] | None = None, margin: float = AnswerKnobs.margin) -> list:
    """The reading's sentences, lead first: best logit (a follow-up's focus articles favoured), except that
    a sentence holding the asked-for kind of thing leads when it is within `margin` of the best."""

    def total(c) -> float:
        return c.logit + (W_FOCUS if focus and c.passage.article_id in focus else 0.0)

    out = sorted(reading.sentences, key=lambda c: -total(c))
    if out and _missing(question, out[0].sentence):
        for i, c in enumerate(out[1:], 1):
            if total(c) < total(out[0]) - margin:
                break
            if not _missing(question, c.sentence):
                out.insert(0, out.pop(i))
                break
    return out


def off_topic(reading, knobs: AnswerKnobs) -> bool:
    """True when no retrieved passage is close to the question (the best cross-encoder logit < closest_min)."""
    return reading.top_passage is not None and reading.top_passage < knobs.closest_min


class ReaderGate:
    """Refuses off-topic questions and those whose confidence is below the floor; `EvidenceGate` for
    articles that were not reranked."""

    def __init__(self, index, knobs: AnswerKnobs | None = None, setting: str | None = None):
        from bot.core.gate import EvidenceGate

        self.knobs = knobs or AnswerKnobs()
        self.setting = setting  # SPACEBOT_RERANKER; None reads the environment
        self.fallback = EvidenceGate(index)

    def check(self, question: str, hits: list[ArticleHit], context: list[str]) -> Refusal | None:
        from bot.core.reading import load_reader, read

        reader = load_reader(self.setting, self.knobs.reader) if hits and hits[0].reranked else None
        if reader is None:
            return self.fallback.check(question, hits, context)
        reading = read(question, hits, context, reader)
        confidence = confidence_of(
            reading, question, next(iter(ranked(reading, question, None, self.knobs.margin)), None)
        )
        if off_topic(reading, self.knobs):
            refusal = Refusal(f"off-topic: best passage {reading.top_passage:.2f} < {self.knobs.closest_min}", 0.0)
        elif confidence < self.knobs.floor:
            refusal = Refusal(f"confidence {confidence:.2f} < floor {self.knobs.floor}", confidence)
        elif self.knobs.figure_rule:
            from bot.core.gate import figure_refusal

            refusal = figure_refusal(question, hits, self.fallback.index.keyword, context)
            if refusal is None:
                return None
            refusal = Refusal(refusal.reason, confidence)
        else:
            return None
        log.debug("refused %r: %s", question, refusal.reason)
        return refusal


class ReaderAnswerer:
    """Quotes the reader's best sentence, and up to two supporting sentences from other articles."""

    def __init__(self, index, knobs: AnswerKnobs | None = None, setting: str | None = None):
        from bot.core.extractive import ExtractiveAnswerer

        self.knobs = knobs or AnswerKnobs()
        self.setting = setting
        self.fallback = ExtractiveAnswerer(index)

    def draft(self, request: AnswerRequest) -> Draft | None:
        from bot.core.reading import load_reader, read

        hits = request.hits
        reader = load_reader(self.setting, self.knobs.reader) if hits and hits[0].reranked else None
        if reader is None:
            return self.fallback.draft(request)
        reading = read(request.question, hits, [q for q, _ in request.history], reader)
        chosen = self.choose(reading, request.question, request.focus, min(request.k, self.knobs.max_sentences))
        if not chosen:
            return None
        from bot.core.short_answer import short_answer

        confidence = confidence_of(reading, request.question, chosen[0])
        claims = [Claim(c.passage, c.sentence, c.logit) for c in _with_antecedent(chosen)]
        return Draft(
            claims=claims,
            short_answer=short_answer(request.question, chosen[0].sentence),
            confidence=confidence,
            sure=confidence >= self.knobs.sure,
        )

    def choose(self, reading, question: str, focus: set[str] | None, max_sentences: int) -> list:
        """The lead (`ranked`) and the sentences of other articles that support it (within `margin`)."""
        order = ranked(reading, question, focus, self.knobs.margin)
        if not order:
            return []
        chosen = [order[0]]
        for c in order[1:]:
            if len(chosen) >= max_sentences or c.logit < order[0].logit - self.knobs.margin:
                break
            if all(c.passage.article_id != o.passage.article_id for o in chosen):
                chosen.append(c)
        return chosen


def _with_antecedent(chosen: list) -> list:
    """`sentence_choice.with_antecedent` on reader sentences: a quote opening with "He"/"She"/"They"
    starts at the sentence before it, which names the person."""
    from bot.core.sentence_choice import Scored, with_antecedent

    out = []
    for c in chosen:
        quoted = with_antecedent([Scored(c.sentence, c.passage, c.logit, c.logit)])[0].sentence
        out.append(replace(c, sentence=quoted))
    return [c for c in out if not any(c is not o and c.sentence in o.sentence for o in out)]
