"""What kind of thing a question asks for (an amount, a count, a date, a definition), and whether a sentence has one."""

from __future__ import annotations

import re

_MONTHS = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_PATTERNS = {
    "money": re.compile(r"[$€£]\s?\d|\b\d[\d,.]*\s?(?:million|billion|trillion|dollars|euros)\b", re.I),
    "number": re.compile(
        r"\b\d[\d,.]*(?:st|nd|rd|th)?\b|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|"
        r"eleven|twelve|dozen|hundred|thousand|million|billion)\b",
        re.I,
    ),
    "date": re.compile(rf"\b(?:1[89]|20)\d\d\b|\b{_MONTHS}\s+\d{{1,2}}\b|\b\d{{1,2}}\s+{_MONTHS}", re.I),
    # laws and treaties define terms as 'The term "space object" includes ...' or '"X" means ...'
    "definition": re.compile(r"\b(?:means|shall mean|includes|is defined as|are defined as|refers to)\b", re.I),
}
_QUESTION_TYPES = [
    ("money", re.compile(r"\bhow much\b|\b(?:cost|costs|price|budget|funding|fine|worth|spend)\b", re.I)),
    ("number", re.compile(r"\bhow (?:many|far|long|big|high|fast)\b|\b(?:what|which) (?:number|percentage)\b", re.I)),
    ("definition", re.compile(r"\b(?:define[sd]?|definition|meaning of|what is meant by|counts? as)\b", re.I)),
    ("date", re.compile(r"^\s*when\b|\bwhat (?:day|date|year|month)\b|\bwhich (?:day|date|year)\b", re.I)),
]


def expected_type(question: str) -> str | None:
    """ "money", "number", "definition", "date", or None when the question asks for none of these."""
    for name, pattern in _QUESTION_TYPES:
        if pattern.search(question):
            return name
    return None


def has_type(sentence: str, kind: str | None) -> bool:
    """True if `sentence` contains something of the kind asked for (always True for None)."""
    if kind is None:
        return True
    return bool(_PATTERNS[kind].search(sentence))


_CAPITALISED = re.compile(r"\b[A-Z][\w'’.-]*")
_WORD = re.compile(r"\w+")
_POSSESSIVE = re.compile(r"['’]s$")


def names_someone(sentence: str, question: str) -> bool:
    """True if `sentence` holds a capitalised word, past its first, that `question` lacks: a name
    ("signed by CNSA administrator Zhang Kejian") the question did not bring ("who signed for Uruguay?").

    News text capitalises names; a capital at a sentence's start says nothing, so it is skipped.
    """
    asked = {w.lower() for w in _WORD.findall(question)}
    for match in _CAPITALISED.finditer(sentence):
        if match.start() == 0:
            continue
        word = _POSSESSIVE.sub("", match.group()).strip(".'’-").lower()
        if word and word not in asked:
            return True
    return False
