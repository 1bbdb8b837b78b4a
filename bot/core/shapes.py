"""Answer shapes: what form of answer a question asks for, read from its parse.

- `list`: a wh-determiner (or "name"/"list" as the imperative) on a plural noun whose kind
  of thing has a named-entity type: "which countries have signed ...", "what companies
  won ...", "name the agencies ...". The plural noun says which entities are the items.
- `timeline`: "how" modifying a verb of change ("how has X changed / grown / evolved"), a
  noun of history as what is asked ("what is the history / timeline of X"), "since when",
  or "what has happened so far".
- `outlets`: news sources as the subject of a verb of saying ("what do outlets / reports /
  the media say"), "how was X covered / reported", reactions or responses asked for.
- `fact`: everything else: the existing single-fact path.

spaCy costs about a second to load cold, and most questions are single facts: a question
is parsed only when a cheap look at its words (`might_be_shaped`) finds a cue every shape
needs (a plural noun right after which/what, a word of change, history, coverage or saying,
"since when", "so far"). A question without one is a `fact` with no parse at all.

The closed word sets below are read with the parse, never alone (as in `bot.core.recency`).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

SHAPES = ("fact", "list", "timeline", "outlets")

# The plural noun a list asks for -> the spaCy entity labels that name such items.
# Only nouns here make a list: a list of things with no entity type cannot be gathered.
ITEM_LABELS: dict[str, frozenset[str]] = {}
for _nouns, _labels in (
    # GPE only: NORP ("Swiss", "Uruguayan") names a people, and the same country again
    (("countries", "nations", "states", "governments", "signatories", "members"), ("GPE",)),
    (("cities", "places", "sites", "locations", "regions"), ("GPE", "LOC", "FAC")),
    (
        (
            "companies",
            "firms",
            "agencies",
            "organizations",
            "organisations",
            "partners",
            "contractors",
            "startups",
            "universities",
            "institutions",
            "groups",
            "departments",
            "offices",
            "providers",
            "operators",
        ),
        ("ORG",),
    ),
    (
        (
            "people",
            "persons",
            "officials",
            "astronauts",
            "leaders",
            "administrators",
            "members",
            "ministers",
            "directors",
            "senators",
            "scientists",
            "crew",
            "crews",
        ),
        ("PERSON",),
    ),
    (("treaties", "agreements", "accords", "laws", "conventions", "acts", "resolutions", "principles"), ("LAW",)),
    (("missions", "spacecraft", "satellites", "rockets", "vehicles", "landers", "telescopes"), ("PRODUCT", "ORG")),
    (("dates", "years", "days"), ("DATE",)),
):
    for _noun in _nouns:
        ITEM_LABELS[_noun] = ITEM_LABELS.get(_noun, frozenset()) | frozenset(_labels)
# "ones" / "which ones" takes its kind from the plural noun before it ("two countries ... which ones?")
PRO_NOUNS = frozenset({"ones"})

# Forms of verbs of change, read only where "how" modifies them.
CHANGE_VERBS = frozenset(
    f"{stem}{end}"
    for stem, ends in (
        ("chang", ("e", "ed", "es", "ing")),
        ("evolv", ("e", "ed", "es", "ing")),
        ("develop", ("ed",)),
        ("shift", ("", "ed", "s", "ing")),
        ("progress", ("", "ed", "es", "ing")),
        ("expand", ("", "ed", "s", "ing")),
        ("unfold", ("", "ed", "s", "ing")),
        ("slip", ("", "ped", "s", "ping")),
        ("mov", ("e", "ed", "es", "ing")),
        ("increas", ("e", "ed", "es", "ing")),
        ("gr", ("ow", "own", "ew", "ows", "owing")),
    )
    for end in ends
)
HISTORY_NOUNS = frozenset({"history", "timeline", "chronology", "evolution", "milestones", "progression"})
# News sources as a speaker, and verbs of saying / covering / reacting.
OUTLET_NOUNS = frozenset(
    {"outlets", "reports", "media", "press", "newspapers", "publications", "sources", "coverage", "articles", "news"}
)
SAYING_VERBS = frozenset(
    {"say", "said", "says", "saying", "report", "reported", "reports", "write", "wrote", "written"}
)
COVERING_VERBS = frozenset({"covered", "reported", "received", "portrayed", "described"})
REACTION_NOUNS = frozenset({"reactions", "reaction", "responses", "response"})
REACTION_VERBS = frozenset({"react", "reacted", "respond", "responded"})

_WORD = re.compile(r"[a-z]+")
_AUX = frozenset(
    {"is", "are", "was", "were", "do", "does", "did", "has", "have", "had", "will", "would", "can", "could", "should"}
)
_CUE_WORDS = CHANGE_VERBS | HISTORY_NOUNS | OUTLET_NOUNS | COVERING_VERBS | REACTION_NOUNS | REACTION_VERBS


@dataclass(frozen=True)
class ShapeRead:
    """A question's shape; for a list, the plural noun it asks for and that noun's entity labels."""

    name: str = "fact"
    noun: str | None = None
    labels: frozenset[str] = frozenset()


FACT = ShapeRead()


def might_be_shaped(question: str) -> bool:
    """True when `question` holds a cue some shape needs: only then is it parsed."""
    words = _WORD.findall(question.lower())
    if _CUE_WORDS.intersection(words) or ("so", "far") in zip(words, words[1:]):
        return True
    if ("since", "when") in zip(words, words[1:]) or (words and words[0] in ("name", "list")):
        return True
    for i, word in enumerate(words):
        if word in ("which", "what"):
            for after in words[i + 1 : i + 4]:
                if after in _AUX:
                    break
                if after in ITEM_LABELS or after in PRO_NOUNS:
                    return True
    return False


@functools.lru_cache(maxsize=256)
def question_shape(question: str, enabled: bool = True) -> ShapeRead:
    """The shape `question` asks for (`FACT` when shapes are off or no cue is found)."""
    if not enabled or not might_be_shaped(question):
        return FACT
    from bot.core.entities import load_nlp

    doc = load_nlp()(question)
    if _asks_outlets(doc):
        return ShapeRead("outlets")
    if _asks_timeline(doc):
        return ShapeRead("timeline")
    return _asks_list(doc) or FACT


def _asks_outlets(doc) -> bool:
    for token in doc:
        word = token.lower_
        if word in OUTLET_NOUNS and token.dep_ in ("nsubj", "nsubjpass") and token.head.lower_ in SAYING_VERBS:
            return True  # "what do outlets say", "what did reports say"
        if word in COVERING_VERBS and token.tag_.startswith("VB") and _asked_how(token):
            return True  # "how was the deal covered"
        if word in REACTION_NOUNS and token.dep_ in ("nsubj", "attr", "dobj", "ROOT"):
            return True  # "what are the reactions to ..."
        if word in REACTION_VERBS and any(c.tag_ in ("WRB", "WP") for c in token.children):
            return True  # "how did Congress react"
    return False


def _asks_timeline(doc) -> bool:
    words = [t.lower_ for t in doc]
    if ("since", "when") in zip(words, words[1:]):
        return True
    for token in doc:
        if token.lower_ in CHANGE_VERBS and _asked_how(token):
            return True  # "how has the launch date changed" (the parser may tag "change" a noun: still the head)
        if token.lower_ in HISTORY_NOUNS and token.dep_ in ("nsubj", "attr", "dobj", "ROOT", "appos"):
            return True  # "what is the history of ...", "give me a timeline of ..."
        if token.lower_ == "far" and token.i > 0 and doc[token.i - 1].lower_ == "so":
            verb = token.head
            if any(c.lower_ == "what" and c.dep_ in ("nsubj", "dobj") for c in verb.children):
                return True  # "what has happened so far" (not "which countries / who ... so far": a list)
    return False


def _asked_how(verb) -> bool:
    """ "how" modifies `verb`, or its auxiliary ("how was X covered": the parser may hang "how" on "was")."""
    doc = verb.doc
    for token in doc:
        if token.lower_ != "how":
            continue
        head = token.head
        if head.i == verb.i or (head.dep_ in ("aux", "auxpass") and head.head.i == verb.i):
            return True
    # "how was the accords signing by african countries covered?": the parser hangs "how" on "signing";
    # a question that opens "how" + auxiliary asks it of its main verb
    return verb.dep_ == "ROOT" and len(doc) > 1 and doc[0].lower_ == "how" and doc[1].pos_ == "AUX"


def _asks_list(doc) -> ShapeRead | None:
    for token in doc:
        if token.tag_ not in ("NNS", "NNPS") or token.lower_ not in ITEM_LABELS.keys() | PRO_NOUNS:
            continue
        if not (_has_wh_determiner(token) or _named_by_imperative(token)):
            continue
        noun = token
        if token.lower_ in PRO_NOUNS:
            before = [t for t in reversed(doc[: token.i]) if t.lower_ in ITEM_LABELS and t.tag_ == "NNS"]
            if not before:
                continue
            # "named two countries that planned to join the accords. which ones": the counted noun
            noun = next((t for t in before if any(c.dep_ == "nummod" for c in t.children)), before[0])
        return ShapeRead("list", noun.lower_, ITEM_LABELS[noun.lower_])
    return None


def _has_wh_determiner(noun) -> bool:
    """ "which (african) countries": which/what is the noun's determiner, or stands right before its phrase."""
    if any(c.lower_ in ("which", "what") for c in noun.children):
        return True
    start = noun.i
    doc = noun.doc
    while start > 0 and doc[start - 1].dep_ in ("amod", "compound", "nummod") and doc[start - 1].head.i >= noun.i:
        start -= 1
    return start > 0 and doc[start - 1].lower_ in ("which", "what") and doc[start - 1].tag_ in ("WDT", "WP")


def _named_by_imperative(noun) -> bool:
    """ "name the companies ...", "list the countries ...": the object of a sentence-initial name/list."""
    head = noun.head
    return noun.dep_ == "dobj" and head.lower_ in ("name", "list") and head.i == 0
