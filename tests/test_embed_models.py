"""SPACEBOT_EMBED_MODEL: bge-small builds and answers from its own index; an index is never
queried with the other model's vectors (one clear line says to re-ingest)."""

from __future__ import annotations

import pytest
from conftest import SAMPLE, make_settings
from typer.testing import CliRunner

QUESTIONS = {  # question -> the sample article that answers it
    "which country was the 40th to sign the artemis accords?": "policy/artemis-accords-lithuania.md",
    "joint lunar research station of china and russia": "international/ilrs-china-russia.md",
    "when was the space force founded?": "defense/space-force-founding.md",
    "what does the outer space treaty ban?": "un/outer-space-treaty-explainer.md",
}


def test_the_bge_model_file_has_the_pinned_sha256():
    from ingest.model_files import file_sha256
    from ingest.models import MODELS

    bge = MODELS["bge-small"]
    assert file_sha256(bge.folder() / bge.weights) == bge.weights_sha256


@pytest.fixture(scope="module")
def bge_settings(tmp_path_factory):
    from ingest.pipeline import run_ingest

    settings = make_settings(tmp_path_factory.mktemp("bge-index"), SPACEBOT_EMBED_MODEL="bge-small")
    summary = run_ingest([str(SAMPLE)], settings)
    assert summary.new == 24 and not summary.failed
    return settings


def test_a_bge_index_finds_the_answering_article_by_dense_search_alone(bge_settings):
    from bot.core.retrieval import Retriever
    from bot.core.search_index import SearchIndex
    from ingest.models import QueryRecipe

    assert QueryRecipe.read(bge_settings.onnx_dir).pooling == "cls"
    retriever = Retriever(SearchIndex(bge_settings))
    top = {q: retriever.search(q, 1, mode="dense")[0].article_id for q in QUESTIONS}
    assert top == QUESTIONS


def _ask(monkeypatch, settings, model):
    from bot.faces.cli import app

    monkeypatch.setenv("SPACEBOT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("SPACEBOT_EMBED_MODEL", model)
    return CliRunner().invoke(app, ["ask", next(iter(QUESTIONS))])


@pytest.mark.parametrize("built_with", ["bge-small", "minilm"])
def test_querying_an_index_with_the_other_model_is_one_clear_error(
    built_with, bge_settings, sample_settings, monkeypatch
):
    settings = bge_settings if built_with == "bge-small" else sample_settings
    other = "minilm" if built_with == "bge-small" else "bge-small"
    result = _ask(monkeypatch, settings, other)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and f"built with the {built_with} model" in lines[0]
    assert "re-ingest" in lines[0] and "Traceback" not in result.output
    assert _ask(monkeypatch, settings, built_with).exit_code == 0


def test_an_unknown_model_name_is_one_line_naming_the_setting(monkeypatch, tmp_path):
    from bot.faces.cli import app

    monkeypatch.setenv("SPACEBOT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("SPACEBOT_EMBED_MODEL", "gpt")
    result = CliRunner().invoke(app, ["sources"])
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "SPACEBOT_EMBED_MODEL='gpt'" in lines[0] and "bge-small" in lines[0], result.stderr
