"""The timeline answerer: dated milestones from the relevant sentences of every retrieved article, oldest first.

Each line is one sentence quoted verbatim with its date: the date the sentence states (a DATE
entity, resolved against the article's publication date by `dateparser`: "last month" in an
article of 2024-03-05 is 2024-02), else the article's date; sentences of undated articles
that state no date come last, marked "undated". The newest dated line ends with "as of DATE":
what it says supersedes the lines above it.
"""

from __future__ import annotations

from bot.core.shape_evidence import Relevant, sentence_date
from bot.core.shape_records import Milestone, Shaped
from bot.core.shapes import ShapeRead
from bot.core.stages import AnswerRequest, Claim, Draft

MAX_MILESTONES = 8  # lines at most: a timeline is read at a glance; the best-scoring sentences are kept
PER_ARTICLE = 2  # milestones from one article at most, so one long article cannot make the whole timeline
UNDATED = "undated"


class TimelineAnswerer:
    """Answers a `timeline` question (see module docstring)."""

    def __init__(self, index, setting: str | None = None):
        self.index = index
        self.setting = setting

    def draft(self, request: AnswerRequest, shape: ShapeRead, relevant: list[Relevant]) -> Draft | None:
        from bot.core.entities import load_nlp

        dated: list[tuple[Relevant, str | None, str | None]] = []
        for r, doc in zip(relevant, load_nlp().pipe([r.sentence for r in relevant], batch_size=64)):
            when, dated_by = sentence_date([e.text for e in doc.ents if e.label_ == "DATE"], r.hit.published)
            dated.append((r, when, dated_by))
        # a sentence that states its own date is a milestone first; then the rest, each by relevance
        dated.sort(key=lambda line: (line[2] != "sentence", -line[0].score))
        lines = _best_per_article(dated)
        if not lines:
            return None
        lines.sort(key=lambda line: (line[1] is None, line[1] or "", -line[0].score))
        return _write(lines)


def _best_per_article(lines: list[tuple[Relevant, str | None, str | None]]) -> list:
    """The first `MAX_MILESTONES` lines, `PER_ARTICLE` per article."""
    taken: dict[str, int] = {}
    out = []
    for line in lines:
        article = line[0].hit.article_id
        if taken.get(article, 0) >= PER_ARTICLE:
            continue
        taken[article] = taken.get(article, 0) + 1
        out.append(line)
        if len(out) >= MAX_MILESTONES:
            break
    return out


def _write(lines: list[tuple[Relevant, str | None, str | None]]) -> Draft:
    milestones: list[Milestone] = []
    claims: list[Claim] = []
    for n, (r, when, dated_by) in enumerate(lines, start=1):
        claims.append(Claim(r.passage, r.sentence, r.score, n=n))
        milestones.append(Milestone(when, r.sentence, n, dated_by, r.passage.source))
    newest = max((m.date for m in milestones if m.date), default=None)
    text_lines = []
    for m in milestones:
        line = f"- **{m.date or UNDATED}**: {m.text} [{m.citation}]"
        if m.date is not None and m.date == newest and m is _last_dated(milestones):
            line += f" (as of {newest})"
        text_lines.append(line)
    return Draft(
        claims=claims,
        text="\n".join(text_lines),
        shaped=Shaped("timeline", milestones=milestones, as_of=newest),
    )


def _last_dated(milestones: list[Milestone]) -> Milestone | None:
    return next((m for m in reversed(milestones) if m.date is not None), None)
