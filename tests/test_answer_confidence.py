"""The single-fact answer as a user sees it: the fact leads, a confidence in every face, what a reader sees.

Real models and the sample index (session fixtures); the CLI through typer's CliRunner, the API
through uvicorn on loopback, Slack through the Block Kit renderer the Slack app posts.
"""

from __future__ import annotations

import json
import re
import sys

import httpx
import pytest
from api_server import serving
from conftest import make_settings
from typer.testing import CliRunner

from bot.core.service import AnswerService
from bot.core.stages import Claim, Draft
from bot.faces.api.app import create_app
from bot.faces.cli import app
from bot.faces.slack.blocks import render_answer
from bot.faces.sources import NOTHING_CLOSE

DEMO = "which country was the 40th to sign the artemis accords?"
NEAR_MISS = "which country was the 41st to sign the artemis accords?"  # the demo with its constraint swapped
CREW = "who will command Artemis II?"  # the article lists the crew as a bulleted list
FCC = "when did the FCC vote on the five-year deorbit rule, and what was the vote?"
ILRS = "when did china and russia announce the lunar research station?"  # a local .md without a URL
OFF_TOPIC = "who won the 2018 world cup?"
NEAR_TOPIC = "how much did the fcc fine viasat over orbital debris?"  # s-015: refused, FCC articles are close
TOKEN = "test-answer-token-91aa"


@pytest.fixture
def runner(monkeypatch, tmp_path, sample_settings):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPACEBOT_DATA_DIR", str(sample_settings.data_dir))
    return CliRunner()


def cli_ask(runner, question: str, *args) -> str:
    result = runner.invoke(app, ["ask", question, *args])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


@pytest.fixture(scope="module")
def api(sample_service, tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("api"), SPACEBOT_API_TOKEN=TOKEN)
    service = AnswerService(settings, index=sample_service.index)
    headers = {"Authorization": f"Bearer {TOKEN}"}
    with serving(create_app(settings, service)) as url, httpx.Client(base_url=url, headers=headers, timeout=60) as c:
        yield c


def api_ask(api, question: str) -> dict:
    reply = api.post("/v1/ask", json={"question": question})
    assert reply.status_code == 200, reply.text
    return reply.json()


def slack_text(answer) -> str:
    """Every mrkdwn text of the Block Kit message the Slack app posts for `answer`."""
    out = []
    for block in render_answer(answer)["blocks"]:
        if block.get("text"):
            out.append(block["text"]["text"])
        out += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return "\n".join(out)


# -- the fact leads ----------------------------------------------------------------------------


@pytest.mark.xfail(
    reason="neither the shipped reader (9741f567) nor the cross-encoder puts the Lithuania sentence first"
)
def test_the_demo_answer_leads_with_lithuania(sample_service, runner):
    answer = sample_service.answer(DEMO)
    assert not answer.refused and answer.sure, answer
    assert answer.short_answer == "Lithuania"
    assert answer.text.split("[1]")[0].lstrip().startswith("Lithuania"), answer.text
    assert cli_ask(runner, DEMO).startswith("**Lithuania** — Lithuania")


@pytest.mark.xfail(reason="neither the shipped reader (9741f567) nor the cross-encoder reads the swapped constraint")
def test_a_near_miss_is_refused_or_marked_unsure(sample_service, runner):
    answer = sample_service.answer(NEAR_MISS)
    assert answer.refused or not answer.sure, answer
    shown = cli_ask(runner, NEAR_MISS)
    assert "The ingested articles don't answer this." in shown or shown.startswith(
        "The articles may not say this directly; the closest they come:"
    ), shown


def test_a_sure_answer_opens_with_its_short_answer_in_every_face(sample_service, runner, api):
    answer = sample_service.answer(ILRS)
    assert answer.sure and answer.short_answer == "March 9, 2021", answer
    assert cli_ask(runner, ILRS).startswith("**March 9, 2021** — The partnership was formalised on March 9, 2021")
    assert slack_text(answer).startswith("*March 9, 2021* — The partnership")
    assert render_answer(answer)["text"].startswith("March 9, 2021 — The partnership")
    body = api_ask(api, ILRS)
    assert body["short_answer"] == "March 9, 2021" and body["sure"] is True


# -- the confidence ----------------------------------------------------------------------------


