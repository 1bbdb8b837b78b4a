"""The short answer: the span of the lead sentence that is the asked-for thing (a name, date, number, place).

Typed extraction, no model: the question's asked type (`bot.core.entities.asked_type`, patterns
only) picks a pattern, and the first span of that type the question does not already name is the
short answer. spaCy's NER finds the same spans but loading it (import + `tok2vec` and `ner` pipes
only) took 2.1-2.7 s on the shared 2 cores, which would put a cold `spacebot ask` past 3 s
(docs/BENCHMARKS.md "Short answer"). Spans are verbatim slices of the sentence.
"""

from __future__ import annotations

import re

_MONTH = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan\.|Feb\.|Mar\.|Apr\.|Jun\.|Jul\.|Aug\.|Sept?\.|Oct\.|Nov\.|Dec\.)"
)
_DAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
_DATE = re.compile(
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,\s*\d{{4}})?\b"
    rf"|\b\d{{1,2}}\s+{_MONTH}(?:\s+\d{{4}})?\b"
    rf"|\b(?:early |mid-|late )?{_MONTH}\s+\d{{4}}\b"
    r"|\b(?:in |by )?(?:1[89]|20)\d\d\b"
)
_NUMBER_WORD = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|dozen|twenty|thirty|forty|fifty|hundred)"
)
_UNIT = (
    r"(?:\s+(?:million|billion|trillion|percent|per cent|days?|weeks?|months?|years?|hours?|minutes?|"
    r"seconds?|kilometers?|kilometres?|km|miles?|meters?|metres?|kg|tons?|tonnes?|countries|nations|"
    r"satellites|spacecraft|astronauts|people|members|signatories))?"
)
_MONEY = re.compile(
    r"[$€£]\s?\d[\d,.]*(?:\s?(?:million|billion|trillion|[mbMB]n?)\b)?"
    r"|\b\d[\d,.]*\s?(?:million|billion|trillion)\s+(?:dollars|euros|pounds)\b"
)
_NUMBER = re.compile(rf"\b(?:\d[\d,.]*(?:st|nd|rd|th)?%?|{_NUMBER_WORD}(?:-\w+)?){_UNIT}\b", re.IGNORECASE)
_NAME = re.compile(
    r"\b[A-Z][\w'’.-]*[\w]|\b[A-Z]\b"  # a capitalised word
)
_JOINERS = {"of", "for", "de", "von", "van", "al", "del", "la", "&"}
_NOT_NAMES = {
    "the", "a", "an", "in", "on", "at", "it", "its", "this", "that", "these", "those", "he", "she", "they",
    "we", "i", "but", "and", "or", "as", "after", "before", "with", "for", "by", "from", "to", "under",
    "while", "when", "since", "during", "among", "both", "his", "her", "their", "our", "there", "mr", "ms",
    "mrs", "dr", "if", "also", "some", "many", "one", "two", "all", "each", "other", "new", "later",
}  # fmt: skip
_MONTHS_DAYS = re.compile(rf"^(?:{_MONTH}|{_DAY})$")
_WORD = re.compile(r"\w+")
# "which/what <noun> ..." asks for a named thing ("what camera is NASA turning into ...?"), unlike
# "what is / what does ..." (a definition, an explanation)
_WHICH_THING = re.compile(
    r"^\s*(?:which|what)\s+(?!(?:is|was|are|were|does|do|did|has|have|had|can|could|will|would|should|"
    r"kind|sort|type|happens|happened|if|about)\b)[a-z]+\s+(?:is|was|are|were|does|do|did|has|have|will)\b",
    re.IGNORECASE,
)
_ORG_WORD = re.compile(
    r"\b(?:Agency|Administration|Office|Department|Ministry|Council|Commission|Committee|Force|Command|"
    r"Corporation|Company|Inc|Institute|University|Program|Programme|Article|Act|Treaty|Accords?)\b"
)
_TIME_UNIT = re.compile(r"\b(?:days?|weeks?|months?|years?|hours?|minutes?|seconds?)$", re.IGNORECASE)
_FIGURE_KINDS = {"money": "money", "number": "number", "date": "when"}  # answer_type's kinds -> asked types
# names of places and buildings, not of someone: skipped when a who-question's sentence names a person too
_PLACE_WORD = re.compile(
    r"\b(?:Field|Center|Centre|Base|Station|Airport|Hotel|House|Street|Avenue|Ocean|Sea|Island|River|"
    r"Hall|Building|Park|Room|Port|Spaceport|Range|Complex|Pad)\b"
)


def short_answer(question: str, sentence: str, kind: str | None = None) -> str | None:
    """The span of `sentence` that answers `question` (of its asked type), or None when the question asks
    for no typed thing or the sentence holds none the question does not already name."""
    from bot.core.answer_type import expected_type
    from bot.core.entities import asked_type

    kind = kind or asked_type(question) or _FIGURE_KINDS.get(expected_type(question))
    if kind is None and _WHICH_THING.search(question):
        kind = "name"  # "what camera is NASA turning into…", "which rover…": a named thing
    if kind is None:
        return None
    asked = {w.lower() for w in _WORD.findall(question)}
    if kind == "when":
        return _first_new(_DATE, sentence, asked, strip=("in ", "by "))
    if kind == "money":
        return _first_new(_MONEY, sentence, asked) or _first_new(_NUMBER, sentence, asked, skip_years=True)
    if kind in ("number", "duration"):
        if _is_money(question):
            return _first_new(_MONEY, sentence, asked)
        return _number(sentence, asked, _counted(question), kind == "duration")
    return _name(sentence, asked, kind)


