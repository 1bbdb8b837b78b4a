"""The citation builder: the one place an answer's `[n]` becomes a `Citation`.

One quote rule for every answerer: a quote is an exact stretch of its passage,
the sentences the answer relies on (two neighbouring sentences of one passage
share a citation, quoted together); when the answerer cites a passage as a whole
(an LLM's `[n]`), the passage's opening, cut at a word boundary. A shaped answer (list,
timeline, outlets) writes its own text and numbers; each of its claims names its sentence.

One number per article: a quote from an article already cited gets that article's
number (a second `Citation` with the same `n` when it is not next to the first quote).
"""

from __future__ import annotations

from bot.core.records import Answer, Citation, Passage
from bot.core.stages import Claim, Draft

# an answer below the sure level opens with this (bot/core/reader_answerer.py)
UNSURE_LEAD = "The articles may not say this directly; the closest they come:"
WHOLE_PASSAGE_QUOTE = 300  # characters of a passage quoted when no sentence is named (a Slack line shows 200)


def opening(text: str, limit: int = WHOLE_PASSAGE_QUOTE) -> str:
    """An exact prefix of `text`, cut at a word boundary."""
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > 0 else limit]


def joined_span(text: str, first: str, second: str) -> str | None:
    """The exact stretch of `text` holding both sentences, if they are next to each other."""
    a, b = text.find(first), text.find(second)
    if a < 0 or b < 0:
        return None
    lo, hi = min(a, b), max(a + len(first), b + len(second))
    return text[lo:hi] if hi - lo <= len(first) + len(second) + 3 else None


def _citation(n: int, passage: Passage, quote: str, score: float) -> Citation:
    return Citation(
        n=n,
        article_id=passage.article_id,
        title=passage.title,
        source=passage.source,
        url=passage.url,
        published=passage.published,
        quote=quote,
        score=round(score, 4),
        also_in=list(passage.also_in),
        path=passage.path,
    )


class Citations:
    """Builds the `Answer` from a `Draft` (see `bot.core.stages.CitationBuilder`)."""

    def build(self, question: str, draft: Draft) -> Answer:
        if draft.text is None:
            text, citations = self._quote(draft.claims)
            if not draft.sure:
                text = f"{UNSURE_LEAD}\n\n{text}"
        else:  # the text is written (and maybe on screen already): its numbers stand
            text = draft.text
            citations = [self._written(c) for c in draft.claims]
        return Answer(
            question=question,
            text=text,
            refused=False,
            citations=citations,
            note=draft.note,
            as_of=draft.as_of,
            short_answer=draft.short_answer,
            confidence=draft.confidence,
            sure=draft.sure,
            shaped=draft.shaped,
        )

    @staticmethod
    def _written(claim: Claim) -> Citation:
        """The citation of a claim whose `[n]` is written: its sentence (a shaped answer's), else the
        passage's opening (an LLM's `[n]` cites the passage as a whole)."""
        if claim.sentence:
            return _citation(claim.n, claim.passage, claim.sentence, claim.score)
        return _citation(claim.n, claim.passage, opening(claim.passage.text), claim.passage.score)

    @staticmethod
    def _quote(claims: list[Claim]) -> tuple[str, list[Citation]]:
        """ "sentence [n]" for each claim, articles numbered in order of first use."""
        citations: list[Citation] = []
        parts = []
        for claim in claims:
            p = claim.passage
            sentence = claim.sentence or opening(p.text)
            target = None
            same = [c for c in citations if c.article_id == p.article_id]
            for citation in same:
                span = joined_span(p.text, citation.quote, sentence)
                if span is not None and citation.title == p.title:
                    citation.quote, target = span, citation
                    break
            if target is None:
                n = same[0].n if same else 1 + max((c.n for c in citations), default=0)
                target = _citation(n, p, sentence, claim.score)
                citations.append(target)
            parts.append(f"{sentence} [{target.n}]")
        return " ".join(parts), citations
