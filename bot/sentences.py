"""Sentence splitting for quoting: every sentence is an exact slice of its passage."""

from __future__ import annotations

import re

_BOUNDARY = re.compile(r"(?<=[.!?])[\"'”’)]*\s+(?=[\"“'(\[]?[A-Z0-9])|\n\s*\n")
_ABBREVIATIONS = ("Mr.", "Mrs.", "Ms.", "Dr.", "St.", "U.S.", "U.N.", "Gen.", "Lt.", "Col.", "Sen.",
                  "Rep.", "No.", "Jan.", "Feb.", "Aug.", "Sept.", "Oct.", "Nov.", "Dec.", "Inc.", "Co.",
                  "Jr.", "Sr.", "vs.", "e.g.", "i.e.", "Art.", "Sec.", "Gov.", "Adm.", "Maj.", "Capt.")


_INITIAL = re.compile(r"(?:^|[\s(])[A-Z]\.$")  # "President Ronald W." is not a sentence end


def split_sentences(text: str, min_chars: int = 25) -> list[str]:
    """Sentences of `text`, each an exact substring of it (fragments merged forward)."""
    out: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        piece = text[start:match.start()].strip()
        if not piece or piece.endswith(_ABBREVIATIONS) or _INITIAL.search(piece) or len(piece) < min_chars:
            continue
        out.append(piece)
        start = match.end()
    tail = text[start:].strip()
    if tail:
        if out and len(tail) < min_chars:
            out[-1] = text[text.index(out[-1]):].strip()
        else:
            out.append(tail)
    return out