def asks_typed(question: str) -> bool:
    """True when the question asks for a typed thing: a name, place, date, number or amount."""
    from bot.core.answer_type import expected_type
    from bot.core.entities import asked_type

    return (
        asked_type(question) is not None
        or expected_type(question) in _FIGURE_KINDS
        or bool(_WHICH_THING.search(question))
    )


def _is_money(question: str) -> bool:
    return bool(re.search(r"\b(?:cost|budget|fund|spend|pay|price|worth|money|dollars)", question, re.IGNORECASE))


def _first_new(pattern: re.Pattern, sentence: str, asked: set[str], strip=(), skip_years=False) -> str | None:
    for match in pattern.finditer(sentence):
        text = match.group()
        for prefix in strip:
            if text.startswith(prefix):
                text = text[len(prefix) :]
        words = {w.lower() for w in _WORD.findall(text)}
        if words and words <= asked:
            continue
        if skip_years and re.fullmatch(r"(?:1[89]|20)\d\d", text):
            continue
        return text
    return None


def _counted(question: str) -> str | None:
    """The noun a "how many" question counts ("how many members sit..." -> "members")."""
    m = re.search(r"\bhow many (?:(?:other|more|new|total|additional|extra|different|separate) )?(\w+)", question, re.I)
    return m.group(1).lower() if m else None


def _number(sentence: str, asked: set[str], counted: str | None = None, duration: bool = False) -> str | None:
    """The count or quantity that is not part of a date and not named by the question: the first one
    followed by the counted noun ("three members") or, for a duration, by a unit of time, when there is one."""
    dates = [m.span() for m in _DATE.finditer(sentence)]
    found = []
    for match in _NUMBER.finditer(sentence):
        if any(a <= match.start() < b for a, b in dates):
            continue
        words = {w.lower() for w in _WORD.findall(match.group())}
        if words <= asked or match.group().lower() in ("one",):
            continue
        found.append(match)
    for match in found:
        after = sentence[match.end() :].split()[:1]
        if counted and match.group().split()[-1].lower().startswith(counted[:4]):
            return match.group()
        if counted and after and after[0].lower().startswith(counted[:4]):
            return f"{match.group()} {after[0].strip('.,;:')}"
        if duration and _TIME_UNIT.search(match.group()):
            return match.group()
    return found[0].group() if found else None


def _names(sentence: str) -> list[tuple[int, int]]:
    """Spans of runs of capitalised words ("Bill Nelson", "University of Tokyo"), joiners inside only."""
    spans: list[tuple[int, int]] = []
    words = list(re.finditer(r"[\w'’.&-]+", sentence))
    i = 0
    while i < len(words):
        w = words[i].group()
        if not w[0].isupper() or w.lower().strip(".") in _NOT_NAMES or _MONTHS_DAYS.match(w):
            i += 1
            continue
        start, end, j = words[i].start(), words[i].end(), i + 1
        while j < len(words):
            nxt = words[j].group()
            gap = sentence[end : words[j].start()]
            if gap.strip() or "\n" in gap or not nxt:
                break
            if nxt[0].isupper() and not _MONTHS_DAYS.match(nxt):
                end, j = words[j].end(), j + 1
            elif nxt.lower() in _JOINERS and j + 1 < len(words) and words[j + 1].group()[0].isupper():
                end, j = words[j + 1].end(), j + 2
            else:
                break
        spans.append((start, end))
        i = j
    return spans


def _name(sentence: str, asked: set[str], kind: str) -> str | None:
    """The first name the question does not hold; for a country question, a country's name first."""
    from bot.core.gazetteer import COUNTRIES

    found = []
    for a, b in _names(sentence):
        text = sentence[a:b].rstrip(".’'").removesuffix("’s").removesuffix("'s")
        words = {w.lower() for w in _WORD.findall(text)}
        if not words or words <= asked:
            continue
        found.append(text)
    if not found:
        return None
    if kind in ("country", "where"):
        countries = set(COUNTRIES)
        for text in found:
            if {w.lower() for w in _WORD.findall(text)} & countries or (kind == "where" and _PLACE_WORD.search(text)):
                return text
    if kind in ("person", "who"):
        found = [t for t in found if not _PLACE_WORD.search(t)] or found
        # news names a person by first and last name; a lone word or an acronym is more often a place or an org
        return min(found, key=lambda t: (_org_like(t), len(t.split()) < 2, _distance(sentence, t, asked)))
    return min(found, key=lambda t: _distance(sentence, t, asked))


def _org_like(name: str) -> bool:
    """True for an acronym ("NASA") or a name with an organisation's word ("Space Agency", "Administration")."""
    return name.isupper() or bool(_ORG_WORD.search(name))


_STOP = {"the", "a", "an", "of", "to", "in", "on", "for", "and", "is", "was", "who", "what", "which", "did", "does"}


def _distance(sentence: str, span: str, asked: set[str]) -> int:
    """Characters between `span` and the nearest word of the question in `sentence` (the asked-for thing
    usually stands next to the words that ask for it: "signed for Uruguay by Foreign Minister Paganini")."""
    at = sentence.find(span)
    best = len(sentence)
    for m in _WORD.finditer(sentence):
        word = m.group().lower()
        if word in asked and word not in _STOP and not (at <= m.start() < at + len(span)):
            best = min(best, at - m.end() if m.end() <= at else m.start() - (at + len(span)))
    return best
