"""The answering core over the sample corpus, as a user sees it: real model, real Chroma, no mocks.

Every test here shares the session index (`sample_settings`) and service (`sample_service`).
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from conftest import FakeClock, make_settings

from bot.core.records import Filters
from bot.core.service import REFUSAL_TEXT, AnswerService, QuestionError
from eval.metrics import answer_contains
from eval.questions import load_questions

QUESTIONS_FILE = Path(__file__).parent / "data" / "sample_questions.jsonl"
MODES = ("dense", "bm25", "hybrid")


@pytest.fixture(scope="module")
def questions():
    loaded, warnings = load_questions(QUESTIONS_FILE)
    assert not warnings
    return {q.id: q for q in loaded}


@pytest.fixture(scope="module")
def stored(sample_settings):
    """What the index holds, per article: chunk texts and the metadata of its first chunk."""
    from ingest.store import ChunkStore

    texts: dict[str, list[str]] = defaultdict(list)
    meta: dict[str, dict] = {}
    for _, m, doc in ChunkStore(sample_settings, create=False).iter_records(["metadatas", "documents"]):
        texts[m["article_id"]].append(doc or "")
        if m.get("chunk_index", 0) == 0:
            meta[m["article_id"]] = m
    assert len(texts) == 24
    return texts, meta


def markers(text: str) -> list[int]:
    return [int(n) for n in re.findall(r"\[(\d+)\]", text)]


def assert_well_cited(answer, stored) -> None:
    """Every [n] names a citation, every citation is used, and every quote is verbatim from its article."""
    texts, meta = stored
    numbers = [c.n for c in answer.citations]
    assert numbers == list(range(1, len(numbers) + 1)), numbers
    used = markers(answer.text)
    assert used, f"no [n] markers in {answer.text!r}"
    assert set(used) <= set(numbers), (used, numbers)
    assert set(numbers) <= set(used), f"citations never referenced in the text: {set(numbers) - set(used)}"
    for c in answer.citations:
        assert c.article_id in texts, c.article_id
        assert c.quote.strip(), c
        assert any(c.quote in chunk for chunk in texts[c.article_id]), (
            f"[{c.n}] quote is not verbatim in {c.article_id}: {c.quote!r}"
        )
        m = meta[c.article_id]
        assert (c.title, c.source, c.url, c.published) == (m["title"], m["source"], m.get("url"), m.get("published"))


# -- a known question -------------------------------------------------------------------------


@pytest.mark.parametrize("qid", ["s-002", "s-008"])
def test_known_question_is_answered_from_the_right_article_with_exact_quotes(sample_service, questions, stored, qid):
    q = questions[qid]
    answer = sample_service.answer(q.question)
    assert not answer.refused, answer.text
    assert answer.citations[0].article_id == q.relevant[0], [c.article_id for c in answer.citations]
    assert answer_contains(answer.text, q.answer), answer.text
    assert_well_cited(answer, stored)


def test_every_answered_sample_question_is_well_cited(sample_service, questions, stored):
    """Whatever the quality of the answer, its quotes and markers are never made up."""
    answered = 0
    for q in questions.values():
        history = [(h, "") for h in q.history]
        answer = sample_service.answer(q.question, history)
        if not answer.refused:
            answered += 1
            assert_well_cited(answer, stored)
    assert answered >= 8


# -- refusals -----------------------------------------------------------------------------------


def _absent(word: str, stored) -> bool:
    texts, meta = stored
    word = word.lower()
    return not any(word in t.lower() for chunks in texts.values() for t in chunks) and not any(
        word in (m.get("title") or "").lower() for m in meta.values()
    )


# The rare-term and acronym rules refuse on fused (hybrid) articles only: on reranked ones they were
# measured to add false refusals on dev2 and no refusal (docs/BENCHMARKS.md), so `rerank` leaves them out.


def test_question_naming_an_absent_ordinal_is_refused_with_closest_articles(sample_service, sample_settings, stored):
    assert _absent("41st", stored)
    answer = sample_service.answer("who was the 41st country to sign the artemis accords?", mode="hybrid")
    assert answer.refused
    assert answer.text == REFUSAL_TEXT
    assert answer.citations == []
    assert 1 <= len(answer.closest) <= sample_settings.top_k
    assert all(h.title and h.article_id in stored[0] for h in answer.closest)
    # The closest articles are on topic: the Artemis Accords signings.
    assert "artemis" in answer.closest[0].title.lower()


def test_question_about_an_absent_country_is_refused_with_closest_articles(sample_service, stored):
    assert _absent("argentina", stored)
    answer = sample_service.answer("when did argentina sign the artemis accords?", mode="hybrid")
    assert answer.refused, answer.text
    assert answer.text == REFUSAL_TEXT and answer.citations == []
    assert answer.closest and "artemis" in answer.closest[0].title.lower()


def test_question_naming_an_agency_by_an_acronym_no_article_mentions_is_refused(sample_service, stored):
    assert _absent("KARI", stored)
    answer = sample_service.answer("who is KARI's director general?", mode="hybrid")
    assert answer.refused, answer.text
    answer = sample_service.answer("who is ESA's director general?", mode="hybrid")
    assert not answer.refused and "Aschbacher" in answer.text, answer.text
    assert_well_cited(answer, stored)


# -- filters --------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_source_filter_returns_only_that_source(sample_service, mode):
    query = "which countries signed the artemis accords"
    unfiltered = sample_service.search(query, k=10, mode=mode)
    assert {h.source for h in unfiltered} - {"policy"}, "the query must reach other sources unfiltered"
    hits = sample_service.search(query, k=10, mode=mode, filters=Filters(source="policy"))
    assert hits and {h.source for h in hits} == {"policy"}
    assert "policy/artemis-accords-lithuania.md" in {h.article_id for h in hits}


@pytest.mark.parametrize("mode", MODES)
def test_date_range_excludes_articles_outside_it(sample_service, mode):
    query = "artemis accords signatory moon nasa"
    since, until = date(2023, 1, 1), date(2023, 12, 31)
    unfiltered = sample_service.search(query, k=20, mode=mode)
    outside = [h for h in unfiltered if not h.published or not since.isoformat() <= h.published <= until.isoformat()]
    assert outside, "the query must reach articles outside the range unfiltered"
    hits = sample_service.search(query, k=20, mode=mode, filters=Filters(since=since, until=until))
    assert hits
    for h in hits:  # articles without a date are excluded too
        assert h.published and since.isoformat() <= h.published <= until.isoformat(), (h.article_id, h.published)
    # Only since, only until.
    later = sample_service.search(query, k=20, mode=mode, filters=Filters(since=date(2024, 1, 1)))
    assert later and all(h.published and h.published >= "2024-01-01" for h in later)
    earlier = sample_service.search(query, k=20, mode=mode, filters=Filters(until=date(2021, 12, 31)))
    assert earlier and all(h.published and h.published <= "2021-12-31" for h in earlier)


@pytest.mark.parametrize("mode", MODES)
def test_date_range_is_inclusive_and_combines_with_source(sample_service, mode):
    day = date(2023, 9, 15)  # the Germany article's publication date
    hits = sample_service.search("artemis accords germany", k=10, mode=mode, filters=Filters(since=day, until=day))
    assert [h.article_id for h in hits] == ["policy/artemis-accords-germany.md"]
    none = sample_service.search(
        "artemis accords germany", k=10, mode=mode, filters=Filters(source="web", since=day, until=day)
    )
    assert none == []


def test_answer_honours_filters(sample_service, stored):
    answer = sample_service.answer("who signed the artemis accords?", filters=Filters(source="web"))
    assert not answer.refused
    assert {c.source for c in answer.citations} == {"web"}
    assert_well_cited(answer, stored)
    answer = sample_service.answer(
        "who signed the artemis accords?", filters=Filters(since=date(2023, 1, 1), until=date(2023, 12, 31))
    )
    assert not answer.refused
    assert all("2023-01-01" <= c.published <= "2023-12-31" for c in answer.citations)


# -- follow-ups and conversations --------------------------------------------------------------

FOLLOWUPS = ["s-011", "s-012"]


@pytest.mark.parametrize("qid", ["s-011", "s-012"])
def test_followup_retrieval_uses_the_earlier_turn(sample_service, questions, qid):
    q = questions[qid]
    with_history = sample_service.search(q.question, history=q.history, k=10)
    assert with_history[0].article_id == q.relevant[0], [h.article_id for h in with_history[:3]]
    alone = sample_service.search(q.question, k=10, mode="hybrid")  # the reranker may guess it cold
    assert alone[0].article_id != q.relevant[0]


@pytest.mark.parametrize("qid", FOLLOWUPS)
def test_followup_in_a_conversation_is_answered_from_the_earlier_topic(sample_service, questions, stored, qid):
    q = questions[qid]
    conversation = f"test:{uuid.uuid4().hex}"
    first = sample_service.ask(q.history[0], conversation_id=conversation)
    assert not first.refused and first.citations[0].article_id == q.relevant[0]
    answer = sample_service.ask(q.question, conversation_id=conversation)
    assert not answer.refused, answer.text
    assert_well_cited(answer, stored)
    assert answer.citations[0].article_id == q.relevant[0], [c.article_id for c in answer.citations]
    assert answer_contains(answer.text, q.answer), answer.text
    turns = sample_service.conversations.history(conversation)
    assert [t.question for t in turns] == [q.history[0], q.question]
    assert q.relevant[0] in turns[0].article_ids


def test_a_followup_asked_cold_is_about_something_else(sample_service, questions):
    """Without its earlier turn, "which number signatory did that make them?" names no country:
    it is answered about another signatory, not India's 27th (so the conversation is what answers it)."""
    q = questions["s-012"]
    conversation = f"test:{uuid.uuid4().hex}"
    sample_service.ask(q.history[0], conversation_id=conversation)
    assert answer_contains(sample_service.ask(q.question, conversation_id=conversation).text, q.answer)
    cold = sample_service.answer(q.question, mode="hybrid")  # the reranker may guess it cold
    assert not cold.refused and cold.citations[0].article_id != q.relevant[0]
    assert not answer_contains(cold.text, q.answer), cold.text


