"""`spacebot watch` and `spacebot sources` on the command line: durations, the sources file,
`--once` for cron, what `sources` shows, and SIGTERM on a real `spacebot watch` process."""

from __future__ import annotations

import json
import re
import signal
import subprocess

import pytest
from conftest import make_settings
from feed_fixture import FeedSite, article_text
from test_ingest import assert_index_consistent
from test_ingest_interrupt import chunks_written
from test_ingest_robustness import SPACEBOT, _env
from typer.testing import CliRunner
from web_fixture import Site

from ingest.watch.durations import format_duration, parse_duration
from ingest.watch.source_list import WatchSource, read_sources_file, watch_list


@pytest.fixture()
def cli(tmp_path, monkeypatch):
    from bot.faces.cli import app

    monkeypatch.setenv("SPACEBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SPACEBOT_FETCH_TIMEOUT", "2")
    monkeypatch.setenv("COLUMNS", "200")  # rich tables one row a line
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


def test_durations_read_as_people_type_them():
    assert [parse_duration(d) for d in ("90s", "15m", "2h", "1h30m", "1d", " 2H ", "0.5h")] == [
        90,
        900,
        7200,
        5400,
        86400,
        7200,
        1800,
    ]
    for bad in ("15x", "", "15", "m", "0s", "1h-5m", "fifteen minutes"):
        with pytest.raises(ValueError, match="duration"):
            parse_duration(bad)
    assert [format_duration(s) for s in (90, 900, 5400, 7200)] == ["1m30s", "15m", "1h30m", "2h"]


def test_a_sources_file_gives_each_source_its_interval(tmp_path):
    listing = tmp_path / "conf" / "sources.txt"
    listing.parent.mkdir()
    listing.write_text(
        "# space-policy feeds\n"
        "https://example.org/feed.xml 30m\n"
        "\n"
        "notes            # a folder beside this file, at the default interval\n"
        "https://example.org/page.html 2h  # a page\n"
    )
    assert read_sources_file(listing, 900.0) == [
        WatchSource("https://example.org/feed.xml", 1800.0),
        WatchSource(str((tmp_path / "conf" / "notes").resolve()), 900.0),
        WatchSource("https://example.org/page.html", 7200.0),
    ]
    both = watch_list(["https://example.org/feed.xml", "https://example.org/b"], 60.0, listing)
    assert [(s.name, s.interval) for s in both][:2] == [
        ("https://example.org/feed.xml", 60.0),
        ("https://example.org/b", 60.0),
    ]


def test_bad_input_to_watch_is_one_line_and_exit_2(cli, tmp_path):
    result = cli("watch", "https://example.org/feed.xml", "--every", "15x")
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: --every: '15x' is not a duration like 90s, 15m, 2h or 1h30m"
    listing = tmp_path / "sources.txt"
    listing.write_text("https://example.org/feed.xml\nhttps://example.org/other.xml every-hour\n")
    result = cli("watch", "--sources-file", str(listing))
    assert result.exit_code == 2
    assert result.stderr.strip() == f"error: {listing}:2: 'every-hour' is not a duration like 90s, 15m, 2h or 1h30m"
    result = cli("watch", "--sources-file", str(tmp_path / "missing.txt"))
    assert result.exit_code == 2 and "missing.txt: cannot read the sources file" in result.stderr
    assert cli("watch").exit_code == 2


def test_once_runs_one_round_and_sources_shows_each_watched_source(cli, site):
    feed = FeedSite(site)
    for i in range(2):
        feed.add(f"story-{i}", f"Story {i}", article_text(f"story-{i}"))
    feed.publish()

    first = cli("watch", feed.url, "--once", "--follow-links", "--every", "30m")
    assert first.exit_code == 0, first.stderr
    assert "2 new, 0 changed, 0 unchanged" in first.stderr
    [watched] = json.loads(cli("sources", "--json").stdout)["watched"]
    assert (watched["source"], watched["result"], watched["new_articles"], watched["every_seconds"]) == (
        feed.url,
        "ok",
        2,
        1800.0,
    )
    assert watched["last_run"] < watched["next_run"]

    feed.fail(503)
    failed = cli("watch", feed.url, "--once", "--follow-links")
    assert failed.exit_code == 1, "a failed source makes --once exit 1, for cron to notice"
    lines = failed.stderr.strip().splitlines()
    assert len(lines) == 2 and lines[1].endswith(f"{feed.url}: failed: HTTP 503 Service Unavailable; retry in 15m")
    table = cli("sources")
    assert table.exit_code == 0
    assert "watched sources" in table.stdout and "failed: HTTP 503" in table.stdout

    skipped = cli("watch", feed.url, "--once", "--follow-links")  # cron again, within the backoff
    assert skipped.exit_code == 0 and "skipped, backing off after 1 failures" in skipped.stderr


def _long_feed(site: Site, entries: int) -> FeedSite:
    """Entries of ~15 chunks each: several embedding batches, so a stop lands between two."""
    feed = FeedSite(site)
    for i in range(entries):
        text = "\n\n".join(article_text(f"story-{i}-part-{k}", 6) for k in range(3))
        feed.add(f"story-{i}", f"Story {i}", text)
    feed.publish()
    return feed


@pytest.mark.slow
def test_sigterm_mid_round_leaves_every_article_whole_once_and_exits_0(tmp_path, site):
    entries = 30
    feed = _long_feed(site, entries)
    data = tmp_path / "data"
    proc = subprocess.Popen(
        [*SPACEBOT, "watch", feed.url, "--follow-links", "--every", "1h"],
        env=_env(data),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = 300
    import time

    started = time.monotonic()
    while proc.poll() is None and not chunks_written(data) and time.monotonic() - started < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, proc.communicate()[1]
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert err.strip().splitlines()[-1].endswith("stopped; every article in the index is whole")

    from ingest.store import ChunkStore

    store = ChunkStore(make_settings(data), create=False)
    ids = [cid for cid, _, _ in store.iter_records([])]
    assert len(ids) == len(set(ids))
    states = store.article_states()
    assert all(s.complete for s in states.values())
    done = len(states)
    assert 0 < done < entries, "the stop did not land mid-round; give the feed more entries"

    # The stopped round saved nothing about the feed: the next round reads it and finishes the job.
    rerun = subprocess.run(
        [*SPACEBOT, "watch", feed.url, "--follow-links", "--once"],
        env=_env(data),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert rerun.returncode == 0, rerun.stderr
    assert re.search(rf"{re.escape(feed.url)}: {entries - done} new, 0 changed, {done} unchanged", rerun.stderr)
    assert len(assert_index_consistent(make_settings(data))) == entries
