"""Answers written by an LLM from retrieved passages, with `[n]` markers checked.

`generate_answer` returns `None` whenever the LLM cannot be trusted with the
question (unreachable, timed out, a reply that states nothing, or no sentence
whose cited passage supports it): the caller then shows the extractive answer
with a note. Nothing here raises `LLMError`. The prompt itself is in `prompt.py`.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.core.llm import LLMError
from bot.core.prompt import (  # noqa: F401 (build_messages and the constants are re-exported)
    DEFAULT_CONTEXT,
    MARKER,
    MAX_ANSWER_TOKENS,
    MAX_HISTORY_ANSWER_CHARS,
    MAX_HISTORY_TURNS,
    REFUSAL,
    SYSTEM_PROMPT,
    build_messages,
    fitting_passages,
)
from bot.core.records import Passage
from bot.core.terms import STOP_WORDS

if TYPE_CHECKING:
    from bot.core.llm import LLMClient

log = logging.getLogger("spacebot.llm")

MAX_REWRITE_CHARS = 400
REWRITE_TIMEOUT = 10.0  # seconds; a follow-up rewrite must not hold up the answer

REWRITE_PROMPT = (
    "Rewrite the user's follow-up question as one standalone question, using the "
    "earlier questions only to resolve what words like it, they, that or there refer to. "
    "Reply with the rewritten question only, on one line."
)

_MARKER = MARKER
_NUMBER_OR_RANGE = re.compile(r"(\d+)\s*(?:(?:-|–)\s*(\d+))?")
# The end of a streamed text that may still become a marker: `[`, `[1`, `[1, 2-`...
_OPEN_MARKER = re.compile(r"\[[\d\s,;\-–]*\Z")


@dataclass
class GeneratedAnswer:
    """An LLM answer: `text` with only valid `[n]` markers, the passages it `used`."""

    text: str
    used: list[int] = field(default_factory=list)
    refused: bool = False


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


# --- is the reply about the passages? ----------------------------------------------

# Words a reply may use about itself or the passages, which state no fact.
REPLY_FILLER = frozenset(
    {
        "passage",
        "passages",
        "article",
        "articles",
        "text",
        "source",
        "sources",
        "answer",
        "question",
        "according",
        "states",
        "stated",
        "mentioned",
        "mention",
        "provided",
        "given",
        "based",
        "information",
    }
)
STEM = 6  # characters compared: "signatory"/"signatories", "station"/"stations" agree
_WORDS = re.compile(r"\d[\d,.]*\d|\w+")
_DATE_IN_PARENS = re.compile(r"\(\s*\d{4}-\d{2}-\d{2}\s*\)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def _word_list(text: str) -> list[str]:
    """Lower-case words and numbers of `text` without its markers; "1,000" -> "1000"."""
    text = _MARKER.sub(" ", text.lower())
    return [w.replace(",", "").rstrip(".") for w in _WORDS.findall(text)]


def content_words(text: str) -> set[str]:
    """The words of `text` that can carry a fact (names, numbers, rare terms), stemmed.

    Stop words, reply filler ("passage", "according") and one-letter words are left
    out; a number is kept whatever its length.
    """
    out = set()
    for w in _word_list(text):
        if w.isdigit() or (len(w) > 1 and w not in STOP_WORDS and w not in REPLY_FILLER):
            out.add(w if w.isdigit() else w[:STEM])
    return out


def _plain(text: str) -> str:
    """`text` as bare words, for comparing a reply with a title."""
    return " ".join(_word_list(_DATE_IN_PARENS.sub(" ", text)))


def reply_problem(text: str, question: str, passages: Sequence[Passage]) -> str | None:
    """Why `text` (a reply, markers checked) is no answer, or None when it may be one.

    "empty": nothing but markers and punctuation; "question words only": no content
    word beyond the question's own; "repeats a title": it only repeats a passage title.
    """
    if not re.search(r"\w", _MARKER.sub("", text)):
        return "empty"
    if not content_words(text) - content_words(question):
        return "question words only"
    plain = _plain(text)
    for p in passages:
        title = _plain(p.title or "")
        if title and (plain == title or (len(plain.split()) >= 3 and f" {plain} " in f" {title} ")):
            return "repeats a title"
    return None


def _claim_before(text: str, end: int) -> str:
    """The sentence a marker at `end` closes: from the last sentence break before it."""
    before = _MARKER.sub(" ", text[:end]).rstrip()
    body = before.rstrip(".!?")  # "claim. [1]": the marker follows its sentence's full stop
    parts = [part for part in _SENTENCE_END.split(body) if part.strip()]
    return parts[-1] if parts else ""


def supported(claim: str, passage: Passage, question: str) -> bool:
    """True when `passage` shares a content word with `claim` that says something.

    The words the claim adds to the question are what it asserts, so when it has
    any, the passage must share one of them; a claim made only of the question's
    words needs the passage to share any one of its content words.
    """
    words = content_words(claim)
    new = words - content_words(question)
    return bool((new or words) & content_words(f"{passage.title or ''} {passage.text}"))


def drop_unsupported(text: str, question: str, passages: Sequence[Passage]) -> tuple[str, list[int]]:
    """`text` (markers checked) without the markers whose passage shares no content word
    with the sentence they close, and the passage numbers still used, in order.

    A marker's fate depends only on the text before it, so a streamed prefix is
    checked the same way as the whole reply.
    """
    used: list[int] = []

    def keep(m: re.Match) -> str:
        n = int(m.group(1))
        claim = _claim_before(m.string, m.start())
        if 1 <= n <= len(passages) and supported(claim, passages[n - 1], question):
            if n not in used:
                used.append(n)
            return m.group(0)
        log.info("dropped marker [%d]: the passage shares no content word with %r", n, claim[-80:])
        return ""

    cleaned = _MARKER.sub(keep, text)
    cleaned = re.sub(r"[ \t]+([.,;:!?])", r"\1", cleaned)
    return cleaned.strip(), used


def checked_reply(raw: str, question: str, passages: Sequence[Passage]) -> tuple[str, list[int]]:
    """`raw` with markers naming no passage removed, then those no passage supports."""
    text, _ = check_markers(raw, len(passages))
    return drop_unsupported(text, question, passages)


class CleanStream:
    """An `on_token` wrapper that passes on the streamed text with its markers checked.

    Whatever reaches `on_token` is always a prefix of `check_markers(raw, n_passages)[0]`
    for the raw text so far: trailing white space and an unfinished `[...` are held back
    until the next pieces show what they are, and markers naming no passage never
    appear. Call `finish()` at the end to pass on what was held back. `sent` is
    everything passed on so far.

    Once `bind(question, passages)` has told it what the model reads (`generate_answer`
    does), it checks as `checked_reply` does: markers whose passage does not support
    their sentence never appear either, and `n_passages` becomes `len(passages)`.
    """

    def __init__(self, on_token: Callable[[str], Any], n_passages: int) -> None:
        self.on_token = on_token
        self.n_passages = n_passages
        self.question: str | None = None
        self.passages: Sequence[Passage] | None = None
        self.raw = ""
        self.sent = ""

    def bind(self, question: str, passages: Sequence[Passage]) -> None:
        """Check markers against these passages (those actually sent) from now on."""
        self.question, self.passages, self.n_passages = question, list(passages), len(passages)

    def _check(self, text: str) -> str:
        if self.passages is None:
            return check_markers(text, self.n_passages)[0]
        return checked_reply(text, self.question or "", self.passages)[0]

    def __call__(self, delta: str) -> None:
        self.raw += delta
        opened = _OPEN_MARKER.search(self.raw)
        stable = self.raw[: opened.start() if opened else len(self.raw)].rstrip()
        self._pass_on(self._check(stable))

    def finish(self) -> str:
        """Pass on the rest of the checked text; return it all."""
        self._pass_on(self._check(self.raw))
        return self.sent

    def _pass_on(self, cleaned: str) -> None:
        # Only ever extend what was shown. Should the checked text ever disagree with it
        # (a safeguard: holding back makes that unexpected), wait until it agrees again.
        if len(cleaned) > len(self.sent) and cleaned.startswith(self.sent):
            piece, self.sent = cleaned[len(self.sent) :], cleaned
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
    context_tokens: int | None = None,
) -> GeneratedAnswer | None:
    """The LLM's answer from `passages`, or None when the caller should answer extractively.

    The model reads the first passages that fit `context_tokens` (default: the
    client's `context_tokens`, from SPACEBOT_LLM_CONTEXT) with `max_tokens` left for
    the answer; its markers are numbered over those. Markers naming no passage, and
    markers whose passage shares no content word with their sentence, are removed.

    None means: no passages (or none fit), the LLM failed, or the reply is no answer:
    empty, only markers or the question's own words, a passage title repeated, or no
    sentence left with a supported marker (each logged once on "spacebot.llm" as
    "LLM reply unusable (<reason>)"). Streamed tokens reach `on_token` as they come;
    a `CleanStream` is first bound to the question and the passages sent, so what it
    passes on is checked the same way. Show `GeneratedAnswer.text` once done.
    """
    if context_tokens is None:
        context_tokens = int(getattr(client, "context_tokens", None) or DEFAULT_CONTEXT)
    sent = fitting_passages(question, passages, history, context_tokens, max_tokens)
    if not sent:
        if passages:
            log.warning("LLM reply unusable (%s), using the extractive answer", "no passage fits the context")
        return None
    messages = build_messages(question, sent, history, context_tokens, max_tokens)
    if isinstance(on_token, CleanStream):
        on_token.bind(question, sent)
    try:
        raw = client.chat(messages, max_tokens=max_tokens, on_token=on_token)
    except LLMError as exc:
        log.warning("LLM unavailable, using the extractive answer: %s", exc)
        return None
    text, used = checked_reply(raw, question, sent)
    if not used and is_refusal(text):
        return GeneratedAnswer(text=REFUSAL, used=[], refused=True)
    problem = reply_problem(text, question, sent)
    if problem is None and not used:
        problem = "no supported marker"
    if problem is not None:
        log.warning("LLM reply unusable (%s), using the extractive answer", problem)
        return None
    return GeneratedAnswer(text=text, used=used, refused=False)


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
            "content": f"Earlier questions:\n{listed}\n\nFollow-up: {question.strip()}\n\nStandalone question:",
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
