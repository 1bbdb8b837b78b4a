"""run_eval plumbing with a fake `ask`, and the files write_report produces."""

import json

import pytest

from bot.core.records import Answer, ArticleHit, Citation
from eval.questions import Question
from eval.report import load_baseline, render_table, write_report
from eval.runner import run_eval

QUESTIONS = [
    Question("q1", "lookup", "which country was 40th?", [], ["a"], "Lithuania"),
    Question("q2", "lookup", "who signed for uruguay?", [], ["b", "c"], "Paganini"),
    Question("q3", "paraphrase", "what about x?", [], ["d"], "Rwanda"),
    Question("q4", "followup", "and who signed?", ["earlier turn"], ["e", "f", "g"], "Ngabo"),
    Question("q5", "unanswerable", "when did argentina sign?", [], [], None),
]

# Ranked article ids per mode and question (hybrid matches the hand-worked
# example in test_eval_metrics: first relevant at ranks 1, 3, none, 2).
RANKED = {
    "bm25": {"q1": ["x", "a"], "q2": ["b"], "q3": [], "q4": [], "q5": ["a"]},
    "hybrid": {"q1": ["a", "x"], "q2": ["x", "y", "b", "c"], "q3": [], "q4": ["x", "e"], "q5": ["a"]},
}
# (text, refused, cited ids) per question; the same in both modes.
ANSWERS = {
    "q1": ("The 40th was LITHUANIA [1].", False, ["a"]),
    "q2": ("I don't know.", True, []),  # false refusal
    "q3": ("It was Kenya [1][2].", False, ["d", "z"]),  # wrong answer, half-relevant citations
    "q4": ("Francis Ngabo signed [1].", False, ["e"]),
    "q5": ("The corpus does not say.", True, []),  # correct refusal
}


def hit(article_id, rank):
    return ArticleHit(article_id, f"title {article_id}", "nasa", None, None, None, 1 / rank)


def fake_ask(question, mode, k):
    hits = [hit(a, i) for i, a in enumerate(RANKED[mode][question.id], start=1)]
    text, refused, cited = ANSWERS[question.id]
    citations = [Citation(n, a, "t", "nasa", None, None, "quote", 1.0) for n, a in enumerate(cited, 1)]
    return hits, Answer(question.question, text, refused, citations)


@pytest.fixture(scope="module")
def result():
    return run_eval(QUESTIONS, ["bm25", "hybrid"], fake_ask, k=10)


def test_run_eval_scores_each_mode(result):
    h = result.modes["hybrid"]
    assert h["n_questions"] == 5 and h["n_answerable"] == 4
    assert h["mrr@10"] == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    assert h["hit@1"] == pytest.approx(1 / 4)
    # bm25: q1 rank 2, q2 rank 1, q3 and q4 empty.
    assert result.modes["bm25"]["mrr@10"] == pytest.approx((1 / 2 + 1 + 0 + 0) / 4)
    # answer_contains: q1 and q4 right, q2 refused, q3 wrong, over 4 answerable.
    assert h["answer_contains"] == pytest.approx(2 / 4)
    # citation precision over answered questions that cite: q1 1, q3 1/2, q4 1.
    assert h["citation_precision"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert h["refusal_rate"] == 1.0
    assert h["false_refusal_rate"] == pytest.approx(1 / 4)
    assert h["p50_ms"] is not None and h["p95_ms"] >= h["p50_ms"] >= 0
    assert h["per_kind"]["lookup"]["n"] == 2
    assert h["per_kind"]["lookup"]["mrr@10"] == pytest.approx((1 + 1 / 3) / 2)
    assert h["per_kind"]["followup"]["hit@1"] == 0.0
    assert "unanswerable" not in h["per_kind"]
    # answers per kind and per shape (every fake answer is a single fact)
    assert h["per_kind"]["lookup"]["answer_contains"] is not None
    assert set(h["per_shape"]) == {"fact"} and h["per_shape"]["fact"]["n"] >= 4


def test_to_json_has_the_agreed_shape(result):
    data = result.to_json()
    assert list(data) == ["modes", "default"] and data["default"] == "rerank"  # the mode `spacebot ask` uses
    assert set(data["modes"]["hybrid"]) == {
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
        "short_answer_ok",
        "sure_precision",
        "sure_coverage",
        "ece",
        "refusal_or_unsure_rate",
        "refusal_rate",
        "false_refusal_rate",
        "p50_ms",
        "p95_ms",
        "per_kind",
        "per_shape",
        "n_questions",
        "n_answerable",
    }
    json.dumps(data)  # plain JSON types only
    assert [r.id for r in result.details["hybrid"]] == ["q1", "q2", "q3", "q4", "q5"]


def test_progress_and_errors():
    calls = []
    run_eval(QUESTIONS, ["bm25", "hybrid"], fake_ask, progress=calls.append)
    assert calls == [1] * 10

    def broken(question, mode, k):
        raise ConnectionError("server down")

    with pytest.raises(RuntimeError, match="'hybrid' on q1: server down"):
        run_eval(QUESTIONS, ["hybrid"], broken)


def test_write_report_with_baseline(result, tmp_path):
    baseline = result.to_json()
    baseline["modes"]["hybrid"]["hit@1"] = 0.0  # we now do 0.25 better
    baseline["modes"]["hybrid"]["per_kind"]["lookup"]["mrr@10"] = 0.5
    (tmp_path / "base.json").write_text(json.dumps(baseline))

    paths = write_report(result, tmp_path / "out", baseline=tmp_path / "base.json", command="spacebot eval")
    assert {p.name for p in paths.values()} >= {"report.md", "results.json", "chart.png"}

    report = paths["report"].read_text()
    assert "## Change vs baseline" in report and "+0.250" in report
    assert "0.667 (+0.167)" in report  # lookup mrr@10 (1 + 1/3)/2 vs 0.5
    assert "spacebot eval" in report
    assert "| q2 | lookup | false refusal | who signed for uruguay? | Paganini | b (+1) | x, y, b |" in report
    assert "| q3 | paraphrase | retrieval miss, wrong answer |" in report
    assert "| q5 |" not in report  # correctly refused

    assert json.loads(paths["results"].read_text()) == result.to_json()
    assert load_baseline(paths["results"]) == result.to_json()

    png = paths["chart"].read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    import matplotlib.image

    image = matplotlib.image.imread(paths["chart"])
    assert image.ndim == 3 and image.shape[0] > 100 and image.shape[1] > 100


def test_render_table_shows_deltas(result):
    from rich.console import Console

    baseline = result.to_json()
    baseline["modes"]["bm25"]["mrr@10"] += 0.1
    console = Console(record=True, width=250)
    console.print(render_table(result, baseline))
    text = console.export_text()
    assert "hybrid" in text and "bm25" in text and "-0.100" in text


@pytest.mark.parametrize("content", ["{not json", '{"results": []}', '{"modes": {"hybrid": 3}}'])
def test_load_baseline_rejects_bad_files(tmp_path, content):
    path = tmp_path / "results.json"
    path.write_text(content)
    with pytest.raises(ValueError, match="baseline file"):
        load_baseline(path)
    with pytest.raises(ValueError, match="not found"):
        load_baseline(tmp_path / "missing.json")
