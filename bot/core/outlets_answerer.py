"""The outlets answerer: who says what, one entry per independent outlet.

Relevant sentences are grouped by outlet (`shape_evidence.outlet_of`: the publisher stored at
ingest, else the site in the URL, else the source); each outlet gets its most relevant sentence,
its date and one citation. Syndicated copies (near-duplicate groups, found at ingest) are already
one hit with `also_in`: they are named in that outlet's "also in" and never counted. The answer
opens with how many independent outlets it draws on.
"""

from __future__ import annotations

from bot.core.shape_evidence import Relevant, copy_outlet, outlet_of
from bot.core.shape_records import OutletEntry, Shaped
from bot.core.shapes import ShapeRead
from bot.core.stages import AnswerRequest, Claim, Draft

MAX_OUTLETS = 8  # entries at most, the most relevant outlets first


class OutletsAnswerer:
    """Answers an `outlets` question (see module docstring)."""

    def __init__(self, index, setting: str | None = None):
        self.index = index
        self.setting = setting
        self._publishers: dict[str, str] | None = None  # copy address -> publisher, read once from the index

    def _publisher_at(self, address: str) -> str | None:
        """The stored publisher of the copy at `address` (its URL or id), if the index has one."""
        if self._publishers is None:
            columns = self.index.keyword.table.columns
            publishers = columns.get("publisher") or [None] * len(columns["id"])
            self._publishers = {}
            for article_id, url, publisher in zip(columns["article_id"], columns["url"], publishers):
                if publisher:
                    self._publishers.setdefault(url or article_id, publisher)
                    self._publishers.setdefault(article_id, publisher)
        return self._publishers.get(address)

    def draft(self, request: AnswerRequest, shape: ShapeRead, relevant: list[Relevant]) -> Draft | None:
        best: dict[str, Relevant] = {}
        copies: dict[str, list[str]] = {}
        for r in relevant:  # best first: an outlet's first sentence is its most relevant
            outlet = outlet_of(r.passage)
            best.setdefault(outlet, r)
            for address in r.hit.also_in:
                name = self._publisher_at(address) or copy_outlet(address)
                if name != outlet and name not in copies.setdefault(outlet, []):
                    copies[outlet].append(name)
        if not best:
            return None
        entries: list[OutletEntry] = []
        claims: list[Claim] = []
        for n, (outlet, r) in enumerate(list(best.items())[:MAX_OUTLETS], start=1):
            claims.append(Claim(r.passage, r.sentence, r.score, n=n))
            entries.append(OutletEntry(outlet, r.sentence, n, r.hit.published, r.passage.title, copies.get(outlet, [])))
        count = len(entries)
        heading = f"{count} independent outlet{'s' if count != 1 else ''}"
        lines = [f"**{heading}**:"]
        for e in entries:
            also = f" (also in: {', '.join(e.also_in)})" if e.also_in else ""
            lines.append(f"- **{e.outlet}** ({e.date or 'undated'}): {e.quote} [{e.citation}]{also}")
        return Draft(claims=claims, text="\n".join(lines), shaped=Shaped("outlets", outlets=entries, heading=heading))
