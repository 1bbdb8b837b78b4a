"""Load an evaluation question set (JSONL) into `Question` records, warning on bad lines."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path


@dataclass
class Question:
    """One evaluation question.

    `relevant` lists the ids of the articles that contain the answer (empty when
    the question is unanswerable); `answer` is a short string a correct answer
    must contain, or None; `history` holds earlier user turns, oldest first.
    `as_of` is "now" for this question (an ISO date in the file): articles
    published after it do not count, and "who is ... now?" means as of then;
    None: the clock's today.
    """

    id: str
    kind: str
    question: str
    history: list[str] = field(default_factory=list)
    relevant: list[str] = field(default_factory=list)
    answer: str | None = None
    as_of: date | None = None
    items: list[str] = field(default_factory=list)  # a list question's expected items (each checked in the answer)

    @property
    def answerable(self) -> bool:
        """True when the corpus holds the answer (some article is relevant)."""
        return bool(self.relevant)


def load_questions(path: str | Path) -> tuple[list[Question], list[str]]:
    """Read a JSONL question file; return (questions, warnings).

    A bad line (invalid JSON, missing `id`/`question`, a field of the wrong
    type, a repeated id) is skipped with a warning such as
    ``dev.jsonl:7: invalid JSON: ...``. Blank lines are ignored. A file that
    cannot be read, or is not UTF-8, raises ValueError with a one-line message.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise ValueError(f"question file not found: {path}") from None
    except IsADirectoryError:
        raise ValueError(f"question file is a directory: {path}") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"question file is not UTF-8: {path} (byte {e.start})") from None
    except OSError as e:
        raise ValueError(f"cannot read question file {path}: {e.strerror or e}") from None

    questions: list[Question] = []
    warnings: list[str] = []
    seen: dict[str, int] = {}
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            warnings.append(f"{where}: invalid JSON: {e.msg} (column {e.colno})")
            continue
        problem = _check(obj)
        if problem:
            warnings.append(f"{where}: {problem}")
            continue
        if obj["id"] in seen:
            warnings.append(f"{where}: duplicate id {obj['id']!r} (first on line {seen[obj['id']]})")
            continue
        seen[obj["id"]] = lineno
        questions.append(
            Question(
                id=obj["id"],
                kind=obj.get("kind") or "unknown",
                question=obj["question"],
                history=list(obj.get("history") or []),
                relevant=list(obj.get("relevant") or []),
                answer=obj.get("answer"),
                as_of=date.fromisoformat(obj["as_of"]) if obj.get("as_of") is not None else None,
                items=list(obj.get("items") or []),
            )
        )
    return questions, warnings


def _check(obj: object) -> str | None:
    """Return what is wrong with one parsed line, or None if it is a valid question."""
    if not isinstance(obj, dict):
        return f"expected a JSON object, got {type(obj).__name__}"
    for name in ("id", "question"):
        if name not in obj:
            return f"missing field {name!r}"
        if not isinstance(obj[name], str) or not obj[name].strip():
            return f"field {name!r} must be a non-empty string"
    if obj.get("kind") is not None and not isinstance(obj["kind"], str):
        return "field 'kind' must be a string"
    for name in ("history", "relevant", "items"):
        value = obj.get(name)
        if value is not None and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return f"field {name!r} must be a list of strings"
    answer = obj.get("answer")
    if answer is not None and (not isinstance(answer, str) or not answer.strip()):
        return "field 'answer' must be a non-empty string or null"
    return _check_as_of(obj.get("as_of"))


def _check_as_of(value: object) -> str | None:
    """What is wrong with an `as_of` field (absent or null is fine), or None."""
    if value is None:
        return None
    try:
        date.fromisoformat(value if isinstance(value, str) else "")
    except ValueError:
        return f"field 'as_of' must be a date like 2024-01-31, got {value!r}"
    return None


def resolve_questions(questions: list[Question], known: dict[str, str]) -> tuple[list[Question], list[str]]:
    """Map each question's `relevant` ids to canonical article ids; return (questions, warnings).

    `known` maps every alias of an article (id, path, url) to its id, as for
    `eval.metrics.resolve_ids`. Each unknown id is named in a warning and kept
    as is: it can never be retrieved, so it counts as a miss (the index lacks
    that article), and the question stays answerable.
    """
    from eval.metrics import dedupe, resolver

    find = resolver(known)
    out: list[Question] = []
    warnings: list[str] = []
    for q in questions:
        unknown = [rid for rid in q.relevant if not find(rid)]
        if unknown:
            warnings.append(f"{q.id}: unknown relevant id(s), not in the index: {', '.join(unknown)}")
        out.append(replace(q, relevant=dedupe(find(rid) or rid for rid in q.relevant)))
    return out, warnings
