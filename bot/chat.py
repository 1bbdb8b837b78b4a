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


def run_chat(service, filters, conversation: str | None = None, out=print) -> None:
    """Read questions until EOF; each is answered with the conversation's earlier turns."""
    from bot.service import QuestionError
    from bot.terminal import format_answer
    from ingest.store import StoreUnavailable

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
        try:
            answer = service.ask(command, conversation_id=conversation, filters=filters)
        except QuestionError as exc:
            out(f"error: {exc}")
            continue
        except StoreUnavailable as exc:
            out(f"error: {exc}")
            continue
        out(format_answer(answer) + "\n")
