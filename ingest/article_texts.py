"""Whole articles put back together from the chunk table: what the article-level
keyword index and the near-duplicate grouping read (Chroma stores chunks only)."""

from __future__ import annotations

from dataclasses import dataclass

# A chunk repeats the end of the one before it (the splitter's overlap, 24 wordpieces): a
# shared stretch at least this long is taken for that overlap and kept once.
MIN_OVERLAP_CHARS = 20
MAX_OVERLAP_CHARS = 2_000  # 24 wordpieces is ~150 characters; this bounds the search generously


@dataclass(frozen=True)
class ArticleText:
    """One article as the chunk table holds it: identity, where it was published, its whole text."""

    article_id: str
    title: str
    url: str | None
    canonical_url: str | None
    published: str | None
    source: str
    text: str
    rows: tuple[int, ...]  # its chunk table rows, in order


def join_chunks(texts: list[str]) -> str:
    """The chunks of one article as one text, each overlap between neighbours kept once."""
    if not texts:
        return ""
    out = texts[0]
    for text in texts[1:]:
        cut = _overlap(out, text)
        out += text[cut:] if cut else "\n" + text
    return out


def _overlap(before: str, after: str) -> int:
    """Length of the longest prefix of `after` that ends `before` (0 if under `MIN_OVERLAP_CHARS`)."""
    head = after[:MIN_OVERLAP_CHARS]
    if len(head) < MIN_OVERLAP_CHARS:
        return 0
    start = max(0, len(before) - MAX_OVERLAP_CHARS)
    best = 0
    at = before.find(head, start)
    while at >= 0:
        size = len(before) - at
        if after.startswith(before[at:]):
            best = max(best, size)
            break  # the first (leftmost) match is the longest
        at = before.find(head, at + 1)
    return best


def article_texts(columns: dict[str, list]) -> list[ArticleText]:
    """Every article of a chunk table (columns as `ChunkRecord.table_row` fields), in table order."""
    order: dict[str, list[int]] = {}
    for row, article_id in enumerate(columns["article_id"]):
        order.setdefault(article_id, []).append(row)
    out = []
    canonical = columns.get("canonical_url") or [None] * len(columns["id"])
    for article_id, rows in order.items():
        rows.sort(key=lambda r: columns["chunk_index"][r])
        first = rows[0]
        out.append(
            ArticleText(
                article_id=article_id,
                title=columns["title"][first],
                url=columns["url"][first],
                canonical_url=canonical[first],
                published=columns["published"][first],
                source=columns["source"][first],
                text=join_chunks([columns["text"][r] for r in rows]),
                rows=tuple(rows),
            )
        )
    return out
