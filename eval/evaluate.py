"""`spacebot eval`: run a question file through the bot's own retriever and answerer, per mode."""

from __future__ import annotations

from collections.abc import Callable

from eval.questions import Question


def known_aliases(keyword_index) -> dict[str, str]:
    """Every name an article can be given by in a question file (id, path, url) -> its id."""
    columns = keyword_index.table.columns
    known: dict[str, str] = {}
    for article_id, path, url in zip(columns["article_id"], columns["path"], columns["url"]):
        known.setdefault(article_id, article_id)
        for alias in (path, url):
            if alias:
                known.setdefault(alias, article_id)
    return known


def make_ask(service) -> Callable:
    """The `ask(question, mode, k)` the runner calls: history and question together, as the chat does;
    a question's `as_of` is "now" for it (`Filters.as_of`)."""
    from bot.core.records import Filters

    def ask(q: Question, mode: str, k: int):
        history = [(turn, "") for turn in q.history]
        filters = Filters(as_of=q.as_of) if q.as_of else None
        top = min(k, service.settings.top_k)
        answer = service.answer(q.question, history, k=top, filters=filters, mode=mode, retrieve_k=k)
        return answer.hits[:k], answer

    return ask


def evaluate(service, questions_path: str, modes: list[str], k: int = 10, progress=None):
    """Load, resolve and run the questions; returns `(EvalResult, warnings)`."""
    from eval.questions import load_questions, resolve_questions
    from eval.runner import run_eval

    questions, warnings = load_questions(questions_path)
    questions, unknown = resolve_questions(questions, known_aliases(service.index.keyword))
    result = run_eval(questions, modes, make_ask(service), k=k, progress=progress)
    return result, warnings + unknown