@pytest.fixture
def shared_index(sample_service):
    return sample_service.index


def test_conversation_persists_across_service_instances(tmp_path, shared_index, questions):
    q = questions["s-011"]
    settings = make_settings(tmp_path)  # conversations in tmp_path/state.sqlite3; the index is shared
    conversation = f"test:{uuid.uuid4().hex}"
    AnswerService(settings, index=shared_index).ask(q.history[0], conversation_id=conversation)

    later = AnswerService(make_settings(tmp_path), index=shared_index)  # as after a restart
    turns = later.conversations.history(conversation)
    assert [t.question for t in turns] == [q.history[0]]
    assert turns[0].article_ids[0] == q.relevant[0] and not turns[0].refused
    answer = later.ask(q.question, conversation_id=conversation)
    assert answer.citations[0].article_id == q.relevant[0]
    assert answer_contains(answer.text, q.answer)


def test_expired_conversation_is_forgotten(tmp_path, shared_index, sample_service, questions):
    from bot.state.conversations import ConversationStore

    q = questions["s-011"]
    settings = make_settings(tmp_path, conversation_ttl_days=1)
    clock = FakeClock()
    conversation = f"test:{uuid.uuid4().hex}"
    first = AnswerService(settings, index=shared_index)
    first.conversations = ConversationStore(settings.state_url, 1, clock=clock)
    first.ask(q.history[0], conversation_id=conversation)
    clock.advance(1.1 * 86400)  # a day and a bit later
    later = AnswerService(settings, index=shared_index)
    later.conversations = ConversationStore(settings.state_url, 1, clock=clock)
    assert later.conversations.history(conversation) == []
    answer = later.ask(q.question, conversation_id=conversation)
    assert answer.text == sample_service.answer(q.question).text  # answered as a fresh question


