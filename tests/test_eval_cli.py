"""`spacebot eval` over the sample index, in-process with typer's CliRunner (real model, real Chroma)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot.faces.cli import app

QUESTIONS = Path(__file__).parent / "data" / "sample_questions.jsonl"
MODES = ["dense", "bm25", "hybrid"]
# Every metric results.json / --json documents per mode (eval/report.py COLUMNS), and the counts.
METRICS = [
    "hit@1",
    "hit@3",
    "hit@5",
    "hit@10",
    "recall@5",
    "recall@10",
    "mrr@10",
    "ndcg@10",
    "answer_contains",
    "citation_precision",
    "refusal_rate",
    "false_refusal_rate",
    "p50_ms",
    "p95_ms",
]
RATES = METRICS[:12]
KINDS = {"lookup": 6, "paraphrase": 4, "followup": 2}  # answerable questions per kind in the sample set
PNG = b"\x89PNG\r\n\x1a\n"


def flat(text: str) -> str:
    """stderr with rich's error box undone: one line, single spaces (long messages wrap in the box)."""
    return " ".join(text.replace("│", " ").replace("╭", " ").replace("╰", " ").replace("─", " ").split())


@pytest.fixture(scope="module")
def cli(sample_settings, tmp_path_factory):
    """Run `spacebot eval ...` against the sample index; returns invoke(args) -> Result."""
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(tmp_path_factory.mktemp("cwd"))  # no .env here
        mp.setenv("SPACEBOT_DATA_DIR", str(sample_settings.data_dir))

        def invoke(args):
            mp.setattr(sys, "argv", ["spacebot", "eval", *args])  # what the report quotes as the command
            return runner.invoke(app, ["eval", *args])

        yield invoke


