"""The list answerer: the asked-for items gathered from the relevant sentences of every retrieved article.

"which countries have signed the accords?" -> every GPE entity (a country, checked against the
gazetteer) that a relevant sentence names and the question does not, each cited, spellings of one
name merged ("the UAE" / "United Arab Emirates" when the articles show both). The answer leads with
the list ("**3 countries**: Rwanda [1], Nigeria [2], …") then quotes the best supporting sentences.
"""

from __future__ import annotations

import re

from bot.core.shape_evidence import Relevant, asked_years, sentence_date
from bot.core.shape_records import ListItem, Shaped
from bot.core.shapes import ShapeRead
from bot.core.stages import AnswerRequest, Claim, Draft

MAX_ITEMS = 40  # items listed at most: more than any list the corpus states (the accords' 59 signatories
# are never named in one retrieved set)
QUOTES_SHOWN = 3  # supporting sentences quoted under the list (the rest are in the sources)
COUNTRY_NOUNS = frozenset({"countries", "nations", "states", "governments", "signatories", "members"})
# Country names the gazetteer's one-word test misses (it holds single words).
COUNTRY_NAMES = frozenset(
    {"united states", "united kingdom", "new zealand", "south africa", "south korea", "costa rica", "sierra leone"}
)
_ARTICLE = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_POSSESSIVE = re.compile(r"['’]s$")
_WORD = re.compile(r"[\w.]+")


def clean_name(text: str) -> str:
    """An entity as an item: one line, no leading article, no possessive ("the UAE's" -> "UAE")."""
    return _POSSESSIVE.sub("", _ARTICLE.sub("", " ".join(text.split()))).strip(" ,.;:")


def initials(name: str) -> str:
    """ "United Arab Emirates" -> "UAE" (capitalised words only; "of"/"and" skipped)."""
    return "".join(w[0] for w in name.split() if w[:1].isupper() and w.lower() not in ("of", "and", "the"))


def _is_item(name: str, asked: set[str]) -> bool:
    """An entity names an item unless the question already names it (its words, or its initials:
    "Commercial Lunar Payload Services" for "clps"), or it is a code ("jsc2023e070781")."""
    from bot.core.entities import _words

    if not name or _words(name) <= asked or any(ch.isdigit() for ch in name):
        return False
    return " " not in name or initials(name).lower() not in asked


def is_country(name: str) -> bool:
    from bot.core.gazetteer import COUNTRIES

    lowered = name.lower()
    return lowered in COUNTRY_NAMES or any(w in COUNTRIES for w in lowered.split())


def merge_aliases(names: list[str]) -> dict[str, str]:
    """Each name -> the name it is shown under: an acronym merges into the spelled-out name it abbreviates
    and a surname into the full name that ends with it (when both occur), case-only variants into the first."""
    canonical: dict[str, str] = {}
    by_key: dict[str, str] = {}
    long_names = [n for n in names if " " in n]
    for name in names:
        fuller = next((n for n in long_names if " " not in name and n.split()[-1] == name), None)
        if fuller is not None:  # "Barratt" is "Michael Barratt" where the articles give both
            canonical[name] = by_key.setdefault(fuller.lower().replace(".", ""), fuller)
            continue
        key = name.lower().replace(".", "")
        if key in by_key:
            canonical[name] = by_key[key]
            continue
        bare = name.replace(".", "")
        spelled = next((n for n in long_names if bare.isupper() and initials(n) == bare), None)
        canonical[name] = spelled or name
        by_key[key] = canonical[name]
    return canonical


class ListAnswerer:
    """Answers a `list` question (see module docstring)."""

    def __init__(self, index, setting: str | None = None):
        self.index = index
        self.setting = setting

    def draft(self, request: AnswerRequest, shape: ShapeRead, relevant: list[Relevant]) -> Draft | None:
        from bot.core.entities import _words, load_nlp

        asked = _words(request.question) | {shape.noun or ""}
        years = asked_years(request.question)
        found: list[tuple[str, Relevant]] = []
        docs = load_nlp().pipe([r.sentence for r in relevant], batch_size=64)
        for r, doc in zip(relevant, docs):
            if years:  # "which countries signed in 2024?": a sentence dated another year names none of them
                when, _ = sentence_date([e.text for e in doc.ents if e.label_ == "DATE"], r.hit.published)
                if when is not None and when[:4] not in years:
                    continue
            for ent in doc.ents:
                name = clean_name(ent.text)
                if ent.label_ not in shape.labels or not _is_item(name, asked):
                    continue
                if shape.noun in COUNTRY_NOUNS and not is_country(name):
                    continue
                found.append((name, r))
        if not found:
            return None
        return self._write(shape, found)

    def _write(self, shape: ShapeRead, found: list[tuple[str, Relevant]]) -> Draft:
        shown = merge_aliases([name for name, _ in found])
        items: dict[str, ListItem] = {}
        sources: dict[str, list[Relevant]] = {}
        for name, r in found:
            item = items.setdefault(shown[name], ListItem(shown[name]))
            if name != item.name and name not in item.aliases:
                item.aliases.append(name)
            if r not in sources.setdefault(item.name, []):
                sources[item.name].append(r)
        ordered = sorted(items.values(), key=lambda i: i.name.lower())[:MAX_ITEMS]
        numbers: dict[int, int] = {}  # id(Relevant) -> citation number, in order of first use
        claims: list[Claim] = []
        for item in ordered:
            best = max(sources[item.name], key=lambda r: r.score)
            if id(best) not in numbers:
                numbers[id(best)] = len(claims) + 1
                claims.append(Claim(best.passage, best.sentence, best.score, n=numbers[id(best)]))
            item.citations = [numbers[id(best)]]
        label = shape.noun if len(ordered) != 1 else _singular(shape.noun or "items")
        listed = ", ".join(f"{i.name} [{i.citations[0]}]" for i in ordered)
        quotes = sorted(claims, key=lambda c: -c.score)[:QUOTES_SHOWN]
        quoted = " ".join(f"{c.sentence} [{c.n}]" for c in sorted(quotes, key=lambda c: c.n))
        heading = f"{len(ordered)} {label}"
        text = f"**{heading}**: {listed}\n\n{quoted}"
        return Draft(claims=claims, text=text, shaped=Shaped("list", items=ordered, heading=heading))


def _singular(noun: str) -> str:
    if noun.endswith("ies"):
        return noun[:-3] + "y"
    return noun[:-1] if noun.endswith("s") else noun
