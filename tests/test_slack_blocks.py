"""Block Kit rendering and escaping (no network)."""

from __future__ import annotations

import json

from bot.core.records import Answer, ArticleHit, Citation
from bot.faces.slack.blocks import (
    FEEDBACK_BLOCK_ID,
    REFUSAL_HEADER,
    SECTION_LIMIT,
    answer_blocks,
    escape_mrkdwn,
    link,
    link_label,
    mention,
    render_answer,
    safe_url,
    with_feedback_recorded,
)


def cite(n=1, **kw):
    base = dict(
        n=n,
        article_id=f"a{n}",
        title=f"Title {n}",
        source="NASA",
        url=f"https://nasa.gov/{n}",
        published="2024-01-26",
        quote="A quote.",
        score=0.5,
    )
    base.update(kw)
    return Citation(**base)


def test_escape_mrkdwn_escapes_ampersand_first():
    assert escape_mrkdwn("a & b <!channel> <@U1> > c") == "a &amp; b &lt;!channel&gt; &lt;@U1&gt; &gt; c"
    assert escape_mrkdwn("&lt;") == "&amp;lt;"
    assert escape_mrkdwn(None) == ""


def test_link_labels_and_urls():
    assert link_label("a|b>c <d>") == "abc &lt;d"
    assert safe_url("javascript:alert(1)") is None
    assert safe_url("ftp://example.org/x") is None
    assert safe_url("https://") is None
    assert safe_url("https://example.org/a b|c>d?x=1&y=2") == "https://example.org/a%20b%7Cc%3Ed?x=1&amp;y=2"
    assert link("https://nasa.gov/x", "Moon | Mars") == "<https://nasa.gov/x|Moon  Mars>"
    assert link(None, "A <b> | c") == "A &lt;b&gt; | c"


def test_answer_blocks_layout():
    answer = Answer(
        "q",
        "Artemis II flies in 2026 [1].",
        False,
        citations=[cite(1), cite(2, url=None)],
        note="LLM unavailable; extractive answer shown",
    )
    blocks = answer_blocks(answer, "k123")
    assert [b["type"] for b in blocks] == ["section", "context", "context", "actions"]
    assert blocks[0]["text"]["text"] == "Artemis II flies in 2026 [1]."
    sources = blocks[1]["elements"][0]["text"]
    assert "[1] <https://nasa.gov/1|Title 1> — NASA, 2024-01-26" in sources
    assert "[2] Title 2 — NASA, 2024-01-26" in sources
    assert "> _A quote._" in sources
    assert "LLM unavailable" in blocks[2]["elements"][0]["text"]
    assert blocks[3]["block_id"] == FEEDBACK_BLOCK_ID
    assert {e["value"] for e in blocks[3]["elements"]} == {"k123"}
    assert "actions" not in [b["type"] for b in answer_blocks(answer)]  # no key, no buttons


def test_refusal_blocks_and_fallback_text():
    answer = Answer("q", "", True, closest=[ArticleHit("a", "Close <one>", "ESA", None, None, None, 0.1)])
    msg = render_answer(answer, "k")
    assert msg["blocks"][0]["text"]["text"] == REFUSAL_HEADER
    assert "*Closest articles:*\n• Close &lt;one&gt; — ESA, undated" == msg["blocks"][1]["elements"][0]["text"]
    assert "don't answer" in msg["text"] and "&lt;one&gt;" in msg["text"]


def test_long_text_is_clipped_within_limits_without_breaking_entities():
    answer = Answer("q", "&" * 5000, False, citations=[cite(i, title="T" * 140) for i in range(1, 60)])
    blocks = answer_blocks(answer, "k")
    text = blocks[0]["text"]["text"]
    assert len(text) <= SECTION_LIMIT and text.endswith("&amp;…")
    sources = blocks[1]["elements"][0]["text"]
    assert len(sources) <= SECTION_LIMIT and "more" in sources.splitlines()[-1]
    assert sources.count("<https://") == sources.count("|T")  # no link cut in half
    assert len(render_answer(answer)["text"]) <= 3000


def test_feedback_recorded_replaces_the_buttons():
    blocks = answer_blocks(Answer("q", "x [1]", False, citations=[cite()]), "k")
    done = with_feedback_recorded(blocks, -1, "U0VOTER1")
    assert [b["type"] for b in done] == ["section", "context", "context"]
    assert done[-1]["elements"][0]["text"] == "Thanks — recorded 👎 from <@U0VOTER1>"
    assert "&lt;!channel&gt;" in json.dumps(with_feedback_recorded([], 1, "<!channel>"))
    assert mention("not a user") == "not a user"
