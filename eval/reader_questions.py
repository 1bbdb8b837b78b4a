"""Questions that read like questions, made from a parsed sentence (Heilman and Smith 2010, simplified).

`make_question(sent, answer)` turns a spaCy sentence and one of its entities (the answer) into a
wh-question: the wh-phrase for the entity's type goes in front, the auxiliary is inverted (do-support
when there is none), the rest of the clause keeps its constraint entities. Used only to make training
data for the reader (eval/train_reader.py), never on eval questions.
"""

from __future__ import annotations

import random
import re

# wh-phrase per spaCy entity label (the labels en_core_web_sm emits); several: one is drawn
WH = {
    "PERSON": ["who"],
    "ORG": ["which organization", "who", "what organization"],
    "GPE": ["which country", "where"],
    "LOC": ["where"],
    "FAC": ["where"],
    "DATE": ["when"],
    "MONEY": ["how much", "how much money"],
    "PERCENT": ["what percentage", "how much"],
    "PRODUCT": ["what", "which spacecraft"],
    "EVENT": ["what", "which event"],
    "LAW": ["which law", "what"],
}
PLACE_PREPS = {"in", "at", "from", "to", "near"}
TIME_PREPS = {"on", "in", "by", "since", "during", "until", "before", "after"}
DO_FORM = {"VBD": "did", "VBZ": "does", "VBP": "do"}
MAX_QUESTION_TOKENS = 24
_WHEN = re.compile(
    r"\b(1[89]\d\d|20\d\d|jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec|monday|tuesday|wednesday|thursday|friday"
    r"|saturday|sunday|yesterday|today|tomorrow|last|next)",
    re.I,
)


def wh_phrase(answer, rng: random.Random) -> tuple[str, set[int]] | None:
    """The wh-phrase for `answer` (a spaCy span) and the token indices it replaces, or None."""
    label = answer.label_
    drop = set(range(answer.start, answer.end)) | {c.i for c in answer.root.children if c.dep_ in ("det", "poss")}
    head = answer.root.head
    if label == "CARDINAL":
        if answer.root.dep_ != "nummod" or head.pos_ != "NOUN":
            return None
        drop.add(head.i)  # "40 countries" -> "how many countries"
        return f"how many {head.text.lower()}", drop
    if label not in WH or (label == "DATE" and not _WHEN.search(answer.text)):
        return None  # "300 days" is not a "when"
    choices = WH[label]
    if label == "GPE" and answer.root.dep_ == "pobj" and head.lower_ in PLACE_PREPS:
        choices = ["where"]
    elif label == "GPE":
        choices = ["which country"]
    if label == "ORG" and answer.root.dep_ not in ("nsubj", "nsubjpass"):
        choices = ["which organization", "what organization"]
    wh = rng.choice(choices)
    if answer.root.dep_ == "pobj" and head.dep_ == "prep":
        if label == "DATE" and head.lower_ not in TIME_PREPS:
            return None  # "for nearly five decades" is not a "when"
        if label == "DATE" or wh == "where":
            drop.add(head.i)  # "on May 15" -> "when"; "in Vilnius" -> "where"
        else:
            wh = f"{head.lower_} {wh}"  # "with NASA" -> "with which organization"
            drop.add(head.i)
    return wh, drop


CORE_DEPS = ("nsubj", "nsubjpass", "dobj", "dative", "attr", "oprd")
CUT_DEPS = ("advcl", "ccomp", "conj", "cc", "parataxis", "mark", "punct", "relcl", "appos")


def _subject(root):
    return next((c for c in root.children if c.dep_ in ("nsubj", "nsubjpass")), None)


def _words(tokens) -> str:
    pieces = []
    for k, t in enumerate(tokens):
        gap = k + 1 < len(tokens) and tokens[k + 1].i != t.i + 1
        pieces.append(t.text + (" " if gap or t.whitespace_ else ""))
    return " ".join("".join(pieces).strip(" ,;:-").split())


def clause_root(answer):
    """The verb whose clause the answer fills directly (subject, object, or a preposition's object), or None."""
    token = answer.root
    if token.dep_ == "nummod":
        token = token.head
    if token.dep_ == "pobj" and token.head.dep_ == "prep":
        token = token.head
    elif token.dep_ not in CORE_DEPS:
        return None
    head = token.head
    return head if head.pos_ in ("VERB", "AUX") and head.i != token.i else None


def clause_tokens(root, drop: set[int], max_tokens: int) -> list | None:
    """The clause of `root` without its sub-clauses and trailing punctuation; long ones lose their
    right-most modifiers (never the answer's) until they fit."""
    cut: set[int] = set()
    for child in root.children:
        if child.dep_ in CUT_DEPS and not drop & {t.i for t in child.subtree}:
            cut |= {t.i for t in child.subtree}
    tokens = [t for t in root.subtree if t.i not in cut]
    optional = [c for c in reversed(list(root.rights)) if c.dep_ in ("prep", "advmod", "npadvmod", "xcomp", "acomp")]
    while len(tokens) > max_tokens and optional:
        child = optional.pop(0)
        ids = {t.i for t in child.subtree}
        if not ids & drop:
            tokens = [t for t in tokens if t.i not in ids]
    return tokens if len(tokens) <= max_tokens else None


def _lower_first(tokens) -> list[str]:
    words = [t.text_with_ws for t in tokens]
    if tokens and tokens[0].pos_ != "PROPN" and tokens[0].text != "I":
        words[0] = words[0][:1].lower() + words[0][1:]
    return words


def make_question(sent, answer, rng: random.Random) -> str | None:
    """A wh-question whose answer is `answer` (an entity of `sent`), or None when the parse does not fit."""
    root = clause_root(answer)
    found = wh_phrase(answer, rng)
    subject = _subject(root) if root is not None else None
    if found is None or subject is None or root.lower_ in ("said", "says", "say"):
        return None
    wh, drop = found
    keep = clause_tokens(root, drop, MAX_QUESTION_TOKENS)
    if keep is None or not drop <= {t.i for t in keep}:
        return None
    subj_ids = {t.i for t in subject.subtree}
    subj = " ".join("".join(_lower_first(list(subject.subtree))).split())
    if drop & subj_ids:  # the answer is (in) the subject: "which country became the 40th nation ...?"
        if not (answer.root.i == subject.i or (answer.root.dep_ == "nummod" and answer.root.head.i == subject.i)):
            return None
        words = [wh, _words([t for t in keep if t.i > max(subj_ids) and t.i not in drop])]
    else:
        front = [t for t in keep if t.i < min(subj_ids) and t.i not in drop]
        body = [t for t in keep if t.i > max(subj_ids) and t.i not in drop]
        auxes = [c for c in root.children if c.dep_ in ("aux", "auxpass") and c.i < root.i]
        if auxes:
            words = [wh, auxes[0].lower_, subj, _words([t for t in body if t.i != auxes[0].i])]
        elif root.lemma_ == "be":
            words = [wh, root.lower_, subj, _words([t for t in body if t.i != root.i])]
        elif root.tag_ in DO_FORM:
            words = [wh, DO_FORM[root.tag_], subj, root.lemma_, _words([t for t in body if t.i != root.i])]
        else:
            return None
        if front and rng.random() < 0.5:
            words.append(_words(front))  # "In 2020, NASA established ..." keeps "in 2020" at the end
    question = " ".join(" ".join(w for w in words if w).split()).rstrip(" .,;:")
    if not 4 <= len(question.split()) <= MAX_QUESTION_TOKENS:
        return None
    return question + "?"
