"""Showing an answer while it is written: the one mechanism the faces share.

A face that wants streaming (see `bot.core.api.streams_answers`) passes a
`Stream` as `on_token`; the stream shows each piece and keeps them, so that
afterwards the face knows whether the whole answer text is on screen already.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.core.records import Answer


class Stream:
    """An `on_token` callback: `show(piece)` each piece as it arrives, and remember them."""

    def __init__(self, show: Callable[[str], object]):
        self.show = show
        self.pieces: list[str] = []

    def __call__(self, piece: str) -> None:
        self.pieces.append(piece)
        self.show(piece)

    @property
    def text(self) -> str:
        return "".join(self.pieces)

    def started(self) -> bool:
        return bool(self.pieces)

    def showed_all_of(self, answer: Answer) -> bool:
        """True when what was shown is exactly the answer's text (an LLM's answer that
        stood); False when nothing was shown or the answer given differs (a fallback)."""
        return bool(self.pieces) and self.text == answer.text
