"""`spacebot watch`'s rounds against a real feed server on 127.0.0.1, a real Chroma index and the
real embedding model; time is a fake clock, so schedules and backoff need no sleeping."""

from __future__ import annotations

from pathlib import Path

from conftest import FakeClock, make_settings
from feed_fixture import FeedSite, article_text
from test_ingest_pipeline import CountingEmbedder
from web_fixture import Site

INTERVAL = 900.0  # 15m, the command's default


class Rig:
    """A watcher over `sources` with its own data dir, state database and log."""

    def __init__(self, tmp_path: Path, embedder, sources: list[str], follow_links: bool = True):
        from bot.state.watch_state import WatchStateStore
        from ingest.watch.source_list import WatchSource
        from ingest.watch.source_round import SourceRound
        from ingest.watch.watcher import Watcher

        self.settings = make_settings(tmp_path / "data", SPACEBOT_FETCH_TIMEOUT=2)
        self.clock = FakeClock()
        self.state = WatchStateStore(self.settings.state_db, clock=self.clock)
        self.embedder = CountingEmbedder(embedder)
        self.round = SourceRound(self.settings, self.state, follow_links=follow_links, embedder=self.embedder)
        self.lines: list[str] = []
        self.watcher = Watcher(
            [WatchSource(s, INTERVAL) for s in sources], self.round, self.state, clock=self.clock, log=self.lines.append
        )

    def states(self) -> dict:
        from ingest.store import ChunkStore

        return ChunkStore(self.settings, create=False).article_states()

    def chunk_count(self) -> int:
        from ingest.store import ChunkStore

        return ChunkStore(self.settings, create=False).count()

    def files(self) -> dict[str, tuple[int, int]]:
        """Every file of the index (Chroma and derived folders) with its size and mtime."""
        return {
            str(p): (p.stat().st_size, p.stat().st_mtime_ns)
            for folder in (self.settings.chroma_dir, self.settings.keyword_dir, self.settings.onnx_dir)
            for p in folder.rglob("*")
            if p.is_file()
        }


def _feed(site: Site, n: int, path: str = "/feed.atom") -> FeedSite:
    feed = FeedSite(site, path)
    for i in range(n):
        feed.add(f"story-{i}", f"Story {i} about {path}", article_text(f"story-{i}{path}"))
    feed.publish()
    return feed


def _paths(requests) -> list[tuple[str, int]]:
    return sorted((r.path, r.status) for r in requests)


def _paths_of(*paths: str) -> list[tuple[str, int]]:
    return sorted((p, 200) for p in paths)


def test_an_unchanged_feed_costs_one_304_and_writes_nothing(tmp_path, site, embedder):
    feed = _feed(site, 3)
    rig = Rig(tmp_path, embedder, [feed.url])

    [status] = rig.watcher.run_due()
    assert (status.result, status.new_articles) == ("ok", 3)
    first = site.take_requests()
    assert _paths(first) == sorted([(feed.path, 200)] + [(f"/feed-atom/story-{i}", 200) for i in range(3)])
    assert len(rig.states()) == 3
    embedded, chunks, files = len(rig.embedder.texts), rig.chunk_count(), rig.files()
    assert embedded == chunks > 3

    assert rig.watcher.run_due() == [], "nothing is due before the interval has passed"
    assert site.take_requests() == []

    rig.clock.advance(INTERVAL)
    [status] = rig.watcher.run_due()
    assert status.result == "unchanged"
    [request] = site.take_requests()
    assert (request.path, request.status) == (feed.path, 304)
    assert request.headers["if-none-match"] and request.headers["if-modified-since"]
    assert len(rig.embedder.texts) == embedded, "an unchanged feed embedded something"
    assert rig.chunk_count() == chunks
    assert rig.files() == files, "an unchanged round wrote to the index"
    assert rig.lines[-1] == f"{feed.url}: unchanged; next run in 15m"


def test_a_new_entry_is_indexed_within_one_interval_and_known_pages_are_not_fetched_again(tmp_path, site, embedder):
    feed = _feed(site, 3)
    rig = Rig(tmp_path, embedder, [feed.url])
    rig.watcher.run_due()
    site.take_requests()

    new_link = feed.add("story-new", "Gateway module ships", article_text("gateway-module"))
    feed.add("story-1", "Story 1, corrected", article_text("story-1-corrected"), updated="2024-04-11T09:00:00Z")
    feed.publish()
    rig.clock.advance(INTERVAL)
    [status] = rig.watcher.run_due()

    assert (status.result, status.new_articles) == ("ok", 1)
    fetched = _paths(site.take_requests())
    assert fetched == _paths_of(feed.path, "/feed-atom/story-1", "/feed-atom/story-new"), (
        "only the new and the updated entry's pages are fetched"
    )
    states = rig.states()
    assert len(states) == 4 and new_link in states and all(s.complete for s in states.values())
    assert "1 new, 1 changed, 2 unchanged" in rig.lines[-1]


