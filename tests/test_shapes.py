"""Answers across articles, through the real pipeline: real ingest into a tmp Chroma, the real
embedding model, cross-encoder and spaCy.

tests/data/shapes is a small dated corpus from three outlets (front matter `publisher`): Orbital
Ledger (the compact's founding, Ghana joining, and an unrelated dust study), Capital Space Wire
(Kenya joining) and Harbor Tribune (the Lisbon meeting, and a reprint of the wire's Kenya story
under its own header). Seven countries joined the Lunar Relay Compact, named across four articles.
Each shape test fails with SPACEBOT_ANSWER_SHAPES=off (checked by hand: every answer is then a fact).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import make_settings

SHAPES = Path(__file__).parent / "data" / "shapes"
MEMBERS = ["Norway", "Chile", "Vietnam", "Kenya", "Portugal", "United Arab Emirates", "Ghana"]
LIST_QUESTION = "which countries have joined the Lunar Relay Compact?"
TIMELINE_QUESTION = "how has the Lunar Relay Compact grown?"
OUTLETS_QUESTION = "what do outlets say about the Lunar Relay Compact?"
FACT_QUESTION = "who leads the Norwegian Space Agency's lunar office?"
REPRINT = "tribune-reprint-kenya.md"


@pytest.fixture(scope="session")
def shapes_settings(tmp_path_factory):
    from ingest.pipeline import run_ingest

    settings = make_settings(tmp_path_factory.mktemp("shapes-index"))
    summary = run_ingest([str(SHAPES)], settings)
    assert not summary.failed, summary.failed
    return settings


@pytest.fixture(scope="session")
def shapes_service(shapes_settings):
    from bot.core.service import AnswerService

    return AnswerService(shapes_settings)


def test_shapes_are_read_from_the_question_and_a_fact_is_not_parsed():
    from bot.core.shapes import might_be_shaped, question_shape

    assert question_shape(LIST_QUESTION).name == "list"
    assert question_shape("name the companies building lunar landers").name == "list"
    assert question_shape(TIMELINE_QUESTION).name == "timeline"
    assert question_shape("what is the history of the Office of Space Commerce?").name == "timeline"
    assert question_shape(OUTLETS_QUESTION).name == "outlets"
    assert question_shape("how was the lunar station deal covered?").name == "outlets"
    # singular wh-nouns and plain who/when questions never load spaCy for their shape
    for fact in (FACT_QUESTION, "which country was the 40th to sign the Artemis Accords?", "when did Kenya join?"):
        assert not might_be_shaped(fact) and question_shape(fact).name == "fact"
    assert question_shape("which countries left the compact?", enabled=False).name == "fact"


def test_list_gathers_items_from_every_article_each_cited_once(shapes_service):
    from bot.faces.terminal import format_answer

    answer = shapes_service.answer(LIST_QUESTION)
    assert answer.shape == "list", answer.text
    names = [item.name for item in answer.shaped.items]
    assert set(MEMBERS) <= set(names), names
    assert "UAE" not in names  # "the UAE" and "United Arab Emirates" are one item
    assert answer.text.startswith(f"**{len(names)} countries**: "), answer.text
    numbers = {c.n: c for c in answer.citations}
    for item in answer.shaped.items:
        assert item.citations and all(
            item.name in numbers[n].quote or any(a in numbers[n].quote for a in item.aliases) for n in item.citations
        ), item
    cited = {c.article_id for c in answer.citations}
    assert len(cited) >= 3, cited  # the members are spread over four articles
    data = answer.to_dict()
    assert data["shape"] == "list" and {i["name"] for i in data["items"]} == set(names)
    shown = format_answer(answer)
    assert "United Arab Emirates  [" in shown or "United Arab Emirates [" in shown


def test_timeline_lists_dated_milestones_oldest_first(shapes_service):
    from bot.faces.slack.blocks import render_answer
    from bot.faces.terminal import format_answer

    answer = shapes_service.answer(TIMELINE_QUESTION)
    assert answer.shape == "timeline", answer.text
    milestones = answer.shaped.milestones
    dates = [m.date for m in milestones]
    assert all(dates) and dates == sorted(dates), dates
    assert {m.citation for m in milestones} == {c.n for c in answer.citations}
    # the sentence's own date, resolved against the article's: "on Tuesday" in an article of 2024-05-02
    founding = next(m for m in milestones if "Oslo" in m.text)
    assert founding.date == "2023-03-13" and founding.dated_by == "sentence"
    lisbon = next(m for m in milestones if "Lisbon on Tuesday" in m.text)
    assert lisbon.date == "2024-04-30"
    assert dates[0].startswith("2023-03") and dates[-1].startswith("2024-11")
    assert answer.shaped.as_of == dates[-1] and f"(as of {dates[-1]})" in answer.text.splitlines()[-1]
    assert "Timeline, oldest first:" in format_answer(answer)
    assert answer.to_dict()["milestones"][0]["date"] == dates[0]
    assert f"_as of {dates[-1]}_" in json.dumps(render_answer(answer))


def test_outlets_names_each_outlet_once_and_folds_the_reprint(shapes_service):
    from bot.faces.slack.blocks import render_answer

    answer = shapes_service.answer(OUTLETS_QUESTION)
    assert answer.shape == "outlets", answer.text
    outlets = [o.outlet for o in answer.shaped.outlets]
    assert sorted(outlets) == ["Capital Space Wire", "Harbor Tribune", "Orbital Ledger"], outlets
    assert answer.text.startswith("**3 independent outlets**"), answer.text
    wire = next(o for o in answer.shaped.outlets if o.outlet == "Capital Space Wire")
    assert wire.also_in == ["Harbor Tribune"]  # the reprint: named, not counted
    assert REPRINT not in {c.article_id for c in answer.citations}
    assert len(answer.citations) == len({c.article_id for c in answer.citations}) == 3
    blocks = render_answer(answer)["blocks"]
    contexts = [b for b in blocks if b["type"] == "context" and "Capital Space Wire" in json.dumps(b)]
    assert contexts and "also in: Harbor Tribune" in json.dumps(contexts[0])
    assert [o["outlet"] for o in answer.to_dict()["outlets"]] == outlets


def test_a_fact_question_is_answered_as_before(shapes_settings, shapes_service):
    from bot.core.service import AnswerService

    off = AnswerService(shapes_settings.model_copy(update={"answer_shapes": False}))
    answer, before = shapes_service.answer(FACT_QUESTION), off.answer(FACT_QUESTION)
    assert answer.shape == "fact" and "Ingrid Solberg" in answer.text
    assert answer.text == before.text and answer.to_dict() == before.to_dict()
    assert "items" not in answer.to_dict() and answer.to_dict()["shape"] == "fact"
    # with shapes off, a list question is answered as a fact too
    assert off.answer(LIST_QUESTION).shape == "fact"


def test_sources_show_each_outlets_publisher(shapes_settings):
    from ingest.inventory import take_inventory
    from ingest.store import ChunkStore

    inventory = take_inventory(ChunkStore(shapes_settings, create=False))
    assert set(inventory.to_dict()["sources"][0]["publishers"]) == {
        "Orbital Ledger",
        "Capital Space Wire",
        "Harbor Tribune",
    }


def test_a_fact_question_does_not_load_spacy(shapes_settings):
    """A cold `ask` of a single fact pays nothing for shapes: the question is never parsed."""
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from bot.core.service import AnswerService\n"
        "from ingest.settings import Settings\n"
        f"answer = AnswerService(Settings()).answer({FACT_QUESTION!r})\n"
        "print(answer.shape, 'spacy' in sys.modules, 'dateparser' in sys.modules)\n"
    )
    env = {**os.environ, "SPACEBOT_DATA_DIR": str(shapes_settings.data_dir)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["fact", "False", "False"], out.stderr[-2000:]


def test_the_api_names_the_shape_and_its_arrays(shapes_settings, shapes_service, tmp_path):
    """POST /v1/ask over real HTTP: the `ask --json` object, with `shape` and the shape's array."""
    import httpx
    from api_server import serving

    from bot.core.service import AnswerService
    from bot.faces.api.app import create_app

    settings = make_settings(tmp_path)
    service = AnswerService(settings, index=shapes_service.index)
    with serving(create_app(settings, service)) as url, httpx.Client(base_url=url, timeout=120) as client:
        body = client.post("/v1/ask", json={"question": TIMELINE_QUESTION}).json()
        outlets = client.post("/v1/ask", json={"question": OUTLETS_QUESTION}).json()
    assert body["shape"] == "timeline" and body["milestones"]
    numbers = {c["n"] for c in body["citations"]}
    assert all(m["citation"] in numbers and m["date"] for m in body["milestones"])
    assert outlets["shape"] == "outlets" and len({o["outlet"] for o in outlets["outlets"]}) == 3
