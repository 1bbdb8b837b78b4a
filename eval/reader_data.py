"""Synthetic training data for the reader, made from a corpus folder (never from eval questions).

Each group is one question with its candidate sentences and labels (1: the sentence states the
answer). Positives are the sentence the question was made from; hard negatives are other sentences
of the same article (the most word-sharing ones and a random one) and the best BM25 sentence of
another article; near-miss unanswerables swap a constraint entity of the question for another
entity of the same type that the article never mentions (label 0 for the source sentence).
Some questions are paraphrased (synonyms, dropped modifiers, lower case).
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.core.sentences import split_sentences

SUFFIXES = (".md", ".txt")
MIN_CHARS, MAX_CHARS = 40, 320
SWAP_LABELS = ("GPE", "ORG", "PERSON", "DATE", "CARDINAL", "MONEY", "NORP", "LOC", "PRODUCT", "EVENT")
# general-English synonyms for paraphrased questions (not written for any eval question)
SYNONYMS = {
    "signed": ["joined", "inked"],
    "sign": ["join", "ink"],
    "country": ["nation"],
    "nation": ["country"],
    "launched": ["sent up", "lifted off"],
    "launch": ["send up"],
    "announced": ["unveiled", "said"],
    "announce": ["unveil"],
    "agreement": ["deal", "pact"],
    "company": ["firm"],
    "companies": ["firms"],
    "spacecraft": ["probe", "vehicle"],
    "awarded": ["gave", "granted"],
    "award": ["give", "grant"],
    "selected": ["picked", "chose"],
    "select": ["pick", "choose"],
    "established": ["set up", "created"],
    "establish": ["set up", "create"],
    "agency": ["administration"],
    "million": ["mn"],
    "approved": ["passed", "okayed"],
    "approve": ["pass", "okay"],
    "plans": ["intends"],
    "plan": ["intend"],
    "astronauts": ["crew members"],
    "satellite": ["spacecraft"],
    "satellites": ["spacecraft"],
    "mission": ["flight"],
    "received": ["got"],
    "receive": ["get"],
    "built": ["made", "constructed"],
    "build": ["make", "construct"],
    "partnership": ["collaboration"],
    "agreed": ["consented"],
    "became": ["turned into"],
    "become": ["turn into"],
    "including": ["such as"],
    "government": ["administration"],
    "begin": ["start"],
    "began": ["started"],
    "ended": ["finished"],
    "end": ["finish"],
    "increase": ["raise", "boost"],
    "requires": ["demands"],
    "require": ["demand"],
}
_WORD = re.compile(r"[a-z0-9]+")
_SKIP = re.compile(r"https?://|www\.|[“”\"]|@|\|")


@dataclass
class Article:
    path: str
    title: str
    sentences: list[str]


@dataclass
class Group:
    """One question and its candidate (sentence, context) pairs with labels."""

    question: str
    sentences: list[str]
    contexts: list[str | None]
    labels: list[float]
    article: str
    kind: str = "answerable"
    answer: str = ""
    extra: dict = field(default_factory=dict)


def read_article(path: Path) -> Article | None:
    """Title and sentences of one corpus file (front matter read for its title), or None if empty."""
    text = path.read_text(encoding="utf-8", errors="replace")
    title = ""
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end > 0:
            head, text = text[3:end], text[end + 4 :]
            m = re.search(r"^title:\s*(.+)$", head, re.M)
            title = m.group(1).strip().strip("'\"") if m else ""
    if not title:
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        title = first.lstrip("# ").strip()
    lines = text.strip().splitlines()
    if lines and lines[0].lstrip("# ").strip() == title:
        text = "\n".join(lines[1:])  # the title line would run into the first sentence
    sentences = [" ".join(s.split()) for s in split_sentences(text)]
    sentences = [s for s in sentences if MIN_CHARS <= len(s) <= MAX_CHARS and s != title]
    return Article(str(path), title[:120], sentences) if sentences else None


def read_corpus(folder: Path) -> list[Article]:
    """Every article under `folder` (README files skipped), in a stable order."""
    paths = sorted(p for p in Path(folder).rglob("*") if p.suffix in SUFFIXES and p.name.lower() != "readme.md")
    return [a for a in (read_article(p) for p in paths) if a is not None]


def words(text: str) -> set[str]:
    return set(_WORD.findall(text.lower()))


def paraphrase(question: str, rng: random.Random) -> str:
    """Synonyms for some words, and sometimes a shorter or lower-case form."""
    tokens = question.rstrip("?").split()
    out = []
    for token in tokens:
        options = SYNONYMS.get(token.lower())
        out.append(rng.choice(options) if options and rng.random() < 0.7 else token)
    text = " ".join(out)
    if rng.random() < 0.5:
        text = text.lower()
    return text + "?"


def candidate_sentences(article: Article, rng: random.Random, per_article: int) -> list[int]:
    """Indices of sentences worth a question (they name something), a random few per article."""
    named = [
        i
        for i, s in enumerate(article.sentences)
        if not _SKIP.search(s) and re.search(r"\s[A-Z0-9]", s) and s.endswith((".", "!")) and len(s.split()) >= 8
    ]
    rng.shuffle(named)
    return named[:per_article]


def entity_pool(docs) -> dict[str, list[str]]:
    """Entity texts by label over parsed sentences (for near-miss swaps)."""
    pool: dict[str, set[str]] = {}
    for doc in docs:
        for ent in doc.ents:
            if ent.label_ in SWAP_LABELS and 2 <= len(ent.text) <= 40:
                pool.setdefault(ent.label_, set()).add(ent.text)
    return {k: sorted(v) for k, v in pool.items()}


def near_miss(question: str, doc, answer, article_text: str, pool, rng: random.Random) -> str | None:
    """The question with one constraint entity (not the answer) swapped for another of its type that the
    article never mentions, or None when the question keeps no such entity."""
    constraints = [e for e in doc.ents if e.label_ in SWAP_LABELS and e.text != answer.text and e.text in question]
    if not constraints:
        return None
    ent = rng.choice(constraints)
    options = [t for t in pool.get(ent.label_, []) if t.lower() not in article_text]
    if not options:
        return None
    for _ in range(5):
        other = rng.choice(options)
        if other.lower() != ent.text.lower():
            return question.replace(ent.text, other, 1)
    return None


def _negatives(article: Article, source: int, question: str, answer: str, rng: random.Random) -> list[int]:
    """Same-article negatives: the two sentences sharing most words with the question, and a random one;
    any sentence that holds the answer text is left out (it may state the answer too)."""
    q = words(question)
    others = [i for i, s in enumerate(article.sentences) if i != source and answer.lower() not in s.lower()]
    ranked = sorted(others, key=lambda i: -len(q & words(article.sentences[i])))
    chosen = ranked[:2]
    rest = [i for i in others if i not in chosen]
    if rest:
        chosen.append(rng.choice(rest))
    return chosen


def build_groups(articles: list[Article], nlp, max_questions: int, seed: int, log=print) -> list[Group]:
    """Question groups from `articles` (parse, question, negatives, near-misses), seeded."""
    import bm25s

    rng = random.Random(seed)
    per_article = max(1, -(-max_questions // max(1, len(articles))) * 2)
    picks = [(a, i) for a in articles for i in candidate_sentences(a, rng, per_article)]
    rng.shuffle(picks)
    picks = picks[: max_questions * 2]
    docs = list(nlp.pipe([a.sentences[i] for a, i in picks], batch_size=64))
    pool = entity_pool(docs)
    flat = [(k, s) for k, a in enumerate(articles) for s in a.sentences]
    retriever = bm25s.BM25()
    retriever.index(bm25s.tokenize([s for _, s in flat], stopwords="en", show_progress=False), show_progress=False)
    index_of = {id(a): k for k, a in enumerate(articles)}
    groups: list[Group] = []
    for (article, i), doc in zip(picks, docs):
        if len(groups) >= max_questions:
            break
        group = _group(article, i, doc, pool, rng)
        if group is None:
            continue
        other = _bm25_negative(retriever, flat, index_of[id(article)], group, rng)
        if other:
            for g in [group] + group.extra.get("near", []):
                g.sentences.append(other[1])
                g.contexts.append(articles[other[0]].title if g.contexts[0] else None)
                g.labels.append(0.0)
        groups.append(group)
        groups.extend(group.extra.pop("near", []))
    log(f"groups: {len(groups)} from {len(picks)} parsed sentences of {len(articles)} articles")
    return groups


def _group(article: Article, i: int, doc, pool, rng: random.Random) -> Group | None:
    from eval.reader_questions import make_question

    sent = next(doc.sents, None)
    ents = [e for e in doc.ents]
    rng.shuffle(ents)
    for answer in ents:
        question = make_question(sent, answer, rng) if sent is not None else None
        if question is None:
            continue
        kind = "answerable"
        if rng.random() < 0.3:
            question, kind = paraphrase(question, rng), "paraphrase"
        negatives = _negatives(article, i, question, answer.text, rng)
        if not negatives:
            return None
        context = article.title if rng.random() < 0.7 else None
        idx = [i] + negatives
        group = Group(
            question,
            [article.sentences[k] for k in idx],
            [context] * len(idx),
            [1.0] + [0.0] * len(negatives),
            article.path,
            kind,
            answer.text,
        )
        swapped = near_miss(question, doc, answer, " ".join(article.sentences).lower(), pool, rng)
        if swapped and rng.random() < 0.6:
            near = Group(swapped, group.sentences[:2], group.contexts[:2], [0.0, 0.0], article.path, "near-miss")
            group.extra["near"] = [near]
        return group
    return None


def _bm25_negative(retriever, flat, article_index: int, group: Group, rng: random.Random):
    """The best BM25 sentence of another article for the question that does not hold the answer text."""
    import bm25s

    tokens = bm25s.tokenize([group.question], stopwords="en", show_progress=False)
    results, _ = retriever.retrieve(tokens, k=8, show_progress=False)
    for k in results[0]:
        art, sentence = flat[int(k)]
        if art != article_index and (not group.answer or group.answer.lower() not in sentence.lower()):
            return art, sentence
    return None
