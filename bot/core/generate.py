"""Answers written by an LLM from retrieved passages, with `[n]` markers checked.

`generate_answer` returns `None` whenever the LLM cannot be trusted with the
question (unreachable, timed out, or citing no passage): the caller then shows
the extractive answer with a note. Nothing here raises `LLMError`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.core.llm import LLMError
from bot.core.records import Passage

if TYPE_CHECKING:
    from bot.core.llm import LLMClient

log = logging.getLogger("spacebot.llm")

REFUSAL = "not in the articles"
MAX_ANSWER_TOKENS = 512
MAX_HISTORY_TURNS = 2  # earlier (question, answer) pairs sent with a question
MAX_HISTORY_ANSWER_CHARS = 600
MAX_REWRITE_CHARS = 400
REWRITE_TIMEOUT = 10.0  # seconds; a follow-up rewrite must not hold up the answer

SYSTEM_PROMPT = (
    "You answer questions about space-policy news using only the numbered passages "
    "in the user's message. Do not use anything you know from elsewhere. "
    "After each claim, put the number of the passage that supports it in square "
    "brackets, for example [1] or [2]. "
    f'If the passages do not answer the question, reply exactly "{REFUSAL}" and nothing else.'
)

REWRITE_PROMPT = (
    "Rewrite the user's follow-up question as one standalone question, using the "
    "earlier questions only to resolve what words like it, they, that or there refer to. "
    "Reply with the rewritten question only, on one line."
)

# `[3]`, `[1, 2]`, `[1;2]`, `[1-3]`: a bracket holding only passage numbers.
_MARKER = re.compile(r"\s*\[\s*(\d+(?:\s*(?:[,;]|-|–)\s*\d+)*)\s*\]")
_NUMBER_OR_RANGE = re.compile(r"(\d+)\s*(?:(?:-|–)\s*(\d+))?")
# The end of a streamed text that may still become a marker: `[`, `[1`, `[1, 2-`...
_OPEN_MARKER = re.compile(r"\[[\d\s,;\-–]*\Z")


@dataclass
class GeneratedAnswer:
    """An LLM answer: `text` with only valid `[n]` markers, the passages it `used`."""

    text: str
    used: list[int] = field(default_factory=list)
    refused: bool = False


def _passage_block(n: int, p: Passage) -> str:
    title = " ".join((p.title or "untitled").split())
    head = f"[{n}] {title} ({p.published})" if p.published else f"[{n}] {title}"
    return f"{head}\n{p.text.strip()}"


def build_messages(
    question: str,
    passages: Sequence[Passage],
    history: Sequence[tuple[str, str]] | None = None,
) -> list[dict[str, str]]:
    """Chat messages asking for an answer to `question` from the numbered `passages`.

    `history` holds earlier (question, answer) pairs, oldest first; the last few are
    sent as prior turns, with their `[n]` markers removed (those numbers pointed at
    other passages).
    """
    messages = [{"role": "system", "content": SYSTEM_PROMPT}]
    for asked, answered in list(history or [])[-MAX_HISTORY_TURNS:]:
        answered = _MARKER.sub("", answered).strip()[:MAX_HISTORY_ANSWER_CHARS]
        messages.append({"role": "user", "content": asked.strip()})
        messages.append({"role": "assistant", "content": answered or REFUSAL})
    blocks = "\n\n".join(_passage_block(n, p) for n, p in enumerate(passages, start=1))
    messages.append(
        {"role": "user", "content": f"Passages:\n\n{blocks}\n\nQuestion: {question.strip()}"}
    )
    return messages


def _numbers(group: str) -> list[int]:
    out: list[int] = []
    for m in _NUMBER_OR_RANGE.finditer(group):
        lo = int(m.group(1))
        hi = int(m.group(2)) if m.group(2) else lo
        if hi - lo > 20:  # not a citation range, e.g. "[1969-2024]"
            hi = lo
        out.extend(range(lo, hi + 1))
    return out


def check_markers(text: str, n_passages: int) -> tuple[str, list[int]]:
    """`text` without markers naming no passage, and the valid passage numbers used.

    Valid numbers are 1..`n_passages`. Groups such as `[1, 2]` or `[1-2]` are rewritten
    as `[1][2]`; a group with no valid number is removed with the space before it.
    `used` lists each valid number once, in order of first use.
    """
    used: list[int] = []

    def fix(m: re.Match) -> str:
        valid = []
        for k in _numbers(m.group(1)):
            if 1 <= k <= n_passages and k not in valid:
                valid.append(k)
        for k in valid:
            if k not in used:
                used.append(k)
        if not valid:
            return ""
        lead = m.group(0)[: len(m.group(0)) - len(m.group(0).lstrip())]
        return lead + "".join(f"[{k}]" for k in valid)

    cleaned = _MARKER.sub(fix, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned)  # "claim [9]." -> "claim."
    return cleaned.strip(), used


class CleanStream:
    """An `on_token` wrapper that passes on the streamed text with its markers checked.

    Whatever reaches `on_token` is always a prefix of `check_markers(raw, n_passages)[0]`
    for the raw text so far: trailing white space and an unfinished `[...` are held back
    until the next pieces show what they are, and markers naming no passage never
    appear. Call `finish()` at the end to pass on what was held back. `sent` is
    everything passed on so far.
    """

    def __init__(self, on_token: Callable[[str], Any], n_passages: int) -> None:
        self.on_token = on_token
        self.n_passages = n_passages
        self.raw = ""
        self.sent = ""

    def __call__(self, delta: str) -> None:
        self.raw += delta
        opened = _OPEN_MARKER.search(self.raw)
        stable = self.raw[: opened.start() if opened else len(self.raw)].rstrip()
        self._pass_on(check_markers(stable, self.n_passages)[0])

    def finish(self) -> str:
        """Pass on the rest of the checked text; return it all."""
        self._pass_on(check_markers(self.raw, self.n_passages)[0])
        return self.sent

    def _pass_on(self, cleaned: str) -> None:
        # Only ever extend what was shown. Should the checked text ever disagree with it
        # (a safeguard: holding back makes that unexpected), wait until it agrees again.
        if len(cleaned) > len(self.sent) and cleaned.startswith(self.sent):
            piece, self.sent = cleaned[len(self.sent):], cleaned
            self.on_token(piece)


def is_refusal(text: str) -> bool:
    """True when the model said the articles hold no answer."""
    plain = re.sub(r"[^a-z ]+", " ", text.lower())
    return REFUSAL in " ".join(plain.split())


def generate_answer(
    question: str,
    passages: Sequence[Passage],
    client: LLMClient,
    history: Sequence[tuple[str, str]] | None = None,
    on_token: Callable[[str], Any] | None = None,
    max_tokens: int = MAX_ANSWER_TOKENS,
) -> GeneratedAnswer | None:
    """The LLM's answer from `passages`, or None when the caller should answer extractively.

    None means: no passages, the LLM failed (logged once on "spacebot.llm"), or the
    answer cites no valid passage without being a refusal. Streamed tokens reach
    `on_token` raw; show `GeneratedAnswer.text` once done, as it has markers checked.
    """
    if not passages:
        return None
    messages = build_messages(question, passages, history)
    try:
        raw = client.chat(messages, max_tokens=max_tokens, on_token=on_token)
    except LLMError as exc:
        log.warning("LLM unavailable, using the extractive answer: %s", exc)
        return None
    text, used = check_markers(raw, len(passages))
    if used:
        return GeneratedAnswer(text=text, used=used, refused=False)
    if is_refusal(text):
        return GeneratedAnswer(text=REFUSAL, used=[], refused=True)
    log.warning("LLM answer cites no passage, using the extractive answer")
    return None


def _clean_rewrite(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = lines[0] if lines else ""
    line = re.sub(r"^(standalone|rewritten)?\s*question\s*:\s*", "", line, flags=re.I)
    return line.strip().strip("\"'`“”").strip()


def rewrite_followup(question: str, history: Sequence[str], client: LLMClient) -> str | None:
    """`question` rewritten as a standalone question from the earlier user turns `history`.

    Returns None (use the question as asked) when there is no history, on any failure
    or timeout, or when the rewrite is implausible (empty or over 400 characters).
    Never raises.
    """
    earlier = [h.strip() for h in history if h and h.strip()][-3:]
    if not earlier or not question.strip():
        return None
    listed = "\n".join(f"- {h}" for h in earlier)
    messages = [
        {"role": "system", "content": REWRITE_PROMPT},
        {
            "role": "user",
            "content": f"Earlier questions:\n{listed}\n\nFollow-up: {question.strip()}\n\n"
            "Standalone question:",
        },
    ]
    try:
        timeout = min(REWRITE_TIMEOUT, getattr(client, "timeout", REWRITE_TIMEOUT))
        rewritten = _clean_rewrite(client.chat(messages, max_tokens=96, timeout=timeout))
    except Exception as exc:  # noqa: BLE001 - a failed rewrite only costs recall
        log.warning("follow-up rewrite failed, using the question as asked: %s", exc)
        return None
    if not rewritten or len(rewritten) > MAX_REWRITE_CHARS:
        return None
    return rewritten


class StreamThrottle:
    """An `on_token` callback that calls `update(text_so_far)` at most once per `interval`.

    The first piece is shown at once; later ones wait until `interval` seconds have
    passed since the last update. Call `finish()` at the end to show the last text,
    or `finish(final)` to replace it (e.g. with the marker-checked answer).
    """

    def __init__(
        self,
        update: Callable[[str], Any],
        interval: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.update = update
        self.interval = interval
        self.clock = clock
        self.text = ""
        self._shown: str | None = None
        self._last = float("-inf")

    def __call__(self, delta: str) -> None:
        self.text += delta
        now = self.clock()
        if now - self._last >= self.interval:
            self._show(self.text, now)

    def finish(self, final: str | None = None) -> str:
        """Flush: show `final` (or the text so far) unless it is already shown; return it."""
        text = self.text if final is None else final
        if text != self._shown:
            self._show(text, self.clock())
        return text

    def _show(self, text: str, now: float) -> None:
        self._last = now
        self._shown = text
        self.update(text)
