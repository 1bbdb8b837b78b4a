"""`--source` naming no indexed source is a usage error that lists the real ones."""

from __future__ import annotations

import pytest
from test_cli_ask_chat import GERMANY, assert_clean_failure, sample_env  # noqa: F401 (a fixture)
from typer.testing import CliRunner

from bot.faces.cli import app


@pytest.mark.usefixtures("sample_env")
def test_an_unknown_source_exits_2_listing_the_indexed_ones():
    runner = CliRunner()
    for command in (
        ["ask", GERMANY, "--source", "nosuchsource"],
        ["ask", GERMANY, "--json", "--source", "NASA"],
        ["chat", "--source", "nosuchsource"],
    ):
        stderr = assert_clean_failure(runner.invoke(app, command, input=""), 2)
        lines = stderr.strip().splitlines()
        assert len(lines) == 1, stderr
        wrong = command[command.index("--source") + 1]
        assert lines[0].startswith(f"error: unknown source {wrong!r}; indexed sources: "), stderr
        assert "web" in lines[0].split("indexed sources: ")[1].split(", ")
    # a real source still answers
    result = runner.invoke(app, ["ask", GERMANY, "--source", "web", "--json"])
    assert result.exit_code == 0, result.stderr
