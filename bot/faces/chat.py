"""`spacebot chat`: an interactive session over one stored conversation."""

from __future__ import annotations

import sys
import uuid

HELP = "Ask about space policy. /new starts a new conversation, /quit (or Ctrl-D) leaves."


def _reader():
    """Lines typed by the user: prompt_toolkit on a terminal, plain stdin otherwise (pipes, tests)."""
    if sys.stdin.isatty():
        from prompt_toolkit import PromptSession

        session = PromptSession()
        while True:
            try:
                yield session.prompt("you> ")
            except KeyboardInterrupt:
                continue
            except EOFError:
                return
    else:
        for line in sys.stdin:
            yield line.rstrip("\n")


def _stdout_write(piece: str) -> None:
    sys.stdout.write(piece)
    sys.stdout.flush()


def run_chat(service, filters, conversation: str | None = None, out=print, write=None) -> None:
    """Read questions until EOF; each is answered with the conversation's earlier turns.

    `out(text)` prints a block of text; with an LLM, `write(piece)` shows the answer
    as it is written (default: straight to stdout when `out` is `print`).
    """
    from bot.core.api import QuestionError, streams_answers
    from bot.faces.streaming import Stream
    from bot.faces.terminal import format_answer
    from ingest.store import StoreUnavailable

    if write is None and out is print:
        write = _stdout_write
    streaming = write is not None and streams_answers(service)
    conversation = conversation or f"cli:{uuid.uuid4().hex[:12]}"
    out(f"{HELP}\n(conversation {conversation})")
    for line in _reader():
        command = line.strip()
        if command in ("/quit", "/exit"):
            break
        if command == "/new":
            conversation = f"cli:{uuid.uuid4().hex[:12]}"
            out(f"(new conversation {conversation})")
            continue
        if not command:
            continue
        stream = Stream(write) if streaming else None
        try:
            answer = service.ask(command, conversation_id=conversation, filters=filters, on_token=stream)
        except (QuestionError, StoreUnavailable) as exc:
            out(f"error: {exc}")
            continue
        shown = format_answer(answer)
        if stream is not None and stream.showed_all_of(answer):
            shown = shown[len(answer.text) :].lstrip("\n")  # the text is on screen already
            write("\n\n" if shown else "\n")
        elif stream is not None and stream.started():  # the LLM's words were dropped (see the note)
            write("\n\n")
        out(shown + "\n")
