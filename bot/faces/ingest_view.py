"""The terminal view of an ingest run: a rich progress bar and the summary table."""

from __future__ import annotations

from ingest.article import InputError
from ingest.pipeline import IngestSummary, Progress


class IngestView(Progress):
    """Shows reading and embedding progress (articles/s, chunks/s) on stderr."""

    def __init__(self, console, quiet: bool = False):
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        from rich.progress import Progress as Bar

        self.bar = Bar(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
            console=console,
            transient=True,
            disable=quiet or not console.is_terminal,
        )
        self.reading = None
        self.embedding = None
        self.articles = 0
        self.read_count = 0
        self.found: set[str] = set()  # ids of the articles read so far
        self.to_embed: int | None = None  # new and changed articles, once reading is done
        self.written = 0  # of those, articles written whole

    def __enter__(self):
        self.bar.start()
        self.reading = self.bar.add_task("reading", total=None, rate="")
        return self

    def __exit__(self, *exc):
        self.bar.stop()

    def stage(self, name: str) -> None:
        if name.startswith("updating") and self.to_embed is None:  # reading done, nothing to embed
            self.to_embed = 0
        if self.reading is not None:
            self.bar.update(self.reading, description=name)

    def read(self, article_or_error) -> None:
        self.read_count += 1
        if not isinstance(article_or_error, InputError):
            self.found.add(article_or_error.id)
        self.bar.update(self.reading, advance=1)

    def start_embedding(self, articles: int, chunks: int) -> None:
        self.articles = 0
        self.to_embed = articles
        self.embedding = self.bar.add_task(f"embedding {articles} articles", total=chunks, rate="")

    def embedded(self, articles: int, chunks: int) -> None:
        self.articles += articles
        self.written += articles
        self.bar.update(self.embedding, advance=chunks)
        task = self.bar.tasks[self.embedding]
        if task.elapsed:
            self.bar.update(
                self.embedding,
                rate=f"{self.articles / task.elapsed:.1f} art/s {task.completed / task.elapsed:.1f} chunks/s",
            )


def interrupted_line(view: IngestView) -> str:
    """What an interrupted run says: how many of the articles it found are whole in the index.

    Unchanged articles count as done; before embedding starts nothing is counted
    as done (which articles are unchanged is decided only once reading ends).
    """
    total = len(view.found)
    done = 0 if view.to_embed is None else total - view.to_embed + view.written
    return f"interrupted after {done} of {total} articles; run the same command again to finish"


def print_summary(console, summary: IngestSummary) -> None:
    """The end-of-run table."""
    from rich.table import Table

    table = Table(title=f"ingest — {summary.location}", show_header=True)
    for column in ("new", "changed", "unchanged", "removed", "chunks written", "failed", "seconds"):
        table.add_column(column, justify="right")
    table.add_row(
        str(summary.new),
        str(summary.changed),
        str(summary.unchanged),
        str(summary.removed),
        str(summary.chunks),
        str(len(summary.failed)),
        f"{summary.seconds:.1f}",
    )
    console.print(table)
    console.print(
        f"{summary.new} new, {summary.changed} changed, {summary.unchanged} unchanged; "
        f"index holds {summary.total_articles} articles in {summary.total_chunks} chunks",
        highlight=False,
    )
    for repaired in summary.repaired:
        console.print(f"repaired {repaired}", highlight=False)
