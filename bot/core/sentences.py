"""Sentence splitting for quoting: every sentence is an exact slice of its passage."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import TypeVar

_BOUNDARY = re.compile(r"(?<=[.!?;:])[\"'”’)]*\s+(?=[\"“'(\[]?[A-Z0-9(\-•*])|\n\s*\n")
_ABBREVIATIONS = (
    "Mr.",
    "Mrs.",
    "Ms.",
    "Dr.",
    "St.",
    "U.S.",
    "U.N.",
    "Gen.",
    "Lt.",
    "Col.",
    "Sen.",
    "Rep.",
    "No.",
    "Jan.",
    "Feb.",
    "Aug.",
    "Sept.",
    "Oct.",
    "Nov.",
    "Dec.",
    "Inc.",
    "Co.",
    "Jr.",
    "Sr.",
    "vs.",
    "e.g.",
    "i.e.",
    "Art.",
    "Sec.",
    "Gov.",
    "Adm.",
    "Maj.",
    "Capt.",
)
_INITIAL = re.compile(r"(?:^|[\s(])[A-Z]\.$")  # "President Ronald W." is not a sentence end
_LIST_ITEM = re.compile(r"(?:\([0-9ivxa-z]{1,5}\)|[0-9]{1,2}[.)]|[-•*])\s")
MAX_LIST_CHARS = 600  # a sentence and the list it introduces are quoted whole up to this length


def _spans(text: str, min_chars: int) -> list[tuple[int, int]]:
    """(start, end) of each sentence; fragments shorter than `min_chars` are merged forward."""
    out: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        piece = text[start : match.start()].strip()
        if (
            not piece
            or piece.endswith(_ABBREVIATIONS)
            or _INITIAL.search(piece)
            or len(piece) < min_chars
            or (piece.endswith((";", ":")) and "\n" not in text[match.start() : match.end()])
        ):
            continue  # ";" and ":" end a piece only where a line break follows (list items)
        out.append((start, match.start()))
        start = match.end()
    if text[start:].strip():
        if out and len(text[start:].strip()) < min_chars:
            out[-1] = (out[-1][0], len(text))
        else:
            out.append((start, len(text)))
    return out


def _with_lists(text: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """A sentence ending in ':' keeps the list items after it: "...including: (i) nodal period; ..."."""
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(spans):
        start, end = spans[i]
        i += 1
        if text[start:end].rstrip().endswith(":"):
            while (
                i < len(spans)
                and _LIST_ITEM.match(text[spans[i][0] : spans[i][1]].lstrip())
                and spans[i][1] - start <= MAX_LIST_CHARS
            ):
                end = spans[i][1]
                i += 1
        out.append((start, end))
    return out


def split_sentences(text: str, min_chars: int = 25) -> list[str]:
    """Sentences of `text`, each an exact substring of it (fragments merged forward, lists kept with their lead-in)."""
    return [text[s:e].strip() for s, e in _with_lists(text, _spans(text, min_chars))]


Scored = TypeVar("Scored")


def best_within(
    ranked: Sequence[Scored],
    score: Callable[[Scored], float],
    max_sentences: int,
    margin: float,
    sentence: Callable[[Scored], str] = lambda c: c.sentence,
) -> list[Scored]:
    """The first of `ranked` (best first), and up to `max_sentences - 1` more that score within
    `margin` of it; a sentence inside one already chosen (or holding one) is skipped."""
    if not ranked:
        return []
    chosen = [ranked[0]]
    for candidate in ranked[1:]:
        if len(chosen) >= max_sentences or score(candidate) < score(ranked[0]) - margin:
            break
        text = sentence(candidate)
        if all(text not in sentence(c) and sentence(c) not in text for c in chosen):
            chosen.append(candidate)
    return chosen
