"""Loading question files: bad lines become warnings, unreadable files a ValueError."""

import json
from pathlib import Path

import pytest

from eval.questions import Question, load_questions, resolve_questions

DEV = Path("/work/shared/eval/dev.jsonl")


def good(qid, **extra):
    return json.dumps(
        {
            "id": qid,
            "kind": "lookup",
            "question": f"question {qid}?",
            "history": [],
            "relevant": ["nasa/a.md"],
            "answer": "x",
            **extra,
        }
    )


def test_bad_lines_are_warned_about_by_line_number_and_skipped(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        "\n".join(
            [
                good("q1"),
                '{"id": "q2", "question": ',  # line 2: invalid JSON
                json.dumps({"id": "q3", "kind": "lookup"}),  # line 3: no question
                "",  # blank lines are fine
                good("q5", relevant="nasa/a.md"),  # line 5: wrong type
                good("q1"),  # line 6: repeated id
                "[1, 2]",  # line 7: not an object
                good("q8", kind="unanswerable", relevant=[], answer=None),
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    questions, warnings = load_questions(path)
    assert [q.id for q in questions] == ["q1", "q8"]
    assert [w.split(": ")[0] for w in warnings] == [f"{path}:{n}" for n in (2, 3, 5, 6, 7)]
    assert "invalid JSON" in warnings[0]
    assert "missing field 'question'" in warnings[1]
    assert "'relevant' must be a list of strings" in warnings[2]
    assert "duplicate id 'q1'" in warnings[3]
    assert questions[0].answerable and not questions[1].answerable
    assert questions[1].answer is None


@pytest.mark.parametrize("content", [None, b"\xff\xfe{bad}\n"])
def test_missing_or_non_utf8_file_raises_value_error(tmp_path, content):
    path = tmp_path / "q.jsonl"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError) as err:
        load_questions(path)
    assert str(path) in str(err.value) and "\n" not in str(err.value)


def test_resolve_questions_names_unknown_ids():
    q = Question("q1", "lookup", "?", [], ["nasa/a.md", "nasa/gone.md"], "x")
    [out], warnings = resolve_questions([q], {"nasa/a.md": "A", "A": "A"})
    assert out.relevant == ["A", "nasa/gone.md"]  # unknown kept: it counts as a miss
    assert warnings == ["q1: unknown relevant id(s), not in the index: nasa/gone.md"]


@pytest.mark.skipif(not DEV.exists(), reason="shared dev set not present")
def test_dev_set_loads_cleanly():
    questions, warnings = load_questions(DEV)
    assert warnings == []
    assert len(questions) == 60
    assert sum(q.answerable for q in questions) == 54
    assert all(len(q.history) == 1 for q in questions if q.kind == "followup")


def test_as_of_is_read_as_a_date_and_a_bad_one_is_warned_about(tmp_path):
    from datetime import date

    path = tmp_path / "dated.jsonl"
    lines = [good("q1", as_of="2021-01-01"), good("q2"), good("q3", as_of="last week"), good("q4", as_of=20210101)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    questions, warnings = load_questions(path)
    assert [(q.id, q.as_of) for q in questions] == [("q1", date(2021, 1, 1)), ("q2", None)]
    assert [w.split(": ")[0] for w in warnings] == [f"{path}:3", f"{path}:4"]
    assert "field 'as_of' must be a date like 2024-01-31, got 'last week'" in warnings[0]
