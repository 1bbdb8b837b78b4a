"""The prompt an LLM answers from: rules, one worked example, numbered passages, a token budget.

Everything the model reads is in this file, each line with the reason it is there.
The rules were rewritten for small local models (0.5-3B parameters): with the
earlier prompt, Qwen2.5-Coder-1.5B answered every question with a bare `[1]` or
the refusal phrase (issue 15); shown one worked example of the expected form it
wrote real cited sentences.

The passages sent are the first ones that fit the model's context window
(`SPACEBOT_LLM_CONTEXT`) beside the rules, the example, the conversation, the
question and the answer's own tokens. A passage that does not fit is left out
whole, never cut: a cut passage can lose the very sentence it was retrieved for.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

from bot.core.records import Passage

REFUSAL = "not in the articles"  # is_refusal() looks for this phrase in a reply
MAX_ANSWER_TOKENS = 512  # the answer's own share of the context, unless the caller says less
DEFAULT_CONTEXT = 4096  # tokens; the default of SPACEBOT_LLM_CONTEXT (ingest/settings.py)
MAX_HISTORY_TURNS = 2  # earlier (question, answer) pairs sent with a question
MAX_HISTORY_ANSWER_CHARS = 600  # an earlier answer is context, not evidence: keep it short

# Token counts are estimated, since the server's tokenizer is not at hand. Measured: the
# Qwen2.5 tokenizer (llama.cpp /tokenize) gives 4.54 characters per token over 15 random
# corpus articles (37,009 characters); 3 leaves room for tokenizers that split names and
# numbers finer, so the estimate errs on the long side (about 50% for Qwen).
CHARS_PER_TOKEN = 3.0
# Chat templates wrap each message in role markers: about 4 tokens in ChatML (Qwen,
# SmolLM2), 5 in Llama 3's; 8 covers either.
TOKENS_PER_MESSAGE = 8
# Kept free besides the answer: the template's own start and end, the estimate's error.
SAFETY_TOKENS = 64

SYSTEM_LINES = (
    # Who answers, from what: small models otherwise answer from what they were trained on.
    "You answer questions about space-policy news using only the numbered passages in the user's message.",
    # Answer first: small models otherwise restate the question or describe the passages.
    "Start with the answer itself: the name, number, date or place the question asks for.",
    # Full sentences with a marker at the end of each: the 1.5B model wrote bare markers
    # ("[1]") until told and shown that a marker follows a sentence stating the fact.
    (
        "Write one to three full sentences. End each sentence with the number of the passage "
        "that states it, in square brackets, for example [1] or [2]."
    ),
    # Grounding: a sentence the passages do not state loses its marker (generate.py).
    "Use only facts the passages state. Do not add anything else.",
    # One fixed phrase for a refusal, so it can be recognised whatever else is written.
    f'If the passages do not answer the question, reply exactly "{REFUSAL}" and nothing else.',
)
SYSTEM_PROMPT = "\n".join(SYSTEM_LINES)

# One worked example, sent as an earlier turn: small models copy the form of a turn they
# see more faithfully than a description of it. Written for this project (a made-up
# operator, not a question from the evaluation sets). The fact is in passage [2], with a
# distractor in [1], so that the model learns to pick the passage rather than always "[1]".
EXAMPLE_PASSAGES = (
    Passage(
        chunk_id="example::0",
        article_id="example-1",
        title="Space agency opens a second mission control room",
        text="The agency opened a second mission control room on Monday. About 120 engineers will "
        "work there in shifts, following satellites in low Earth orbit.",
        source="example",
        published="2025-02-10",
    ),
    Passage(
        chunk_id="example::1",
        article_id="example-2",
        title="Regulator fines satellite operator over debris",
        text="The Federal Communications Commission fined Orbital Freight Ltd $90,000 on Tuesday for "
        "leaving a retired satellite in a crowded orbit instead of moving it to a disposal orbit.",
        source="example",
        published="2025-04-08",
    ),
)
EXAMPLE_QUESTION = "how much was orbital freight fined, and why?"
EXAMPLE_ANSWER = (
    "The Federal Communications Commission fined Orbital Freight Ltd $90,000 for leaving a retired "
    "satellite in a crowded orbit [2]."
)

# `[3]`, `[1, 2]`, `[1;2]`, `[1-3]`: a bracket holding only passage numbers.
MARKER = re.compile(r"\s*\[\s*(\d+(?:\s*(?:[,;]|-|–)\s*\d+)*)\s*\]")


def estimate_tokens(text: str) -> int:
    """A generous estimate of `text`'s length in tokens (see CHARS_PER_TOKEN)."""
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def passage_block(n: int, p: Passage) -> str:
    """Passage `n` as the model reads it: `[n] title (date)`, then its text."""
    title = " ".join((p.title or "untitled").split())
    head = f"[{n}] {title} ({p.published})" if p.published else f"[{n}] {title}"
    return f"{head}\n{p.text.strip()}"


def user_message(question: str, passages: Sequence[Passage]) -> str:
    """The message that asks: the numbered passages, then the question."""
    blocks = "\n\n".join(passage_block(n, p) for n, p in enumerate(passages, start=1))
    return f"Passages:\n\n{blocks}\n\nQuestion: {question.strip()}"


def _frame(question: str, history: Sequence[tuple[str, str]] | None) -> list[dict[str, str]]:
    """The messages before the question: rules, the worked example, the conversation so far."""
    messages = [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": user_message(EXAMPLE_QUESTION, EXAMPLE_PASSAGES)},
        {"role": "assistant", "content": EXAMPLE_ANSWER},
    ]
    for asked, answered in list(history or [])[-MAX_HISTORY_TURNS:]:
        # the earlier answer's markers pointed at other passages: removed
        answered = MARKER.sub("", answered).strip()[:MAX_HISTORY_ANSWER_CHARS]
        messages.append({"role": "user", "content": asked.strip()})
        messages.append({"role": "assistant", "content": answered or REFUSAL})
    return messages


def fitting_passages(
    question: str,
    passages: Sequence[Passage],
    history: Sequence[tuple[str, str]] | None = None,
    context_tokens: int = DEFAULT_CONTEXT,
    max_tokens: int = MAX_ANSWER_TOKENS,
) -> list[Passage]:
    """The first passages, in order, whose prompt leaves `max_tokens` free in `context_tokens`.

    Whole passages only; may be empty when not even the first one fits.
    """
    frame = _frame(question, history)
    used = sum(estimate_tokens(m["content"]) + TOKENS_PER_MESSAGE for m in frame)
    used += estimate_tokens(user_message(question, [])) + TOKENS_PER_MESSAGE
    budget = context_tokens - max_tokens - SAFETY_TOKENS - used
    out: list[Passage] = []
    for n, p in enumerate(passages, start=1):
        cost = estimate_tokens(passage_block(n, p) + "\n\n")
        if cost > budget:
            break
        budget -= cost
        out.append(p)
    return out


def build_messages(
    question: str,
    passages: Sequence[Passage],
    history: Sequence[tuple[str, str]] | None = None,
    context_tokens: int = DEFAULT_CONTEXT,
    max_tokens: int = MAX_ANSWER_TOKENS,
) -> list[dict[str, str]]:
    """Chat messages asking for an answer to `question` from the numbered `passages`.

    The rules, the worked example, the last `MAX_HISTORY_TURNS` of `history` (earlier
    (question, answer) pairs, oldest first) as prior turns, then the passages that fit
    (see `fitting_passages`) and the question.
    """
    sent = fitting_passages(question, passages, history, context_tokens, max_tokens)
    return _frame(question, history) + [{"role": "user", "content": user_message(question, sent)}]
