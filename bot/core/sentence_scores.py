"""Scores the sentences of the best passages against a question, without a model.

Read by the refusal gate (is any sentence stating an asked-for figure about the
question?) and by the extractive answerer (which sentences to quote).

The weights, explained once. A sentence scores

    overlap + TYPE_BONUS (if it holds the asked-for kind of thing)
            - RANK_PENALTY * rank of its passage + FOCUS_BONUS (if its article was just cited)

where `overlap` is the share of the question's term weight (BM25 idf) found in the
sentence, plus TITLE_WEIGHT times the share found only in its article's title;
terms of a follow-up's earlier turns weigh CONTEXT_WEIGHT of their idf. The
values were set by hand while reading the dev-set answers (commits 37faef1,
95451fa, df315e4); no sweep over them was recorded. What each one does:

- TYPE_BONUS 0.3: a sentence with a date beats one that only repeats more of a "when" question's words.
- TITLE_WEIGHT 0.5: a term only in the title supports the sentence, but less than one it states.
- CONTEXT_WEIGHT 0.5: a follow-up's own words matter more than its earlier turns'.
- RANK_PENALTY 0.03: among equal sentences, the better-retrieved passage wins.
- FOCUS_BONUS 0.15: a follow-up is most likely about the articles the last answer cited.
- MIN_TYPED_OVERLAP 0.2: a sentence stating a figure answers only if it shares a fifth of the
  question's weighted terms ("how much will the lunar station cost?" was answered with another budget).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.records import ArticleHit, Passage
from bot.core.sentences import split_sentences

CANDIDATE_PASSAGES = 6  # the best passages over all articles whose sentences are scored
MAX_SENTENCE_CHARS = 600  # a longer "sentence" is a splitting failure (a table, a run-on list): never quoted
TYPE_BONUS = 0.3
TITLE_WEIGHT = 0.5
CONTEXT_WEIGHT = 0.5
RANK_PENALTY = 0.03
FOCUS_BONUS = 0.15
MIN_TYPED_OVERLAP = 0.2
FIGURE_TYPES = ("money", "number", "date")  # answer types that are figures: the refusal gate checks them


@dataclass
class Candidate:
    """A sentence of a retrieved passage, with its score."""

    sentence: str
    passage: Passage
    rank: int  # passage rank among candidates
    score: float = 0.0


@dataclass
class Scored:
    """Candidates scored for one question: `kind` is the asked-for type, `best_typed` the best
    overlap of a sentence that holds it (and names the question's subject, for figures)."""

    candidates: list[Candidate]
    kind: str | None
    best_typed: float


def _candidates(hits: list[ArticleHit]) -> list[Candidate]:
    passages = sorted((p for h in hits for p in h.passages), key=lambda p: -p.score)
    out = []
    for rank, passage in enumerate(passages[:CANDIDATE_PASSAGES]):
        for sentence in split_sentences(passage.text):
            if len(sentence) <= MAX_SENTENCE_CHARS:
                out.append(Candidate(sentence, passage, rank))
    return out


def _keyword_overlap(question_terms: dict[str, float], sentence_terms: set[str]) -> float:
    total = sum(question_terms.values()) or 1.0
    return sum(w for t, w in question_terms.items() if t in sentence_terms) / total


def score_sentences(
    question: str, hits: list[ArticleHit], keyword, context: list[str] | None = None, focus: set[str] | None = None
) -> Scored:
    """Every candidate sentence of the best passages, scored as the module docstring says."""
    from bot.core.answer_type import expected_type, has_type
    from bot.core.evidence import main_name, names, question_terms

    candidates = _candidates(hits)
    kind = expected_type(question)
    if not candidates:
        return Scored([], kind, 0.0)
    terms = question_terms(question, keyword)
    weights = {term: keyword.idf(term) for term in terms}
    for term in question_terms(" ".join(context or []), keyword):  # a follow-up's earlier turns
        weights.setdefault(term, CONTEXT_WEIGHT * keyword.idf(term))
    title_terms = {title: set(keyword.terms(title)) for title in {c.passage.title for c in candidates}}
    subject = main_name(terms, keyword) if kind in FIGURE_TYPES else None
    best_typed = 0.0
    for candidate in candidates:
        own = set(keyword.terms(candidate.sentence))
        in_title = title_terms[candidate.passage.title] - own
        overlap = _keyword_overlap(weights, own) + TITLE_WEIGHT * _keyword_overlap(weights, in_title)
        typed = bool(kind) and has_type(candidate.sentence, kind) and (subject is None or names(own, subject))
        if typed:
            best_typed = max(best_typed, overlap)
        candidate.score = overlap + (TYPE_BONUS if typed else 0.0) - RANK_PENALTY * candidate.rank
        if focus and candidate.passage.article_id in focus:
            candidate.score += FOCUS_BONUS
    return Scored(candidates, kind, best_typed)


def states_asked_figure(scored: Scored) -> bool:
    """False when the question asks for an amount, count or date and no sentence stating one
    is about it (shares MIN_TYPED_OVERLAP of its terms and names its subject)."""
    return scored.kind not in FIGURE_TYPES or scored.best_typed >= MIN_TYPED_OVERLAP
