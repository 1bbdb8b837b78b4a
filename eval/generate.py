"""`spacebot eval generate`: draft candidate questions for a new corpus, for a person to review."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

PROMPT = (
    "Write one short question that a reader could answer from this passage alone, and its answer "
    "in at most six words copied from the passage. Reply on one line as: question || answer"
)


def generate_questions(service, count: int, out: Path | None, seed: int = 7) -> int:
    """Write `count` draft questions (JSON Lines, the eval format) to `out` or stdout.

    Needs an LLM (`SPACEBOT_LLM_BASE_URL`); raises ValueError saying so without one.
    """
    if service.llm is None:
        raise ValueError(
            "`spacebot eval generate` needs an LLM to write questions: set "
            "SPACEBOT_LLM_BASE_URL (and SPACEBOT_LLM_MODEL) to any OpenAI-compatible server"
        )
    from bot.core.llm import LLMError

    table = service.index.keyword.table
    rows = [i for i, index in enumerate(table.columns["chunk_index"]) if index == 0]
    random.Random(seed).shuffle(rows)
    handle = open(out, "w", encoding="utf-8") if out else sys.stdout
    written = 0
    try:
        for row in rows:
            if written >= count:
                break
            record = table.row(row)
            messages = [
                {"role": "system", "content": PROMPT},
                {"role": "user", "content": f"{record['title']}\n\n{record['text']}"},
            ]
            try:
                reply = service.llm.chat(messages, max_tokens=96)
            except LLMError as exc:
                print(f"warning: {record['article_id']}: {exc}", file=sys.stderr)
                continue
            question, _, answer = reply.strip().splitlines()[0].partition("||") if reply.strip() else ("", "", "")
            if not question.strip():
                continue
            written += 1
            line = {
                "id": f"gen-{written:03d}",
                "kind": "lookup",
                "question": question.strip(),
                "history": [],
                "relevant": [record["path"] or record["article_id"]],
                "answer": answer.strip() or None,
                "review": "draft: check before use",
            }
            handle.write(json.dumps(line, ensure_ascii=False) + "\n")
    finally:
        if out:
            handle.close()
    return written
