"""`spacebot ask` and `spacebot chat` as a user runs them, in-process with typer's CliRunner.

The CLI builds `Settings()` from the environment for every command, so each test points
SPACEBOT_DATA_DIR at the session's sample index (or at an empty directory).
"""

from __future__ import annotations

import json
import re

import pytest
from typer.testing import CliRunner

from bot.faces.cli import app

GERMANY = "who signed the artemis accords for germany?"
# no sentence of the sample states the station's cost
ABSENT = "how much is the china-russia lunar research station expected to cost?"
# "[1] title — source, date, url"; passages of one article share a line: "[1][3] title — ..."
SOURCE_LINE = re.compile(r"^((?:\[\d+\])+) (.+) — ([^,]+), (\d{4}-\d{2}-\d{2}), (https?://\S+)$")
CITATION_TYPES = {
    "n": int,
    "article_id": str,
    "title": str,
    "source": str,
    "url": (str, type(None)),
    "published": (str, type(None)),
    "quote": str,
    "score": float,
    "also_in": list,  # the article's near-duplicates (issue 12): URLs or ids, usually empty
    "path": (str, type(None)),  # the article's file (shown where it has no URL)
}


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def sample_env(monkeypatch, tmp_path, sample_settings):
    """The CLI reads the sample index; the working directory holds no .env."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPACEBOT_DATA_DIR", str(sample_settings.data_dir))
    return sample_settings


def ask_json(runner, *args) -> dict:
    result = runner.invoke(app, ["ask", *args, "--json"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return json.loads(result.stdout)


def assert_clean_failure(result, code: int) -> str:
    """Exit `code`, no traceback, nothing on stdout; returns stderr."""
    assert result.exit_code == code, (result.exit_code, result.stdout, result.stderr)
    assert "Traceback" not in result.output
    assert result.stdout == ""
    return result.stderr


# -- ask ----------------------------------------------------------------------------------------


def test_ask_prints_the_answer_then_numbered_sources(runner, sample_env):
    result = runner.invoke(app, ["ask", GERMANY])
    assert result.exit_code == 0, result.stderr
    text, _, sources = result.stdout.partition("\n\nSources:\n")
    assert "Walther Pelzer" in text and "[1]" in text
    lines = sources.strip().splitlines()
    assert lines, result.stdout
    m = SOURCE_LINE.match(lines[0])
    assert m, lines[0]
    assert m.group(1).startswith("[1]")
    assert m.groups()[1:] == (
        "Germany signs the Artemis Accords at ambassador's residence in Washington",
        "policy",
        "2023-09-15",
        "https://lunarledger.example.com/2023/09/15/germany-joins-artemis-accords",
    )
    # Every [n] in the text has its source line.
    listed = {int(n) for line in lines for n in re.findall(r"\d+", SOURCE_LINE.match(line).group(1))}
    assert {int(n) for n in re.findall(r"\[(\d+)\]", text)} <= listed


def test_ask_json_has_the_documented_shape(runner, sample_env):
    data = ask_json(runner, GERMANY)
    assert set(data) == {"answer", "refused", "short_answer", "confidence", "sure", "citations", "shape"}
    assert data["shape"] == "fact" and 0 <= data["confidence"] <= 1
    assert isinstance(data["answer"], str) and isinstance(data["refused"], bool)
    assert data["refused"] is False and data["citations"]
    for c in data["citations"]:
        assert set(c) == set(CITATION_TYPES), set(c) ^ set(CITATION_TYPES)
        for key, kind in CITATION_TYPES.items():
            assert isinstance(c[key], kind) and not isinstance(c[key], bool), (key, c[key])
        assert c["quote"] and c["title"]
        assert f"[{c['n']}]" in data["answer"]
    assert data["citations"][0]["article_id"] == "policy/artemis-accords-germany.md"
    assert [c["n"] for c in data["citations"]] == list(range(1, len(data["citations"]) + 1))


def test_ask_json_refusal_shape(runner, sample_env):
    data = ask_json(runner, ABSENT)
    closest = data.pop("closest")
    confidence = data.pop("confidence")
    assert data == {
        "answer": "The ingested articles don't answer this.",
        "refused": True,
        "short_answer": None,
        "sure": False,
        "citations": [],
        "shape": "fact",
    }
    assert 0 <= confidence <= 1 and closest and all(c["title"] for c in closest)


def test_k_limits_the_closest_articles_of_a_refusal(runner, sample_env):
    for k in (1, 3):
        result = runner.invoke(app, ["ask", ABSENT, "-k", str(k)])
        assert result.exit_code == 0, result.stderr
        assert "Closest articles:" in result.stdout
        closest = [line for line in result.stdout.splitlines() if line.startswith("- ")]
        assert len(closest) == k, result.stdout
    assert runner.invoke(app, ["ask", ABSENT, "-k", "0"]).exit_code == 2  # out of range: usage error


def test_k_limits_the_cited_sources_of_an_answer(runner, sample_env):
    data = ask_json(runner, "and what was its rover called?", "-k", "1")
    assert not data["refused"]
    assert len({c["article_id"] for c in data["citations"]}) <= 1, [c["article_id"] for c in data["citations"]]


def test_source_filter(runner, sample_env):
    data = ask_json(runner, "who signed the artemis accords?", "--source", "web")
    assert not data["refused"]
    assert {c["source"] for c in data["citations"]} == {"web"}
    assert data["citations"][0]["article_id"] == "web/france-artemis-accords.html"
    # Without the filter other sources are cited.
    assert {c["source"] for c in ask_json(runner, "who signed the artemis accords?")["citations"]} - {"web"}


def test_since_until_filters(runner, sample_env):
    data = ask_json(runner, "who signed the artemis accords?", "--since", "2023-01-01", "--until", "2023-12-31")
    assert not data["refused"] and data["citations"]
    assert all("2023-01-01" <= c["published"] <= "2023-12-31" for c in data["citations"])
    data = ask_json(runner, "which country was the 40th to sign the artemis accords?", "--since", "2024-01-01")
    assert not data["refused"]
    assert data["citations"][0]["article_id"] == "policy/artemis-accords-lithuania.md"
    assert all(c["published"] >= "2024-01-01" for c in data["citations"])
    # Nothing in range: a refusal, not an error.
    data = ask_json(runner, "who signed the artemis accords?", "--until", "1970-01-01")
    assert data["refused"] and data["citations"] == []


@pytest.mark.parametrize("flag, value", [("--since", "2024-13-01"), ("--until", "soon"), ("--since", "31 Smarch")])
def test_bad_date_is_a_usage_error_with_one_clear_line(runner, sample_env, flag, value):
    stderr = assert_clean_failure(runner.invoke(app, ["ask", GERMANY, flag, value]), 2)
    message = [line for line in stderr.splitlines() if "is not a date" in line]
    assert len(message) == 1, stderr
    assert f"{value!r} is not a date like 2024-01-31, 7d, 2w or last month" in message[0] and flag in message[0]


def test_relative_dates_filter_like_the_dates_they_name(runner, sample_env):
    from bot.faces.dates import parse_day

    # every sample article is years old: "since 2w" leaves nothing, "until 2w" leaves them all
    assert ask_json(runner, GERMANY, "--since", "2w")["refused"]
    data = ask_json(runner, GERMANY, "--until", "last month")
    assert not data["refused"] and data["citations"][0]["article_id"] == "policy/artemis-accords-germany.md"
    assert all(c["published"] <= parse_day("last month").isoformat() for c in data["citations"] if c["published"])


@pytest.mark.parametrize(
    "question, message",
    [
        ("", "error: the question is empty"),
        ("   ", "error: the question is empty"),
        ("?!?", "error: the question has no words in it, only punctuation"),
        ("a" * 10_000, "error: the question is 10,000 characters long; the limit is 2,000"),
    ],
)
def test_unaskable_question_exits_2_with_a_clear_message(runner, sample_env, question, message):
    stderr = assert_clean_failure(runner.invoke(app, ["ask", question]), 2)
    assert stderr.startswith(message), stderr
    assert len(stderr.strip().splitlines()) == 1, stderr


def test_no_index_yet_says_run_ingest_first(runner, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPACEBOT_DATA_DIR", str(tmp_path / "empty"))
    for args in (["ask", GERMANY], ["ask", GERMANY, "--json"]):
        stderr = assert_clean_failure(runner.invoke(app, args), 1)
        assert stderr.startswith("error: no index yet at ")
        assert "run `spacebot ingest` first" in stderr
        assert len(stderr.strip().splitlines()) == 1, stderr


# -- chat ------------------------------------------------------------------------------------

ANSWER_BLOCK = re.compile(r"(.+?)\n\n(Sources|Closest articles):\n((?:(?:(?:\[\d+\])+|-) [^\n]+\n?)+)", re.S)


def answers_in(chat_stdout: str) -> list[tuple[str, list[str]]]:
    """The answers of a chat transcript (after the two header lines): (text, source lines) each."""
    body = chat_stdout.split("\n", 2)[2]
    return [(text.strip(), lines.splitlines()) for text, _, lines in ANSWER_BLOCK.findall(body)]


def first_source(answer: tuple[str, list[str]]) -> str:
    """The title of an answer's first source."""
    line = answer[1][0]
    return re.match(r"^(?:(?:\[\d+\])+|-) (.+?)(?: — .*)?$", line).group(1)