def test_a_failing_feed_backs_off_while_another_feed_keeps_being_ingested(tmp_path, site, embedder):
    broken, healthy = _feed(site, 1, "/broken.atom"), _feed(site, 1, "/healthy.atom")
    broken.fail(500)
    rig = Rig(tmp_path, embedder, [broken.url, healthy.url])
    broken_polls = []
    for tick in range(13):
        if tick == 5:  # the healthy feed publishes a new entry
            healthy.add("late", "A late story", article_text("late-story"))
            healthy.publish()
        rig.watcher.run_due()
        if any(r.path == broken.path for r in site.take_requests()):
            broken_polls.append(tick)
        if tick == 5:
            assert healthy.link("late") in rig.states(), "the healthy feed was held up by the broken one"
        rig.clock.advance(INTERVAL)

    # interval x 1, 2, 4, 8 after the 1st, 2nd, 3rd and 4th failure (capped at 8)
    assert broken_polls == [0, 1, 3, 7]
    failures = [line for line in rig.lines if line.startswith(broken.url)]
    assert len(failures) == 4 and all("failed: HTTP 500 Internal Server Error; retry in" in f for f in failures)
    assert failures[-1].endswith("retry in 2h, 4 failures in a row")
    assert rig.state.status(broken.url).failures == 4

    broken.publish()  # the server is fixed; the source recovers at its next retry (tick 15)
    rig.clock.advance(2 * INTERVAL)
    [recovered] = [s for s in rig.watcher.run_due() if s.source == broken.url]
    assert (recovered.result, recovered.failures, recovered.new_articles) == ("ok", 0, 1)


def test_a_malformed_feed_is_a_failure_with_one_line(tmp_path, site, embedder):
    url = site.add("/bad.xml", "<?xml version='1.0'?><rss><channel><item><title>x</tit", ctype="application/rss+xml")
    rig = Rig(tmp_path, embedder, [url])
    [status] = rig.watcher.run_due()
    assert status.result == "failed" and "malformed feed" in status.detail
    assert len(rig.lines) == 1 and rig.lines[0].startswith(f"{url}: failed: malformed feed")


def test_a_page_that_fails_is_fetched_again_next_round(tmp_path, site, embedder):
    """A linked page that failed is not remembered: the next round reads the feed and that page again."""
    feed = _feed(site, 2)
    site.add("/feed-atom/story-1", "gone", status=503)
    rig = Rig(tmp_path, embedder, [feed.url])
    [status] = rig.watcher.run_due()
    assert status.result == "partial" and "story-1" in status.detail
    site.take_requests()

    feed.add("story-1", "Story 1 about /feed.atom", article_text("story-1/feed.atom"))  # the page is back
    rig.clock.advance(INTERVAL)
    [status] = rig.watcher.run_due()
    assert status.result == "ok"
    assert _paths(site.take_requests()) == _paths_of(feed.path, "/feed-atom/story-1")


def test_a_server_without_validators_is_not_parsed_when_its_bytes_are_the_same(tmp_path, site, embedder, monkeypatch):
    from ingest.watch.source_round import SourceRound

    feed = _feed(site, 2)
    route = site.routes[feed.path]
    route.etag = route.last_modified = None
    rig = Rig(tmp_path, embedder, [feed.url])
    rig.watcher.run_due()
    site.take_requests()
    rig.clock.advance(INTERVAL)
    parsed = []
    original = SourceRound._ingest
    monkeypatch.setattr(SourceRound, "_ingest", lambda self, *a: parsed.append(a) or original(self, *a))
    [status] = rig.watcher.run_due()
    assert status.result == "unchanged" and parsed == []
    assert _paths(site.take_requests()) == [(feed.path, 200)]


def test_a_folder_is_ingested_again_only_when_a_file_changed(tmp_path, embedder):
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "a.txt").write_text("Lunar treaty talks\n\n" + article_text("lunar-treaty"))
    rig = Rig(tmp_path, embedder, [str(folder)])
    assert rig.watcher.run_due()[0].new_articles == 1
    rig.clock.advance(INTERVAL)
    assert rig.watcher.run_due()[0].result == "unchanged"
    (folder / "b.txt").write_text("Debris rules\n\n" + article_text("debris-rules"))
    rig.clock.advance(INTERVAL)
    status = rig.watcher.run_due()[0]
    assert (status.result, status.new_articles) == ("ok", 1)
    assert len(rig.states()) == 2
