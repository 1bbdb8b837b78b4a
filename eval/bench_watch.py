"""`make bench-watch`: `spacebot watch` rounds against a loopback feed of real articles.

A feed of 200 entries whose linked pages are articles of the shared corpus (read by the
project's own Markdown reader, served as HTML), polled with --follow-links by the watcher's
own rounds, in one process as the long-running `spacebot watch` runs them:
1. the first round ingests the 200;
2. an unchanged round (target: <= 2% of the first, zero embeddings, one request answered 304);
3. a round after 5 new entries appear (target: time proportional to the 5, not the 200).
"""

from __future__ import annotations

import argparse
import hashlib
import html
import os
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from eval.benchdoc import replace_section, stamp

ENTRIES = 200  # the feed size
NEW = 5  # entries published before the third round


class FeedServer:
    """A threaded loopback server: pages, one Atom feed with an ETag, a log of (path, status)."""

    def __init__(self):
        self.pages: dict[str, bytes] = {}
        self.feed, self.etag = b"", ""
        self.log: list[tuple[str, int]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                if self.path == "/feed.atom":
                    status = 304 if self.headers.get("If-None-Match") == server.etag else 200
                    body = server.feed if status == 200 else b""
                else:
                    body = server.pages.get(self.path, b"")
                    status = 200 if body else 404
                server.log.append((self.path, status))
                self.send_response(status)
                self.send_header("Content-Type", "application/atom+xml" if self.path == "/feed.atom" else "text/html")
                self.send_header("Content-Length", str(len(body)))
                if self.path == "/feed.atom":
                    self.send_header("ETag", server.etag)
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.http.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.http.server_address[1]}"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def publish(self, articles: list) -> None:
        """Serve `articles` (newest first) as the feed, each linked to its own page."""
        entries, newest = [], "2024-01-01"
        for n, article in enumerate(articles):
            path = f"/article/{n}"
            self.pages[path] = _page(article).encode("utf-8")
            stamp_ = (article.published_iso or "2024-01-01") + "T12:00:00Z"
            newest = max(newest, stamp_)
            entries.append(
                f"<entry><title>{html.escape(article.title)}</title><link href='{self.base}{path}'/>"
                f"<id>{self.base}{path}</id><updated>{stamp_}</updated>"
                f"<summary>{html.escape(article.text[:200])}</summary></entry>"
            )
        self.feed = (
            "<?xml version='1.0' encoding='utf-8'?><feed xmlns='http://www.w3.org/2005/Atom'>"
            f"<title>Bench Wire</title><id>{self.base}/feed.atom</id><updated>{newest}</updated>"
            + "".join(reversed(entries))
            + "</feed>"
        ).encode("utf-8")
        self.etag = '"' + hashlib.sha256(self.feed).hexdigest()[:16] + '"'

    def take_log(self) -> list[tuple[str, int]]:
        taken, self.log = self.log, []
        return taken

    def close(self) -> None:
        self.http.shutdown()
        self.http.server_close()


def _page(article) -> str:
    paragraphs = "".join(f"<p>{html.escape(p)}</p>" for p in article.text.split("\n\n") if p.strip())
    return (
        f"<html><head><title>{html.escape(article.title)}</title></head><body>"
        f"<article><h1>{html.escape(article.title)}</h1>{paragraphs}</article></body></html>"
    )


