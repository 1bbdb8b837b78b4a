"""The `spacebot` command line: a thin face over ingest, the answering core and eval.

Heavy libraries are imported inside the commands, so `spacebot --help` is instant.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from pathlib import Path
from typing import Optional

import typer

app = typer.Typer(
    help="Answers questions about space policy from ingested news articles, with citations.",
    no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
)


def _settings():
    from ingest.settings import Settings

    return Settings()


def _fail(message: str, code: int = 1) -> None:
    """One clear line on stderr, then exit."""
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


def _console():
    from rich.console import Console

    return Console(stderr=True)


@app.command()
def ingest(
    inputs: list[str] = typer.Argument(..., help="Folders, files (.md .txt .html .json .jsonl .rss .xml) or http(s) URLs."),
    as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
    prune: bool = typer.Option(False, "--prune", help="Remove indexed articles whose inputs are gone."),
    follow_links: bool = typer.Option(False, "--follow-links", help="For feeds: fetch each entry's page for the full text."),
) -> None:
    """Add articles to the index; unchanged articles are skipped, changed ones replaced."""
    from bot.ingest_view import IngestView, print_summary
    from ingest.pipeline import run_ingest
    from ingest.store import StoreUnavailable

    console = _console()
    view = IngestView(console, quiet=as_json)
    try:
        with view:
            summary = run_ingest(inputs, _settings(), prune=prune, follow_links=follow_links, progress=view)
    except StoreUnavailable as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        print_summary(console, summary)
    for error in summary.failed:
        typer.echo(f"failed: {error}", err=True)
    raise typer.Exit(1 if summary.failed else 0)


@app.command()
def sources(as_json: bool = typer.Option(False, "--json", help="Print as JSON.")) -> None:
    """What is indexed: articles and chunks per source, date range, index location."""
    from ingest.inventory import take_inventory
    from ingest.store import ChunkStore, StoreUnavailable

    try:
        inventory = take_inventory(ChunkStore(_settings(), create=False))
    except StoreUnavailable as exc:
        _fail(str(exc))
    if as_json:
        typer.echo(json.dumps(inventory.to_dict(), indent=2))
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"{inventory.articles} articles, {inventory.chunks} chunks — {inventory.location}")
    for column in ("source", "articles", "chunks", "first", "last"):
        table.add_column(column, justify="right" if column in ("articles", "chunks") else "left")
    for s in inventory.sources:
        table.add_row(s.source, str(s.articles), str(s.chunks), s.first or "—", s.last or "—")
    Console().print(table)


def main() -> None:  # pragma: no cover - console entry point
    app()


if __name__ == "__main__":  # pragma: no cover
    sys.exit(app())
