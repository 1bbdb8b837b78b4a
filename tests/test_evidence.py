"""Refusal evidence and sentence choice over a small, real BM25 index (no embedding model needed)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from bot.core.evidence import weigh_evidence
from bot.core.extractive import select_sentences
from bot.core.gate import EvidenceGate
from bot.core.records import ArticleHit, Passage
from ingest.keyword_index import FINGERPRINT, KeywordIndex, build, read_fingerprint, slug_words

MEMO_URL = "https://www.whitehouse.gov/presidential-actions/2026/08/national-security-presidential-memorandum-nspm-17/"
ARTICLES = {
    "un-intro": (
        "Who keeps track of satellites",
        None,
        "Under a 1975 treaty the United Nations (UN) keeps a register of objects launched into outer "
        "space. States report each launch to the UN Secretary-General.",
    ),
    "oosa": (
        "The register of space objects",
        None,
        "The Office for Outer Space Affairs of the United Nations maintains the register of space objects "
        "on behalf of the Secretary-General.",
    ),
    "medal": (
        "Agency honours its scientists",
        None,
        "She received the agency's Exceptional Scientific Achievement Medal for her work on the rover. "
        "The Director General of the lab presented the medal.",
    ),
    "esa": (
        "Europe's space agency",
        None,
        "The budget of the European Space Agency (ESA) grew in 2022. The Director General of ESA thanked "
        "the ministers.",
    ),
    "lunar-station": (
        "Lunar station partners",
        None,
        "Officials said China and Russia agreed to build a lunar research station together. "
        "Critics say China wants a rival to Artemis. Separately, NASA said it plans to land "
        "astronauts on the Moon in 2026, and the Moon remains the goal for NASA.",
    ),
    "moon-news": ("Moon news", None, "Robotic landers keep heading for the Moon, and the Moon is busy."),
    "memo": (
        "The National Space Transportation Policy",
        MEMO_URL,
        "By 2030, our ranges must grow to support more than 1,000 launches and reentries every year.",
    ),
    "resources-law": (
        "Space resources law",
        None,
        "Congress passed the space resource law in 2015 after a long debate on the law and space "
        'resource rights. The term "space resource" means an abiotic resource in situ in outer space.',
    ),
}
# Enough mentions elsewhere that "ESA" and "UN" are common words here, as in a real corpus: only
# the acronym rule, not rarity, can then find them missing.
for _n in range(3):
    ARTICLES[f"esa-brief-{_n}"] = (f"Brief {_n}", None, f"ESA and the UN met for round {_n} of the talks.")


@pytest.fixture(scope="module")
def keyword(tmp_path_factory) -> KeywordIndex:
    records = [
        {
            "id": f"{aid}::0",
            "article_id": aid,
            "title": title,
            "text": text,
            "source": "test",
            "url": url,
            "published": None,
            "published_ts": None,
            "path": None,
            "canonical_url": None,
            "publisher": None,
            "chunk_index": 0,
        }
        for aid, (title, url, text) in ARTICLES.items()
    ]
    target = tmp_path_factory.mktemp("kw") / "bm25"
    build(records, "fp-1", target)
    return KeywordIndex(target)


def hits_for(*article_ids: str) -> list[ArticleHit]:
    out = []
    for rank, aid in enumerate(article_ids):
        title, url, text = ARTICLES[aid]
        passage = Passage(
            chunk_id=f"{aid}::0", article_id=aid, title=title, text=text, source="test", url=url, score=1.0 / (rank + 1)
        )
        out.append(
            ArticleHit(
                article_id=aid,
                title=title,
                source="test",
                url=url,
                published=None,
                path=None,
                score=passage.score,
                passages=[passage],
            )
        )
    return out


# -- acronyms the asker typed must be in the top articles ---------------------------------------


def test_an_acronym_the_top_articles_never_mention_makes_the_evidence_weak(keyword):
    evidence = weigh_evidence("who is the FCC chair right now?", hits_for("medal", "esa"), keyword)
    assert evidence.missing == ["FCC"] and evidence.weak


def test_an_acronym_spelled_out_the_way_the_articles_introduce_it_counts(keyword):
    question = "who keeps the UN register of space objects?"
    assert not weigh_evidence(question, hits_for("oosa"), keyword).weak  # says "United Nations", never "UN"
    assert weigh_evidence(question, hits_for("medal"), keyword).missing == ["UN"]


def test_words_that_merely_share_the_initials_do_not_count(keyword):
    # "Exceptional Scientific Achievement" is not how the articles spell out ESA.
    evidence = weigh_evidence("who is ESA's director general right now?", hits_for("medal"), keyword)
    assert evidence.missing == ["ESA"]
    assert not weigh_evidence("who is ESA's director general right now?", hits_for("esa"), keyword).weak


def test_lower_case_and_shouted_questions_have_no_acronyms_to_check(keyword):
    assert not weigh_evidence("who is esa's director general?", hits_for("medal"), keyword).weak
    assert not weigh_evidence("WHO IS THE DIRECTOR GENERAL?", hits_for("medal"), keyword).weak


def test_a_name_only_in_the_article_address_counts_as_mentioned(keyword):
    assert slug_words(MEMO_URL, ARTICLES["memo"][0]) == "security presidential memorandum nspm 17"
    assert slug_words("https://example.com/", "x") == "" and slug_words(None, "x") == ""
    assert not weigh_evidence("what launch cadence does NSPM-17 target?", hits_for("memo"), keyword).weak
    row, _ = keyword.search("nspm 17", k=1)[0]
    assert keyword.table.columns["article_id"][row] == "memo"


def test_an_index_from_an_older_format_reads_as_missing_so_it_is_rebuilt(keyword, tmp_path):
    build([], "fp-2", tmp_path / "bm25")
    assert read_fingerprint(tmp_path / "bm25") == "fp-2"
    (tmp_path / "bm25" / FINGERPRINT).write_text("fp-2")  # written before the format was versioned
    assert read_fingerprint(tmp_path / "bm25") is None


# -- which sentence answers ---------------------------------------------------------------------


def test_a_date_about_someone_else_is_not_an_answer(keyword):
    index = SimpleNamespace(keyword=keyword)
    gate = EvidenceGate(index)
    hits = hits_for("lunar-station", "moon-news")
    # The only dated sentence is about NASA, not China: no answer rather than a wrong one.
    refusal = gate.check("when does china plan to land astronauts on the moon?", hits, [])
    assert refusal is not None and "date" in refusal.reason
    question = "when does nasa plan to land astronauts on the moon?"
    assert gate.check(question, hits, []) is None
    chosen = select_sentences(question, hits, index)
    assert chosen and "2026" in chosen[0].sentence


def test_nothing_retrieved_is_refused(keyword):
    refusal = EvidenceGate(SimpleNamespace(keyword=keyword)).check("who chairs the committee?", [], [])
    assert refusal is not None and refusal.reason == "nothing retrieved"


def test_a_definition_question_is_answered_by_the_definition(keyword):
    index = SimpleNamespace(keyword=keyword)
    chosen = select_sentences("how does the law define a space resource?", hits_for("resources-law"), index)
    assert chosen[0].sentence.startswith('The term "space resource" means')