@pytest.fixture(scope="module")
def full_run(cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("eval") / "report"
    result = cli([str(QUESTIONS), "--mode", ",".join(MODES), "--out", str(out), "--json"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result, out


def test_eval_json_has_every_documented_key_for_every_mode(full_run):
    result, _ = full_run
    data = json.loads(result.stdout)  # stdout is only the JSON: progress and "wrote" go to stderr
    assert list(data) == ["modes", "default"] and list(data["modes"]) == MODES
    assert data["default"] == "rerank"  # the mode `ask` uses
    for mode, scores in data["modes"].items():
        missing = [k for k in METRICS + ["per_kind", "n_questions", "n_answerable"] if k not in scores]
        assert not missing, (mode, missing)
        assert scores["n_questions"] == 16 and scores["n_answerable"] == 12
        for key in RATES:
            assert isinstance(scores[key], (int, float)) and 0 <= scores[key] <= 1, (mode, key, scores[key])
        assert 0 < scores["p50_ms"] <= scores["p95_ms"]
        assert {k: v["n"] for k, v in scores["per_kind"].items()} == KINDS
        for kind in scores["per_kind"].values():
            assert all(0 <= kind[k] <= 1 for k in METRICS[:8])
        # What the sample index gives (see test_answers for the floors on answers).
        assert scores["hit@5"] >= 11 / 12 - 1e-9, (mode, scores["hit@5"])


def test_eval_writes_report_results_and_chart(full_run):
    result, out = full_run
    printed = json.loads(result.stdout)
    assert json.loads((out / "results.json").read_text()) == printed
    assert (out / "chart.png").read_bytes()[:8] == PNG and (out / "chart.png").stat().st_size > 10_000
    details = json.loads((out / "details.json").read_text())
    assert list(details) == MODES and all(len(rows) == 16 for rows in details.values())
    report = (out / "report.md").read_text()
    assert report.startswith("# spacebot evaluation")
    assert f"spacebot eval {QUESTIONS} --mode dense,bm25,hybrid --out {out} --json" in report
    assert "16 questions, 12 answerable" in report
    for mode in MODES:
        assert f"\n| {mode} |" in report and f"### {mode}" in report
    assert "## Change vs baseline" not in report
    assert "wrote" in result.stderr and "report.md" in result.stderr


def test_baseline_run_shows_the_change_in_report_md(cli, full_run, tmp_path):
    _, out = full_run
    baseline = json.loads((out / "results.json").read_text())
    # An older run that was worse on hybrid hit@1 and had no bm25 row.
    baseline["modes"]["hybrid"]["hit@1"] -= 0.25
    del baseline["modes"]["bm25"]
    baseline_file = tmp_path / "old-results.json"
    baseline_file.write_text(json.dumps(baseline))
    result = cli([str(QUESTIONS), "--out", str(tmp_path / "new"), "--baseline", str(baseline_file)])
    assert result.exit_code == 0, result.stderr
    assert "change vs baseline" in result.stdout  # the terminal table says so too
    report = (tmp_path / "new" / "report.md").read_text()
    section = report.split("## Change vs baseline", 1)[1].split("\n## ", 1)[0]
    assert f"Baseline: `{baseline_file}`." in section
    rows = {
        line.split(" | ")[0].strip("| "): line.split(" | ")
        for line in section.splitlines()
        if line.startswith("| ") and not line.startswith("| mode")
    }
    assert rows["hybrid"][1] == "+0.250"  # hit@1 column
    assert rows["dense"][1] == "±0"
    assert rows["bm25"][1] == "new mode"


def test_bad_baseline_file_is_a_usage_error(cli, tmp_path):
    bad = tmp_path / "results.json"
    bad.write_text("{not json")
    result = cli([str(QUESTIONS), "--mode", "bm25", "--baseline", str(bad)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert "baseline file is not valid JSON" in result.stderr


def test_malformed_question_line_is_warned_with_its_line_number_and_the_rest_runs(cli, tmp_path):
    lines = QUESTIONS.read_text().splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_text(
        "\n".join(
            [lines[0], '{"id": "s-bad", "question": "unterminated', lines[1], '{"id": "s-no-question"}', lines[12]]
        )
        + "\n"
    )
    result = cli([str(broken), "--mode", "bm25", "--json"])
    assert result.exit_code == 0, result.stderr
    assert f"warning: {broken}:2: invalid JSON" in result.stderr
    assert f"warning: {broken}:4: missing field 'question'" in result.stderr
    scores = json.loads(result.stdout)["modes"]["bm25"]
    assert scores["n_questions"] == 3 and scores["n_answerable"] == 2


def test_unknown_relevant_id_is_warned_about_by_name(cli, tmp_path):
    questions = tmp_path / "unknown.jsonl"
    questions.write_text(
        json.dumps(
            {
                "id": "q-narnia",
                "kind": "lookup",
                "question": "who signed the artemis accords for narnia?",
                "relevant": ["policy/artemis-accords-narnia.md"],
                "answer": "Aslan",
            }
        )
        + "\n"
        + QUESTIONS.read_text().splitlines()[1]
        + "\n"
    )
    result = cli([str(questions), "--mode", "hybrid", "--json"])
    assert result.exit_code == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if "policy/artemis-accords-narnia.md" in line]
    assert len(warning) == 1 and "q-narnia" in warning[0] and "unknown relevant id" in warning[0]
    scores = json.loads(result.stdout)["modes"]["hybrid"]
    assert scores["n_answerable"] == 2  # kept, and counted as a retrieval miss
    assert scores["hit@10"] == pytest.approx(0.5)


@pytest.mark.parametrize("mode, named", [("dense,bm26", "bm26"), ("semantic", "semantic"), (",", "")])
def test_unknown_mode_is_a_usage_error(cli, mode, named):
    result = cli([str(QUESTIONS), "--mode", mode])
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.output
    message = flat(result.stderr)
    assert "Invalid value for --mode" in message and f"unknown mode {named}" in message
    assert "choose from dense, bm25, hybrid" in message


def test_missing_question_file_is_a_usage_error(cli, tmp_path):
    result = cli([str(tmp_path / "nope.jsonl")])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert f"error: question file not found: {tmp_path / 'nope.jsonl'}" in result.stderr


def test_generate_without_an_llm_says_it_needs_one(cli, tmp_path):
    out = tmp_path / "drafts.jsonl"
    result = cli(["generate", "--count", "3", "--out", str(out)])
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert "Traceback" not in result.output
    assert "needs an LLM" in result.stderr and "SPACEBOT_LLM_BASE_URL" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not out.exists()


def test_eval_without_an_index_says_run_ingest_first(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SPACEBOT_DATA_DIR", str(tmp_path / "empty"))
    result = CliRunner().invoke(app, ["eval", str(QUESTIONS), "--mode", "bm25"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "run `spacebot ingest` first" in result.stderr


def test_eval_generate_drafts_questions_in_the_eval_format(sample_service, tmp_path):
    """With an LLM (a canned OpenAI-compatible server on loopback), drafts are written for review."""
    from llm_server import completion, http_stub
    from test_llm_service import llm_service

    from eval.generate import generate_questions
    from eval.questions import load_questions

    reply = completion("who signed the accords for india? || Taranjit Singh Sandhu")
    with http_stub({"/chat/completions": reply}) as stub:
        service = llm_service(sample_service, tmp_path / "data", stub.url)
        out = tmp_path / "drafts.jsonl"
        assert generate_questions(service, 3, out) == 3
    questions, warnings = load_questions(out)
    assert not warnings and len(questions) == 3
    known = {p for p in sample_service.index.keyword.table.columns["path"]}
    assert all(q.relevant[0] in known and q.answer == "Taranjit Singh Sandhu" for q in questions)
