"""An answer as server-sent events: `token` events while it is written, then one `answer` event.

The answering core is synchronous and calls `on_token(piece)` from its own
thread; the pieces cross to the event loop through a queue, so each is sent
as soon as it is written. Event data is JSON: `{"text": piece}` for a token,
the `ask --json` object plus `conversation_id` for the answer, and
`{"error": message, "status": code}` if answering fails midway.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable


async def answer_events(
    run: Callable[[Callable[[str], None]], dict], describe_error: Callable[[BaseException], tuple[int, str]]
) -> AsyncIterator[dict]:
    """Run `run(on_token)` in a worker thread and yield its pieces and its result as SSE events.

    `run` returns the final payload; `describe_error(exc)` gives `(status, message)`
    for an exception it raised (the message is shown to the client, so no traceback).
    """
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, object]] = asyncio.Queue()

    def on_token(piece: str) -> None:
        loop.call_soon_threadsafe(queue.put_nowait, ("token", piece))

    def work() -> None:
        try:
            result: tuple[str, object] = ("answer", run(on_token))
        except Exception as exc:  # noqa: BLE001 (reported to the client as an `error` event)
            result = ("error", exc)
        loop.call_soon_threadsafe(queue.put_nowait, result)

    # Its own thread, not the loop's small default executor; a client that leaves early
    # does not stop it, so the answer is still finished and stored in the conversation.
    threading.Thread(target=work, name="spacebot-api-stream", daemon=True).start()
    while True:
        kind, value = await queue.get()
        if kind == "token":
            yield {"event": "token", "data": json.dumps({"text": value}, ensure_ascii=False)}
        elif kind == "answer":
            yield {"event": "answer", "data": json.dumps(value, ensure_ascii=False)}
            return
        else:
            status, message = describe_error(value)
            yield {"event": "error", "data": json.dumps({"error": message, "status": status})}
            return
