"""One rule for odd front matter and record fields: coerce when the meaning is clear, else drop the
field with one warning naming the input and the field; the input is still ingested."""

from __future__ import annotations

import json

import pytest

from ingest.readers import Doc, read_feed, read_jsonl, read_markdown

BODY = "Lunar station talks end\n\nThe lunar station agreement was signed by both agencies after long talks.\n"


def _markdown(front: str, name: str = "odd.md"):
    doc = Doc(name, f"---\n{front}\n---\n{BODY}".encode(), name, "/x", "news", path=name)
    (article,) = list(read_markdown(doc))
    return article


def test_a_title_written_as_a_list_is_joined_and_a_number_is_text():
    article = _markdown("title: [Artemis Accords, Lithuania signs]\ndate: 2024-05-16")
    assert article.title == "Artemis Accords: Lithuania signs" and not article.warnings
    assert str(article.published) == "2024-05-16"
    assert _markdown("title: 2024").title == "2024"


@pytest.mark.parametrize(
    ("front", "field"),
    [
        ("title: {a: 1}", "title"),
        ("title: Moon pact\ndate: [2024, 1]", "date"),
        ("title: Moon pact\ndate: 2024-13-45", "date"),
        ("title: Moon pact\nsource_url: [https://a.example, https://b.example]", "source_url"),
        ("title: Moon pact\npublisher: {name: X}", "publisher"),
        ("title: true", "title"),
    ],
)
def test_a_field_of_the_wrong_type_is_dropped_with_one_warning_naming_file_and_field(front, field):
    article = _markdown(front)
    assert len(article.warnings) == 1, article.warnings
    assert article.warnings[0].startswith("odd.md: field ") and f"'{field}'" in article.warnings[0]
    assert "{" not in article.title and "[" not in article.title
    assert "lunar station agreement was signed" in article.text


def test_an_impossible_date_no_longer_rejects_the_file_and_a_later_good_key_is_used():
    article = _markdown("title: Moon pact\ndate: 2024-13-45\npublished: 2024-02-03")
    assert str(article.published) == "2024-02-03"
    assert "'date'" in article.warnings[0] and "2024-13-45" in article.warnings[0]


def test_front_matter_that_is_not_a_mapping_is_ignored_with_a_warning():
    doc = Doc("list.md", f"---\n- a\n- b\n---\nMoon pact\n\n{BODY}".encode(), "list.md", "/x", "news")
    (article,) = list(read_markdown(doc))
    assert article.title == "Moon pact" and "not a mapping" in article.warnings[0]


def test_json_records_and_feeds_follow_the_same_rule():
    line = json.dumps(
        {"id": 7, "title": ["Gateway", "module ships"], "date": [2024, 1], "text": BODY, "source": {"x": 1}}
    )
    doc = Doc("w.jsonl", (line + "\n").encode(), "w.jsonl", "/x", "wire")
    (article,) = list(read_jsonl(doc))
    assert article.id == "w.jsonl#7" and article.title == "Gateway: module ships" and article.source == "wire"
    assert sorted(w.split("'")[1] for w in article.warnings) == ["date", "source"]
    assert all(w.startswith("w.jsonl:1: ") for w in article.warnings)
    feed = (
        "<?xml version='1.0'?><rss version='2.0'><channel><title>T</title><item><title>Rover</title>"
        "<link>https://x.example/r</link><pubDate>not a date at all</pubDate>"
        f"<description>{BODY}</description></item></channel></rss>"
    )
    (entry,) = list(read_feed(Doc("f.rss", feed.encode(), "f.rss", "/x", "")))
    assert entry.published is None and "'published'" in entry.warnings[0]


def test_ingest_prints_one_warning_line_per_dropped_field_and_ingests_the_file(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from bot.faces.cli import app

    folder = tmp_path / "odd"
    folder.mkdir()
    (folder / "bad-date.md").write_text(f"---\ntitle: Moon pact\ndate: 2024-13-45\n---\n{BODY}")
    (folder / "list-title.md").write_text(f"---\ntitle: [Part one, part two]\ndate: [2024, 1]\n---\n{BODY}")
    monkeypatch.setenv("SPACEBOT_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["ingest", str(folder), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["new"] == 2 and not summary["failed"]
    warnings = [line for line in result.stderr.splitlines() if line]
    assert len(warnings) == 2 and all(line.startswith("warning: ") for line in warnings), warnings
    assert any(str(folder / "bad-date.md") in w and "'date'" in w for w in warnings)
    assert summary["warnings"] == [w.removeprefix("warning: ") for w in warnings]
