"""Answer types from spaCy's entities and parse (the real en_core_web_sm model)."""

from __future__ import annotations

import sys

import pytest

from bot.core.entities import asked_type, type_sentences


@pytest.mark.parametrize(
    "question, kind",
    [
        ("who signed the memorandum on the china-russia lunar station?", "who"),
        ("which company is building gateway's power and propulsion element?", "org"),
        ("which country was the 40th to sign the artemis accords?", "country"),
        ("when did lithuania sign the accords?", "when"),
        ("how many countries have signed the artemis accords?", "number"),
        ("how much did nasa request for the moon to mars program?", "money"),
        ("where will the lunar research station be built?", "where"),
        ("what is the outer space treaty about?", None),
    ],
)
def test_the_asked_for_type_comes_from_the_question(question, kind):
    assert asked_type(question) == kind


def test_a_passive_agent_answers_a_who_question():
    question = "who signed the memorandum on the lunar station?"
    typed = type_sentences(
        question,
        [
            "The agency said the two countries signed a memorandum on the lunar station.",
            "The memorandum was signed by CNSA administrator Zhang Kejian and Roscosmos chief Dmitry Rogozin.",
        ],
    )
    assert not typed[0].agent
    assert typed[1].found and typed[1].agent
    assert any("Zhang Kejian" in e for e in typed[1].entities)


def test_an_entity_the_question_already_names_is_no_answer():
    typed = type_sentences(
        "who signed the artemis accords for uruguay?", ["Uruguay joined the Artemis Accords on Wednesday."]
    )
    assert not typed[0].found


def test_dates_and_amounts_answer_when_and_how_much():
    (when,) = type_sentences("when did lithuania sign the accords?", ["Lithuania signed on May 15, 2024."])
    (much,) = type_sentences(
        "how much did nasa request for the lander?", ["NASA requested $3.35 billion for the lander."]
    )
    (none,) = type_sentences("how much did nasa request for the lander?", ["NASA requested more money."])
    assert when.found and much.found and not none.found


def test_spacy_loads_without_importing_torch():
    if "torch" in sys.modules:
        pytest.skip("torch was imported by an earlier test in this process")
    from bot.core.entities import load_nlp

    load_nlp()
    assert "torch" not in sys.modules
