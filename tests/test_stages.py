"""The answering core as stages: each can be swapped by passing an object, and the
question normaliser makes every face ask the same question."""

from __future__ import annotations

import pytest

from bot.core.question import normalise_question
from bot.core.retrieval import ReciprocalRankFusion
from bot.core.service import AnswerService, Stages
from bot.core.stages import Refusal

QUESTION = "who signed the artemis accords for germany?"


@pytest.mark.parametrize(
    "typed, plain",
    [
        ("<@U0BOT123> who signed the artemis accords for india?", "who signed the artemis accords for india?"),
        ("<!here>   what is   the <https://www.nasa.gov/artemis|Artemis program>?", "what is the Artemis program?"),
        (
            "what did <https://www.nasa.gov/x> say about R&amp;D &lt;budgets&gt;?",
            "what did https://www.nasa.gov/x say about R&D <budgets>?",
        ),
        ("ask <@U0ABC|alice> in <#C0NEWS|space-news>\n\twhy", "ask in space-news why"),
        ("<!subteam^S0123|@team> when?", "when?"),
    ],
)
def test_slack_markup_is_reduced_to_the_words_a_person_sees(typed, plain):
    assert normalise_question(typed) == plain


def test_a_slack_question_gets_the_same_answer_as_the_same_words_typed(sample_service):
    typed = sample_service.answer("who signed the artemis accords for india?")
    slack = sample_service.answer("<@U0BOT123> <!here> who signed the   artemis accords for india?")
    assert not typed.refused and slack.question == typed.question
    assert (slack.text, slack.citations) == (typed.text, typed.citations)


def test_the_answer_carries_the_hits_it_was_built_from(sample_service):
    answer = sample_service.answer(QUESTION)
    assert len(answer.hits) == 10
    assert {c.article_id for c in answer.citations} <= {h.article_id for h in answer.hits}
    refused = sample_service.answer("how much is the china-russia lunar research station expected to cost?")
    assert refused.refused and refused.hits[: len(refused.closest)] == refused.closest


class DropFirst:
    """A ranker that drops fusion's best article and reverses the rest."""

    def __init__(self):
        self.seen = []

    def rank(self, query, hits):
        self.seen.append(query)
        return list(reversed(hits[1:]))


def test_a_ranker_passed_as_a_stage_decides_what_is_answered_from(sample_service):
    ranker = DropFirst()
    service = AnswerService(sample_service.settings, index=sample_service.index, stages=Stages(ranker=ranker))
    usual = sample_service.answer(QUESTION)
    best = usual.hits[0].article_id
    assert usual.citations[0].article_id == best
    reranked = service.answer(QUESTION)
    assert [h.article_id for h in reranked.hits] == [h.article_id for h in reversed(usual.hits[1:])]
    assert best not in {c.article_id for c in reranked.citations}
    assert ranker.seen[0].question == QUESTION and ranker.seen[0].text == QUESTION


def test_fusion_is_a_stage_too(sample_service):
    fused = []

    class Recording(ReciprocalRankFusion):
        def fuse(self, ranked_lists, article_of, top):
            fused.append(len(ranked_lists))
            return super().fuse(ranked_lists, article_of, top)

    service = AnswerService(sample_service.settings, index=sample_service.index, stages=Stages(fusion=Recording(10)))
    answer = service.answer(QUESTION)
    assert fused == [2] and not answer.refused  # hybrid: dense and BM25 lists, fused by the given object
    assert answer.citations[0].article_id == sample_service.answer(QUESTION).citations[0].article_id


def test_a_gate_passed_as_a_stage_holds_the_refusal(sample_service):
    class Never:
        def check(self, question, hits, context):
            return Refusal("closed for lunch")

    service = AnswerService(sample_service.settings, index=sample_service.index, stages=Stages(gate=Never()))
    answer = service.answer(QUESTION)
    assert answer.refused and answer.citations == [] and answer.closest