# -- bad questions ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "question, message",
    [
        ("", r"the question is empty"),
        ("   \n\t ", r"the question is empty"),
        (None, r"the question is empty"),
        ("?!? ... ---", r"no words in it, only punctuation"),
        (("why " * 2500).strip() + "?", r"10,000 characters long; the limit is 2,000"),
    ],
)
def test_unaskable_questions_raise_a_clear_question_error(sample_service, question, message):
    with pytest.raises(QuestionError, match=message):
        sample_service.answer(question)
    conversation = f"test:{uuid.uuid4().hex}"
    with pytest.raises(QuestionError, match=message):
        sample_service.ask(question, conversation_id=conversation)
    assert sample_service.conversations.history(conversation) == []  # nothing remembered


def test_question_is_trimmed(sample_service):
    answer = sample_service.answer("   who signed the artemis accords for germany?  \n")
    assert answer.question == "who signed the artemis accords for germany?"
    assert not answer.refused


# -- quality floor on the sample question set ----------------------------------------------------

# Measured when this test was written (no LLM, k=10): answer_contains dense 7/12, bm25 9/12,
# hybrid 9/12; hit@5 12/12 in every mode; false refusals 1/12 (s-003, "fy25"). Floors allow one
# more miss than that.
ANSWER_CONTAINS_FLOOR = {"dense": 6 / 12, "bm25": 8 / 12, "hybrid": 8 / 12}
HIT5_FLOOR = 11 / 12
FALSE_REFUSAL_CEILING = 2 / 12


def test_answer_contains_floor_on_the_sample_questions(sample_service):
    from eval.evaluate import evaluate

    result, warnings = evaluate(sample_service, str(QUESTIONS_FILE), list(MODES), k=10)
    assert warnings == []
    for mode in MODES:
        scores = result.modes[mode]
        assert scores["n_questions"] == 16 and scores["n_answerable"] == 12
        assert scores["answer_contains"] >= ANSWER_CONTAINS_FLOOR[mode] - 1e-9, (mode, scores["answer_contains"])
        assert scores["hit@5"] >= HIT5_FLOOR - 1e-9, (mode, scores["hit@5"])
        assert scores["false_refusal_rate"] <= FALSE_REFUSAL_CEILING + 1e-9, (mode, scores["false_refusal_rate"])