def corpus_articles(corpus: Path, count: int) -> list:
    """`count` articles spread evenly over the corpus (sorted paths, every k-th), read by the project's reader."""
    from ingest.article import InputError
    from ingest.readers import Doc, read_markdown

    files = sorted(p for p in corpus.rglob("*.md") if p.name.lower() != "readme.md")
    step = max(1, len(files) // count)
    articles = []
    for path in files[::step]:
        rel = path.relative_to(corpus).as_posix()
        doc = Doc(name=rel, data=path.read_bytes(), article_id=rel, origin=str(corpus), folder_source="bench")
        try:
            articles.append(next(iter(read_markdown(doc))))
        except InputError:  # an empty or unreadable file: take the next one
            continue
        if len(articles) == count:
            break
    return articles


def _rig(data_dir: Path):
    """The watcher's own parts over `data_dir`, with an embedder that counts what it embeds."""
    import ingest  # noqa: F401  (offline settings)
    from bot.state.watch_state import WatchStateStore
    from ingest.pipeline import LazyEmbedder
    from ingest.settings import Settings
    from ingest.watch.source_round import SourceRound

    class CountingEmbedder(LazyEmbedder):
        texts, seconds = 0, 0.0

        def encode(self, texts):
            started = time.perf_counter()
            self.texts += len(texts)
            vectors = super().encode(texts)
            self.seconds += time.perf_counter() - started
            return vectors

    settings = Settings(_env_file=None, SPACEBOT_DATA_DIR=data_dir)
    embedder = CountingEmbedder(settings)
    state = WatchStateStore(settings.state_db)
    return SourceRound(settings, state, follow_links=True, embedder=embedder), embedder, state


def measure(corpus: Path, entries: int = ENTRIES) -> dict:
    """Model load, then the three rounds; wall time, embeddings and requests of each."""
    from ingest.watch.source_list import WatchSource
    from ingest.watch.watcher import Watcher

    articles = corpus_articles(corpus, entries + NEW)
    server = FeedServer()
    figures: dict = {"entries": entries}
    try:
        with tempfile.TemporaryDirectory(prefix="spacebot-bench-watch-") as tmp:
            round_, embedder, state = _rig(Path(tmp) / "data")
            started = time.perf_counter()
            embedder.model  # noqa: B018  (load it now: a long-running watcher loads it once)
            figures["model_load"] = time.perf_counter() - started
            feed = f"{server.base}/feed.atom"
            watcher = Watcher([WatchSource(feed, 900.0)], round_, state, log=lambda line: print(line, flush=True))
            for name, published in (("first", entries), ("unchanged", entries), ("new", entries + NEW)):
                server.publish(articles[:published])
                server.take_log()
                before, embedding, started = embedder.texts, embedder.seconds, time.perf_counter()
                status = watcher.run(watcher.sources[0])
                figures[name] = {
                    "seconds": time.perf_counter() - started,
                    "embedding": embedder.seconds - embedding,
                    "embedded": embedder.texts - before,
                    "new": status.new_articles,
                    "result": status.result,
                    "requests": server.take_log(),
                }
            round_.close()
        figures["load"] = os.getloadavg()[0]
    finally:
        server.close()
    return figures


def _requests(log: list[tuple[str, int]]) -> str:
    codes: dict[int, int] = {}
    for _, status in log:
        codes[status] = codes.get(status, 0) + 1
    return f"{len(log)} ({', '.join(f'{n} x {code}' for code, n in sorted(codes.items()))})"


def report(figures: dict, corpus: str) -> str:
    """The BENCHMARKS.md section."""
    first, same, new, entries = figures["first"], figures["unchanged"], figures["new"], figures["entries"]

    def split(r: dict) -> str:
        rest = r["seconds"] - r["embedding"]
        return f"{r['embedding']:.1f} s embedding {r['embedded']:,} chunks + {rest:.1f} s the rest"

    rows = [
        ("model load (once per watch process, before the first round)", f"{figures['model_load']:.1f} s"),
        (f"first round: {first['new']} new articles", f"{first['seconds']:.1f} s = {split(first)}"),
        ("first round: requests", _requests(first["requests"])),
        ("unchanged round", f"{same['seconds'] * 1000:.0f} ms, {same['embedded']} chunks embedded"),
        ("unchanged round: requests", _requests(same["requests"])),
        (
            "**unchanged / first** (target <= 2%, zero embeddings)",
            f"**{100 * same['seconds'] / first['seconds']:.3f}%**",
        ),
        (f"round with {NEW} new entries: {new['new']} new", f"{new['seconds']:.1f} s = {split(new)}"),
        (f"round with {NEW} new entries: requests", _requests(new["requests"])),
        (
            f"**{NEW}-new round / first round**",
            f"**{100 * new['seconds'] / first['seconds']:.1f}%** of the time for "
            f"{100 * new['new'] / max(first['new'], 1):.1f}% of the articles, "
            f"{100 * new['embedded'] / max(first['embedded'], 1):.1f}% of the chunks",
        ),
        (
            "seconds per embedded chunk, whole round: first / 5-new",
            f"{first['seconds'] / max(first['embedded'], 1):.3f} / {new['seconds'] / max(new['embedded'], 1):.3f}",
        ),
    ]
    return "\n".join(
        [
            "## Watch",
            "",
            stamp("make bench-watch"),
            "",
            f"A loopback Atom feed of {entries} entries whose pages are articles of `{corpus}` (every "
            f"k-th file, read by the project's Markdown reader, served as HTML), polled with "
            "`--follow-links` by the watcher's own rounds in one process, into a fresh embedded Chroma.",
            "",
            f"Load average (1 min) at the end of the run: {figures['load']:.1f} on {os.cpu_count()} cores "
            "(the machine is shared): compare the rounds with each other, not with other sections.",
            "",
            "| measure | value |",
            "|---|---|",
            *[f"| {k} | {v} |" for k, v in rows],
            "",
            "Embedding is proportional to the new chunks. Outside it, a round that runs the pipeline also "
            "reads every article's state from Chroma and rebuilds the keyword index from all chunks: that "
            'part grows with the index, not with the new entries ("the rest" above).',
        ]
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", default="../shared/corpus")
    parser.add_argument("--out", default="docs/BENCHMARKS.md")
    parser.add_argument("--entries", type=int, default=ENTRIES, help="feed size (the issue's: 200)")
    args = parser.parse_args(argv)
    figures = measure(Path(args.corpus), args.entries)
    body = report(figures, args.corpus)
    replace_section(Path(args.out), "watch", body)
    print(body)


if __name__ == "__main__":
    main()
