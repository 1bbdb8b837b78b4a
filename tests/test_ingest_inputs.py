"""`spacebot ingest` on bad and remote inputs: one clear line each, the batch goes on."""

from __future__ import annotations

import json

import pytest
from conftest import SAMPLE
from typer.testing import CliRunner

ARTICLE = "Japan and the United States agreed on a lunar rover. " * 12

PAGE = f"""<html><head><title>Japan joins lunar rover plan</title>
<meta property="article:published_time" content="2024-04-10">
<meta property="og:site_name" content="Orbit Times"></head>
<body><nav>Home | World | Space</nav><article><h1>Japan joins lunar rover plan</h1>
<p>{ARTICLE}</p><p>The pressurized rover will carry two astronauts across the lunar surface.</p></article>
<footer>Copyright Orbit Times</footer></body></html>"""

FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Orbit Times</title>
<item><title>Rover deal signed</title><link>{base}/rover</link>
<pubDate>Wed, 10 Apr 2024 12:00:00 GMT</pubDate><description>Short summary of the rover deal text here.</description></item>
<item><title>Gateway module ships</title><link>{base}/gateway</link>
<pubDate>Thu, 11 Apr 2024 12:00:00 GMT</pubDate><description>The Gateway habitation module shipped to Florida for launch integration work.</description></item>
</channel></rss>"""


@pytest.fixture()
def cli(tmp_path, monkeypatch):
    from bot.faces.cli import app

    monkeypatch.setenv("SPACEBOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("SPACEBOT_FETCH_TIMEOUT", "1")
    runner = CliRunner()

    def run(*args):
        return runner.invoke(app, list(args))

    return run


def _summary(result):
    start = result.stdout.index("{")
    return json.loads(result.stdout[start : result.stdout.rindex("}") + 1])


def test_each_bad_input_gets_one_line_and_the_rest_is_ingested(tmp_path, cli, monkeypatch):
    monkeypatch.setenv("SPACEBOT_MAX_FILE_MB", "0.05")
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.md").write_text("")
    (bad / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    (bad / "latin1.txt").write_bytes("Título\n\nEl acuerdo fue firmado en Bogotá por el ministro.".encode("latin-1"))
    (bad / "frontmatter.md").write_text("---\ntitle: [unclosed\ndate: 2024\n---\nBody text that is long enough.\n")
    (bad / "records.jsonl").write_text(
        '{"id": "ok", "title": "Good record", "text": "A good record about the Moon Agreement and its parties."}\n'
        '{"id": "broken", "title": \n'
        '{"id": "notext", "title": "No text"}\n'
    )
    (bad / "broken.json").write_text('{"title": "x", "text": ')
    (bad / "feed.rss").write_text("<?xml version='1.0'?><rss><channel><item><title>x</tit")
    (bad / "huge.txt").write_text("Huge headline\n\n" + "word " * 20000)
    result = cli("ingest", str(SAMPLE), str(bad), "--json")
    assert result.exit_code == 1
    summary = _summary(result)
    assert summary["new"] == 25  # the sample corpus plus the one good JSONL record
    failed = {f["input"].replace(str(bad) + "/", ""): f["error"] for f in summary["failed"]}
    assert failed["empty.md"] == "empty file"
    assert "binary" in failed["binary.txt"]
    assert "UTF-8" in failed["latin1.txt"]
    assert "front matter" in failed["frontmatter.md"]
    assert "malformed JSON" in failed["records.jsonl:2"]
    assert "no text" in failed["records.jsonl:3"]
    assert "malformed JSON" in failed["broken.json"]
    assert "feed" in failed["feed.rss"]
    assert "limit" in failed["huge.txt"] and "MB" in failed["huge.txt"]
    for line in result.stderr.splitlines():
        assert line.startswith("failed: "), line  # one line per failure, no traceback
    assert len(result.stderr.splitlines()) == len(summary["failed"]) == 9


def test_usage_errors_exit_2(cli):
    assert cli("ingest").exit_code == 2
    assert cli("ingest", "--no-such-flag", "x").exit_code == 2


def test_missing_path_and_unsupported_file_are_named(tmp_path, cli):
    odd = tmp_path / "notes.docx"
    odd.write_bytes(b"PK")
    result = cli("ingest", str(tmp_path / "nope"), str(odd), "--json")
    assert result.exit_code == 1
    errors = [f["error"] for f in _summary(result)["failed"]]
    assert any("no such file" in e for e in errors)
    assert any("unsupported file type .docx" in e for e in errors)


def test_urls_pages_feeds_dead_and_slow(site, cli):
    page = site.add("/japan-rover", PAGE)
    site.add("/rover", PAGE)
    feed = site.add("/feed.xml", FEED.format(base=site.base), ctype="application/rss+xml")
    dead = site.base + "/gone"
    slow = site.add("/slow", PAGE, delay=3)
    result = cli("ingest", page, feed, dead, slow, "--follow-links", "--json")
    assert result.exit_code == 1
    summary = _summary(result)
    errors = {f["input"]: f["error"] for f in summary["failed"]}
    assert errors[dead] == "HTTP 404 Not Found"
    assert "timed out after 1s" in errors[slow]
    # the gateway entry's page is a 404: its summary is indexed instead, and that is said
    assert "summary instead" in errors[site.base + "/gateway"]
    assert summary["new"] == 3  # the page and both feed entries

    from conftest import make_settings

    from ingest.store import ChunkStore

    store = ChunkStore(make_settings(), create=False)  # the data dir the cli fixture put in the environment
    metas = {m["article_id"]: m for _, m, _ in store.iter_records(["metadatas"])}
    assert metas[page]["url"] == page and metas[page]["title"] == "Japan joins lunar rover plan"
    assert metas[page]["published"] == "2024-04-10"
    rover = [d for cid, _, d in store.iter_records(["documents"]) if cid.startswith(site.base + "/rover::")]
    assert any("pressurized rover" in d for d in rover), "--follow-links fetched the full page"


def test_sources_lists_counts_and_location(cli, monkeypatch, tmp_path):
    assert cli("sources").exit_code == 1  # nothing indexed yet: a clear error
    cli("ingest", str(SAMPLE))
    result = cli("sources", "--json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["articles"] == 24
    assert str(tmp_path / "data") in data["location"]
    assert sum(s["articles"] for s in data["sources"]) == 24
    assert all(s["first"] <= s["last"] for s in data["sources"] if s["first"])
