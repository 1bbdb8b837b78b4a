"""Corpus statistics the answering side weighs question terms with: document frequency, idf,
and which terms the corpus writes capitalised (names, places, acronyms)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

_WORD_AT = re.compile(r"\b[A-Za-z][A-Za-z]+\b")
# A term counts as a proper name when at least this share of its mid-sentence uses are
# capitalised (and it occurs at least twice); sentence-initial words are not counted at all.
PROPER_SHARE = 0.7
PROPER_MIN_USES = 2


@dataclass
class CorpusStats:
    """Per-term statistics over the chunks (one chunk = one document)."""

    n_docs: int = 0
    doc_freq: dict[str, int] = field(default_factory=dict)
    proper: frozenset[str] = frozenset()

    @classmethod
    def of(cls, corpus_tokens: list[list[str]], texts: list[str], stem=None) -> CorpusStats:
        """Statistics of a tokenised corpus (`texts` are the raw chunk texts, for capitalisation)."""
        doc_freq: dict[str, int] = {}
        for tokens in corpus_tokens:
            for token in set(tokens):
                doc_freq[token] = doc_freq.get(token, 0) + 1
        return cls(len(corpus_tokens), doc_freq, frozenset(proper_terms(texts, stem)))

    def idf(self, term: str) -> float:
        """Inverse document frequency of a term over chunks; unseen terms get the maximum."""
        n = max(self.n_docs, 1)
        df = self.doc_freq.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))


def proper_terms(texts: list[str], stem=None) -> list[str]:
    """Terms written capitalised in at least 70% of their mid-sentence uses: names, places, acronyms.

    Questions typed in lower case lose that signal; the corpus keeps it.
    """
    uses = term_uses(texts, stem)
    return sorted(t for t, (cap, n) in uses.items() if n >= PROPER_MIN_USES and cap >= PROPER_SHARE * n)


def term_uses(texts: list[str], stem=None) -> dict[str, tuple[int, int]]:
    """Per stemmed term: (capitalised, all) mid-sentence uses in `texts` (sentence-initial words not counted).

    Sums over texts add up, so the keyword index keeps them per term and updates them per article.
    """
    if stem is None:
        from ingest.bm25_search import stemmer

        stem = stemmer()
    capitalised: dict[str, int] = {}
    total: dict[str, int] = {}
    for text in texts:
        for match in _WORD_AT.finditer(text):
            start = match.start()
            before = text[max(0, start - 2) : start]
            if start == 0 or before.strip() in (".", "!", "?", '"', "“", ":") or before.endswith("\n"):
                continue
            word = match.group(0)
            term = stem.stemWord(word.lower())
            total[term] = total.get(term, 0) + 1
            if word[0].isupper():
                capitalised[term] = capitalised.get(term, 0) + 1
    return {t: (capitalised.get(t, 0), n) for t, n in total.items()}