CHANDRAYAAN = "Chandrayaan-3 puts India on the Moon near the south pole"


def test_chat_answers_a_followup_from_the_earlier_turn(runner, sample_env):
    script = (
        "when did chandrayaan-3 land on the moon?\n"
        "and what was its rover called?\n"
        "/quit\n"
        "who signed the artemis accords for germany?\n"
    )  # after /quit: never asked
    result = runner.invoke(app, ["chat"], input=script)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("Ask about space policy.")
    assert re.search(r"^\(conversation cli:[0-9a-f]{12}\)$", result.stdout, re.M)
    blocks = answers_in(result.stdout)
    assert len(blocks) == 2, result.stdout
    assert "August 23, 2023" in blocks[0][0] and first_source(blocks[0]) == CHANDRAYAAN
    assert "Pragyan" in blocks[1][0]
    assert first_source(blocks[1]) == CHANDRAYAAN
    assert "Walther Pelzer" not in result.stdout


INDIA = "India becomes 27th nation to sign the Artemis Accords"
INDIA_FIRST = "who signed the artemis accords for india?\n"
INDIA_FOLLOWUP = "which number signatory did that make them?\n"


def test_chat_without_the_earlier_turn_answers_differently(runner, sample_env):
    """A follow-up whose pronoun only the earlier turn explains: alone, it is about someone else."""
    together = runner.invoke(app, ["chat"], input=INDIA_FIRST + INDIA_FOLLOWUP)
    assert together.exit_code == 0, together.stderr
    followup = answers_in(together.stdout)[1]
    assert first_source(followup) == INDIA and "27th" in followup[0]
    alone = runner.invoke(app, ["chat"], input=INDIA_FOLLOWUP)
    [block] = answers_in(alone.stdout)
    assert first_source(block) != INDIA


