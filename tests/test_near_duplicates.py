"""Near-duplicate articles: found at ingest, shown once, their copies cited as "also in".

The integration test goes through the real pipeline (real reader, chunker, embedding
model, Chroma) on a copy of the session's sample index, so only the two copies are
embedded.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from conftest import SAMPLE, make_settings

ORIGINAL = SAMPLE / "policy" / "artemis-accords-germany.md"
ORIGINAL_URL = "https://lunarledger.example.com/2023/09/15/germany-joins-artemis-accords"
COPY_URLS = (
    "https://orbit-wire.example.net/news/germany-artemis-accords",
    "https://space-digest.example.org/2023/09/18/berlin-signs-accords",
)
HEADERS = (
    "Republished from the Lunar Ledger with permission. Berlin has now joined the US-led lunar pact.",
    "Our partners at the Lunar Ledger report that Germany has finally signed NASA's Moon principles.",
)


def _front_and_body(path: Path) -> tuple[str, list[str]]:
    text = path.read_text(encoding="utf-8")
    _, front, body = text.split("---", 2)
    return front, [p for p in body.strip().split("\n\n") if p.strip()]


def _copy(url: str, header: str, day: int, canonical: str | None = None) -> str:
    """The sample article under another address and date, its first paragraph replaced."""
    front, paragraphs = _front_and_body(ORIGINAL)
    front = front.replace(ORIGINAL_URL, url).replace("2023-09-15", f"2023-09-{day}")
    if canonical:
        front += f"canonical_url: {canonical}\n"
    return "---" + front + "---\n\n" + "\n\n".join([header, *paragraphs[1:]]) + "\n"


def _article_text(body: str, article_id: str, url: str | None = None, published: str | None = None, canonical=None):
    from ingest.article_texts import ArticleText

    return ArticleText(article_id, "t", url, canonical, published, "s", body, ())


def test_a_reprint_groups_and_a_template_with_other_facts_does_not():
    from ingest.near_duplicates import find_groups

    _, paragraphs = _front_and_body(ORIGINAL)
    original = "\n\n".join(paragraphs)
    reprint = "\n\n".join([HEADERS[0], *paragraphs[1:]])
    # the same notice for another country: the names change in every paragraph (DC-8 notices in the corpus)
    template = re.sub(r"German(y|)", r"Austria\1", original).replace("Pelzer", "Kovac").replace("29th", "30th")
    articles = [
        _article_text(original, "orig", ORIGINAL_URL, "2023-09-15"),
        _article_text(reprint, "copy", COPY_URLS[0], "2023-09-16"),
        _article_text(template, "other", "https://x.example/austria", "2023-09-14"),
    ]
    assert find_groups(articles) == [["orig", "copy"]]


def test_the_page_named_canonical_represents_its_group_even_when_later():
    from ingest.near_duplicates import find_groups

    _, paragraphs = _front_and_body(ORIGINAL)
    body = "\n\n".join(paragraphs)
    articles = [
        _article_text(body, "early-copy", COPY_URLS[0], "2023-09-01", canonical=ORIGINAL_URL),
        _article_text(body, "original", ORIGINAL_URL, "2023-09-15"),
    ]
    assert find_groups(articles) == [["original", "early-copy"]]


def test_copies_under_other_urls_give_one_result_citing_the_others(sample_settings, tmp_path):
    from bot.core.service import AnswerService
    from bot.faces.terminal import format_answer
    from ingest.pipeline import run_ingest

    data_dir = tmp_path / "index"
    shutil.copytree(sample_settings.data_dir, data_dir)
    settings = make_settings(data_dir)
    copies = tmp_path / "copies"
    copies.mkdir()
    for n, (url, header) in enumerate(zip(COPY_URLS, HEADERS)):
        (copies / f"copy-{n}.md").write_text(_copy(url, header, 16 + n), encoding="utf-8")
    summary = run_ingest([str(copies)], settings)
    assert summary.new == 2 and not summary.failed

    service = AnswerService(settings)
    answer = service.answer("who signed the Artemis Accords for Germany?", mode="hybrid")
    group = {h.article_id for h in answer.hits} & {
        "artemis-accords-germany.md",
        "policy/artemis-accords-germany.md",
        "copy-0.md",
        "copy-1.md",
    }
    assert len(group) == 1, [h.article_id for h in answer.hits]  # one result for the three copies
    assert not answer.refused and "Pelzer" in answer.text
    cited = [c for c in answer.citations if c.url == ORIGINAL_URL]  # the earliest: the original
    assert cited, [(c.article_id, c.url) for c in answer.citations]
    assert sorted(cited[0].also_in) == sorted(COPY_URLS)
    assert all(c.url not in COPY_URLS for c in answer.citations)
    shown = format_answer(answer)
    assert f"also in: {', '.join(cited[0].also_in)}" in shown
    assert json.loads(json.dumps(answer.to_dict()))["citations"][0]["also_in"]


def test_damaged_groups_are_rebuilt_without_re_embedding(sample_settings, tmp_path):
    from bot.core.search_index import SearchIndex
    from ingest.keyword_side import SIDE_DB

    data_dir = tmp_path / "index"
    shutil.copytree(sample_settings.data_dir, data_dir)
    settings = make_settings(data_dir)
    side = settings.keyword_dir / SIDE_DB  # the groups live in the keyword index's side tables
    side.write_bytes(b"not a database " * 200)  # damage: unreadable

    index = SearchIndex(settings)  # rebuilt from Chroma's chunks: no embedding model is loaded for it
    assert index.keyword.groups.members("not") == ("not",)
    assert index.keyword.groups.groups == []  # the sample corpus holds no copies
    assert index.keyword.sources()  # and the rebuilt tables are whole