@pytest.mark.parametrize("question", [FCC, NEAR_TOPIC, OFF_TOPIC])
def test_confidence_is_within_0_and_1_in_cli_json_and_api(runner, api, question):
    result = runner.invoke(app, ["ask", question, "--json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    body = api_ask(api, question)
    for shown in (data, body):
        assert isinstance(shown["confidence"], float) and 0 <= shown["confidence"] <= 1, shown
        assert "short_answer" in shown
    assert body["confidence"] == data["confidence"]
    assert re.search(r"^Confidence \d\.\d\d \((sure|unsure|refused)\)$", cli_ask(runner, question), re.M)


def test_eval_details_carry_confidence_and_short_answer(sample_settings, tmp_path, monkeypatch):
    from pathlib import Path

    questions = Path(__file__).parent / "data" / "sample_questions.jsonl"
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPACEBOT_DATA_DIR", str(sample_settings.data_dir))
    monkeypatch.setattr(sys, "argv", ["spacebot", "eval"])
    out = tmp_path / "report"
    result = CliRunner().invoke(app, ["eval", str(questions), "--mode", "rerank", "--out", str(out), "--json"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    rows = json.loads((out / "details.json").read_text())["rerank"]
    assert len(rows) == 16
    for row in rows:
        assert 0 <= row["confidence"] <= 1 and "short_answer" in row, row
    scores = json.loads(result.stdout)["modes"]["rerank"]
    for key in ("sure_precision", "sure_coverage", "ece", "short_answer_ok", "refusal_or_unsure_rate"):
        assert 0 <= scores[key] <= 1, (key, scores[key])
    assert "sure prec" in (out / "report.md").read_text()


# -- what a reader sees -------------------------------------------------------------------------


def test_one_number_per_article(sample_service):
    """Two sentences of one article that are not next to each other share its number."""
    from bot.core.citations import Citations
    from bot.faces.sources import cited_lines

    hit = next(h for h in sample_service.search(CREW) if h.article_id == "nasa/artemis-ii-crew.md")
    text = hit.passages[0].text
    first, later = text.split("\n\n")[0], text.split("\n\n")[-1]
    other = next(h for h in sample_service.search(FCC) if h.article_id == "debris/fcc-five-year-rule.txt").passages[0]
    fcc_sentence = other.text.split(". ")[0] + "."
    claims = [Claim(hit.passages[0], first), Claim(other, fcc_sentence), Claim(hit.passages[0], later)]
    answer = Citations().build(CREW, Draft(claims=claims))
    assert answer.text.count("[1]") == 2 and answer.text.count("[2]") == 1 and "[3]" not in answer.text
    lines = cited_lines(answer)
    assert lines[0].startswith("[1] NASA and CSA name four astronauts") and lines[1].startswith("[2] FCC cuts")
    assert answer.quotes("nasa/artemis-ii-crew.md") == [first, later]


def test_a_bulleted_list_is_quoted_as_a_list(sample_service, api):
    """The article's crew list, quoted, stays a list in the CLI, the API's JSON and Slack."""
    from bot.core.citations import Citations
    from bot.core.sentences import split_sentences
    from bot.faces.terminal import format_answer

    hit = next(h for h in sample_service.search(CREW) if h.article_id == "nasa/artemis-ii-crew.md")
    passage = next(p for p in hit.passages if "Reid Wiseman" in p.text)
    quote = next(s for s in split_sentences(passage.text) if "Reid Wiseman" in s)
    answer = Citations().build(CREW, Draft(claims=[Claim(passage, quote)]))
    items = "- Reid Wiseman (NASA), commander\n- Victor Glover (NASA), pilot\n- Christina Koch (NASA)"
    assert quote.startswith("The crew was presented at an event at Ellington Field in Houston:\n\n- Reid")
    assert items in format_answer(answer)
    assert items in json.loads(json.dumps(answer.to_dict()))["answer"]
    blocks = slack_text(answer)
    assert "> - Reid Wiseman (NASA), commander\n> - Victor Glover (NASA), pilot" in blocks, blocks


def test_a_local_file_shows_its_path_where_it_has_no_url(sample_service, runner):
    shown = cli_ask(runner, ILRS)
    line = r"^\[1\] China and Russia press ahead .* — international, undated, international/ilrs-china-russia\.md$"
    assert re.search(line, shown, re.M), shown
    assert "international/ilrs-china-russia.md" in slack_text(sample_service.answer(ILRS))


def test_a_refusal_lists_the_same_closest_articles_in_cli_slack_and_api(sample_service, runner, api):
    answer = sample_service.answer(NEAR_TOPIC)
    assert answer.refused and answer.closest
    titles = [h.title for h in answer.closest]
    cli = cli_ask(runner, NEAR_TOPIC)
    assert [line[2:].split(" — ")[0] for line in cli.splitlines() if line.startswith("- ")] == titles
    slack = slack_text(answer)
    assert all(title in slack for title in titles) and "Closest articles" in slack
    body = api_ask(api, NEAR_TOPIC)
    assert body["refused"] and [c["title"] for c in body["closest"]] == titles


def test_an_off_topic_refusal_says_nothing_is_close_in_every_face(sample_service, runner, api):
    answer = sample_service.answer(OFF_TOPIC)
    assert answer.refused and answer.closest == []
    cli = cli_ask(runner, OFF_TOPIC)
    assert NOTHING_CLOSE in cli and "Closest articles" not in cli
    assert NOTHING_CLOSE in slack_text(answer) and NOTHING_CLOSE in render_answer(answer)["text"]
    assert api_ask(api, OFF_TOPIC)["closest"] == []


def test_settings_set_the_gate_knobs(monkeypatch):
    from bot.core.answer_knobs import AnswerKnobs
    from ingest.settings import Settings

    monkeypatch.setenv("SPACEBOT_SURE_LEVEL", "0.8")
    monkeypatch.setenv("SPACEBOT_ANSWER_FLOOR", "0.2")
    knobs = AnswerKnobs.from_settings(Settings(_env_file=None))
    assert (knobs.sure, knobs.floor) == (0.8, 0.2)


def test_the_short_answer_is_the_asked_for_span():
    from bot.core.short_answer import short_answer

    sentence = "Lithuania signed the Artemis Accords on May 15, 2024, taking the number of participating nations to 40."
    assert short_answer(DEMO, sentence) == "Lithuania"
    assert short_answer("when did lithuania sign the artemis accords?", sentence) == "May 15, 2024"
    assert short_answer("how many nations had signed after lithuania?", sentence) == "40"
    assert short_answer("why does it matter?", sentence) is None


def test_the_shipped_reader_is_the_one_its_calibration_was_fitted_for():
    """A retrained reader reads on another scale: `make calibrate-reader` must refit its confidence."""
    import hashlib

    from bot.core import reader
    from bot.core.calibration import CALIBRATION_FILE

    stored = json.loads(CALIBRATION_FILE.read_text())["readers"]
    assert {"a", "b"} <= set(stored["cross-encoder"])
    if not reader.MODEL_PATH.is_file():
        pytest.skip("no trained reader ships yet: the cross-encoder stand-in reads")
    assert stored["reader"]["model_sha256"] == hashlib.sha256(reader.MODEL_PATH.read_bytes()).hexdigest()


def test_below_the_sure_level_the_answer_is_hedged_and_below_the_floor_refused(runner, monkeypatch):
    monkeypatch.setenv("SPACEBOT_SURE_LEVEL", "0.999")
    shown = cli_ask(runner, ILRS)
    assert shown.startswith("The articles may not say this directly; the closest they come:\n\nThe partnership"), shown
    assert "(unsure)" in shown and "**March 9, 2021**" not in shown
    monkeypatch.setenv("SPACEBOT_ANSWER_FLOOR", "0.999")
    refused = cli_ask(runner, ILRS)
    assert refused.startswith("The ingested articles don't answer this.") and "(refused)" in refused
    assert "- China and Russia press ahead with International Lunar Research Station" in refused


def test_the_slack_app_posts_the_refusal_with_the_closest_articles_and_the_confidence(sample_service, tmp_path):
    """Through the real Bolt app over HTTP against the fake Slack Web API (tests/test_slack_app.py)."""
    from test_slack_app import TOKEN as SLACK_TOKEN
    from test_slack_app import Bot, FakeSlack, section_texts

    answer = sample_service.answer(NEAR_TOPIC)
    with FakeSlack(token=SLACK_TOKEN) as fake:
        bot = Bot(fake, sample_service, tmp_path)
        try:
            ts, (status, _) = bot.mention(NEAR_TOPIC)
            assert status == 200
            (reply,) = bot.wait_replies(ts, timeout=60)
        finally:
            bot.close()
    shown = "\n".join(section_texts(reply))
    assert "Closest articles" in shown and all(h.title in shown for h in answer.closest), shown
    assert re.search(r"Confidence \d\.\d\d \(refused\)", shown), shown