def test_chat_resumes_a_stored_conversation_in_a_new_session(runner, sample_env):
    first = runner.invoke(app, ["chat"], input="when did chandrayaan-3 land on the moon?\n")
    assert first.exit_code == 0, first.stderr
    conversation = re.search(r"\(conversation (cli:[0-9a-f]{12})\)", first.stdout).group(1)
    again = runner.invoke(app, ["chat", "--conversation", conversation], input="and what was its rover called?\n")
    assert again.exit_code == 0, again.stderr
    assert f"(conversation {conversation})" in again.stdout
    [block] = answers_in(again.stdout)
    assert "Pragyan" in block[0] and first_source(block) == CHANDRAYAAN


def test_chat_new_forgets_the_topic_and_bad_lines_do_not_end_the_session(runner, sample_env):
    script = INDIA_FIRST + "?!?\n\n/new\n" + INDIA_FOLLOWUP
    result = runner.invoke(app, ["chat"], input=script)
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.output
    assert "error: the question has no words in it, only punctuation" in result.stdout
    assert re.search(r"^\(new conversation cli:[0-9a-f]{12}\)$", result.stdout, re.M)
    blocks = answers_in(result.stdout)
    assert len(blocks) == 2, result.stdout
    assert first_source(blocks[1]) != INDIA  # the /new conversation has no earlier turn


def test_chat_filters_apply_to_every_turn(runner, sample_env):
    result = runner.invoke(app, ["chat", "--source", "web"], input="who signed the artemis accords?\n")
    assert result.exit_code == 0, result.stderr
    [(_, sources)] = answers_in(result.stdout)
    assert sources and all(SOURCE_LINE.match(line).group(3) == "web" for line in sources)
    bad = runner.invoke(app, ["chat", "--since", "soon"], input="x\n")
    assert bad.exit_code == 2 and "is not a date" in bad.stderr and "Traceback" not in bad.output
