"""The no-LLM answer: the retrieved sentences that best answer the question, quoted verbatim.

Each quoted sentence is followed by `[n]`, and `[n]` is the passage it came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.records import Answer, ArticleHit, Citation, Passage
from bot.core.sentences import split_sentences

MAX_SENTENCES = 3
CANDIDATE_PASSAGES = 6
TYPE_BONUS = 0.3
TITLE_WEIGHT = 0.5
CONTEXT_WEIGHT = 0.5
FOCUS_BONUS = 0.15  # a follow-up is most likely about the articles the last answer cited
MIN_TYPED_OVERLAP = 0.2  # calibrated on the dev set (docs/BENCHMARKS.md)
FIGURE_TYPES = ("money", "number", "date")  # asked for a figure: no sentence about it holds one → refuse
RANK_PENALTY = 0.03
SECOND_SENTENCE_MARGIN = 0.25


@dataclass
class _Candidate:
    sentence: str
    passage: Passage
    rank: int  # passage rank among candidates
    score: float = 0.0


def _candidates(hits: list[ArticleHit]) -> list[_Candidate]:
    passages = sorted((p for h in hits for p in h.passages), key=lambda p: -p.score)
    out = []
    for rank, passage in enumerate(passages[:CANDIDATE_PASSAGES]):
        for sentence in split_sentences(passage.text):
            if len(sentence) <= 600:
                out.append(_Candidate(sentence, passage, rank))
    return out


def _keyword_overlap(question_terms: dict[str, float], sentence_terms: set[str]) -> float:
    total = sum(question_terms.values()) or 1.0
    return sum(w for t, w in question_terms.items() if t in sentence_terms) / total


def select_sentences(question: str, hits: list[ArticleHit], index, context: list[str] | None = None,
                     max_sentences: int = MAX_SENTENCES, focus: set[str] | None = None) -> list[_Candidate]:
    """Up to `MAX_SENTENCES` sentences, best first.

    A sentence scores by the question's terms it shares (weighted by rarity; terms
    only in its article's title, or only in a follow-up's earlier turns, count half), the rank of its passage, and whether
    it holds the kind of thing asked for (an amount, a count, a date), and whether its
    article is in `focus` (cited by the conversation's last answer). No model
    runs here: embedding ~40 candidate sentences cost ~460 ms on 2 cores.
    """
    from bot.core.answer_type import expected_type, has_type
    from bot.core.evidence import main_name, names, question_terms

    candidates = _candidates(hits)
    if not candidates:
        return []
    keyword = index.keyword
    terms = question_terms(question, keyword)
    weights = {term: keyword.idf(term) for term in terms}
    for term in question_terms(" ".join(context or []), keyword):  # a follow-up's earlier turns
        weights.setdefault(term, CONTEXT_WEIGHT * keyword.idf(term))
    sentence_terms = [set(keyword.terms(c.sentence)) for c in candidates]
    title_terms = {title: set(keyword.terms(title)) for title in {c.passage.title for c in candidates}}
    kind = expected_type(question)
    subject = main_name(terms, keyword) if kind in FIGURE_TYPES else None
    best_typed = 0.0
    for candidate, own in zip(candidates, sentence_terms):
        in_title = title_terms[candidate.passage.title] - own
        overlap = _keyword_overlap(weights, own) + TITLE_WEIGHT * _keyword_overlap(weights, in_title)
        typed = bool(kind) and has_type(candidate.sentence, kind) and (subject is None or names(own, subject))
        if typed:
            best_typed = max(best_typed, overlap)
        candidate.score = overlap + (TYPE_BONUS if typed else 0.0) - RANK_PENALTY * candidate.rank
        if focus and candidate.passage.article_id in focus:
            candidate.score += FOCUS_BONUS
    if kind in FIGURE_TYPES and best_typed < MIN_TYPED_OVERLAP:
        # Asked for an amount, count or date, and no sentence that states one is about the
        # question (shares its terms and names its subject: "china" for "when does china
        # plan to land..."): quoting a figure about something else would be a made-up answer.
        return []
    ranked = sorted(candidates, key=lambda c: -c.score)
    chosen = [ranked[0]]
    for candidate in ranked[1:]:
        if len(chosen) >= max_sentences or candidate.score < ranked[0].score - SECOND_SENTENCE_MARGIN:
            break
        if all(candidate.sentence not in c.sentence and c.sentence not in candidate.sentence for c in chosen):
            chosen.append(candidate)
    return chosen


def _span(text: str, first: str, second: str) -> str | None:
    """The exact stretch of `text` holding both sentences, if they are next to each other."""
    a, b = text.find(first), text.find(second)
    if a < 0 or b < 0:
        return None
    lo, hi = min(a, b), max(a + len(first), b + len(second))
    return text[lo:hi] if hi - lo <= len(first) + len(second) + 3 else None


def compose_answer(question: str, chosen: list[_Candidate]) -> Answer:
    """Answer text with `[n]` after each quoted sentence; `[n]` is one passage, its quote exact."""
    citations: list[Citation] = []
    parts = []
    for candidate in chosen:
        p = candidate.passage
        target = None
        for citation in citations:
            if citation.article_id == p.article_id and citation.title == p.title:
                span = _span(p.text, citation.quote, candidate.sentence)
                if span is not None:
                    citation.quote, target = span, citation
                    break
        if target is None:
            target = Citation(n=len(citations) + 1, article_id=p.article_id, title=p.title, source=p.source,
                              url=p.url, published=p.published, quote=candidate.sentence,
                              score=round(candidate.score, 4))
            citations.append(target)
        parts.append(f"{candidate.sentence} [{target.n}]")
    return Answer(question=question, text=" ".join(parts), refused=False, citations=citations)
