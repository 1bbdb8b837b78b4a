"""Recency-aware answers, through the real pipeline: real ingest into a tmp Chroma, the real
embedding model, the real cross-encoder and spaCy.

tests/data/recency holds two articles naming different directors of one office at
different dates (2019: O'Connell, in words closer to the question; 2022: DalBello),
an undated explainer of the office, and one unrelated article dated 2021. Without the recency stages the older article's
sentence leads the answer to "who is ... now?" (checked once by swapping in
`KeepOrder` and the bare answerer: the first test then fails on "DalBello").
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from conftest import make_settings

from bot.core.recency import asks_for_recent
from bot.core.records import Filters

RECENCY = Path(__file__).parent / "data" / "recency"
NOW_QUESTION = "who is the director of the Office of Space Commerce now?"
NEWER, OLDER = "office-of-space-commerce-2022.md", "office-of-space-commerce-2019.md"
UNDATED = "office-of-space-commerce-explainer.txt"


@pytest.fixture(scope="module")
def recency_service(tmp_path_factory):
    from bot.core.service import AnswerService
    from ingest.pipeline import run_ingest

    settings = make_settings(tmp_path_factory.mktemp("recency-index"))
    summary = run_ingest([str(RECENCY)], settings)
    assert not summary.failed, summary.failed
    return AnswerService(settings)


def test_now_question_answers_from_the_newer_article_as_of_its_date(recency_service):
    from bot.faces.slack.blocks import render_answer
    from bot.faces.terminal import format_answer

    answer = recency_service.answer(NOW_QUESTION)
    assert not answer.refused
    assert "DalBello" in answer.text and "O'Connell" not in answer.text, answer.text
    assert answer.citations[0].article_id == NEWER
    assert answer.as_of == "2022-02-28"
    # every face says so, and every citation shows its date
    assert "As of 2022-02-28" in format_answer(answer)
    assert "— recency, 2022-02-28" in format_answer(answer)
    assert "As of 2022-02-28" in json.dumps(render_answer(answer))
    data = answer.to_dict()
    assert data["as_of"] == "2022-02-28" and data["citations"][0]["published"] == "2022-02-28"


def test_as_of_before_the_newer_article_answers_from_the_older(recency_service):
    answer = recency_service.answer(NOW_QUESTION, filters=Filters(as_of=date(2021, 1, 1)))
    assert not answer.refused
    assert "O'Connell" in answer.text and "DalBello" not in answer.text, answer.text
    assert [c.article_id for c in answer.citations] == [OLDER]
    assert answer.as_of == "2019-04-10"
    # articles published after "now" do not count at all (the 2021 dust study neither); undated ones do
    assert {h.article_id for h in answer.hits} == {OLDER, UNDATED}


def test_retrieval_leaves_out_articles_published_after_as_of(recency_service):
    for mode in ("dense", "bm25"):
        hits = recency_service.retriever.search(NOW_QUESTION, filters=Filters(as_of=date(2021, 1, 1)), mode=mode)
        assert {h.article_id for h in hits} <= {OLDER, UNDATED} and OLDER in {h.article_id for h in hits}, mode


def test_an_undated_citation_says_so(recency_service):
    from bot.faces.terminal import format_answer

    answer = recency_service.answer("which agency is the Office of Space Commerce part of?")
    assert not answer.refused and answer.citations[0].article_id == UNDATED, answer.citations
    assert "What the Office of Space Commerce does — recency, undated" in format_answer(answer)
    assert answer.to_dict()["citations"][0]["published"] is None


def test_a_question_without_a_recency_cue_says_no_as_of(recency_service):
    answer = recency_service.answer("who took charge of the Office of Space Commerce?")
    assert not answer.refused and "DalBello" in answer.text
    assert answer.as_of is None and "as_of" not in answer.to_dict()


def test_eval_question_as_of_sets_now_for_that_question(recency_service, tmp_path):
    from eval.evaluate import evaluate

    lines = [
        {"id": "now", "question": NOW_QUESTION, "relevant": [NEWER], "answer": "DalBello"},
        {"id": "then", "question": NOW_QUESTION, "relevant": [OLDER], "answer": "O'Connell", "as_of": "2021-01-01"},
    ]
    path = tmp_path / "dated.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result, warnings = evaluate(recency_service, str(path), ["rerank"])
    assert warnings == []
    by_id = {r.id: r for r in result.details["rerank"]}
    assert by_id["now"].answer_ok and by_id["now"].retrieved[0] == NEWER
    assert by_id["then"].answer_ok and by_id["then"].retrieved == [OLDER, UNDATED]


@pytest.mark.parametrize(
    "question",
    [
        NOW_QUESTION,
        "who is ESA's director general right now?",
        "who currently leads NASA?",
        "what is the latest on the Artemis Accords?",
        "what is the current budget request for NASA?",
        "what did the White House announce this week?",
        "what has NASA said recently about commercial stations?",
        "who has signed leases at the exploration park so far?",
        "how many countries have signed the accords to date?",
        "has India signed the accords yet?",
    ],
)
def test_recency_cues_are_found(question):
    assert asks_for_recent(question)


@pytest.mark.parametrize(
    "question",
    [
        "how many countries are in the Artemis Accords now that Malaysia and the Philippines signed?",
        "who was the first administrator of NASA?",
        "what is the outer space treaty?",
        "who signed the artemis accords in 2023?",
        "how many countries had signed as of 2023?",
    ],
)
def test_questions_without_a_recency_cue(question):
    assert not asks_for_recent(question)
