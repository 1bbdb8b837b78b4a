"""Fuzzing what users hand spacebot (bounded: a few seconds each).

Random bytes and random YAML front matter through every reader: only the
product's own `InputError` may come out. Random Unicode questions through
`spacebot ask` on the sample index: an answer, a refusal or one `error:` line
(exit 2), never a traceback.
"""

from __future__ import annotations

import json
import os

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from ingest.article import Article, InputError
from ingest.readers import READERS, Doc

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))  # a few seconds each; raise it for a longer hunt
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.dates().map(str)
    | st.datetimes().map(str)
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
# The keys the readers look at, so random values land where they matter.
FIELDS = [
    "title",
    "date",
    "published",
    "published_time",
    "source_url",
    "url",
    "link",
    "publisher",
    "tags",
    "source",
    "id",
    "text",
    "body",
    "headline",
]
front_matter = st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=6), values, max_size=5)
body = st.text(min_size=0, max_size=300)


def read_all(suffix: str, data: bytes) -> list:
    """Everything one reader makes of `data`; an `InputError` raised counts as a result."""
    doc = Doc(
        name=f"fuzz/input{suffix}",
        data=data,
        article_id=f"input{suffix}",
        origin="/fuzz",
        folder_source="fuzz",
        path=f"input{suffix}",
    )
    try:
        results = list(READERS[suffix](doc))
    except InputError as exc:
        return [exc]
    assert all(isinstance(r, (Article, InputError)) for r in results), results
    return results


@FUZZ
@given(suffix=st.sampled_from(sorted(READERS)), data=st.binary(max_size=300) | body.map(str.encode))
def test_random_bytes_through_every_reader_give_articles_or_input_errors(suffix, data):
    read_all(suffix, data)


@FUZZ
@given(meta=front_matter, text=body)
def test_random_front_matter_gives_an_article_or_an_input_error(meta, text):
    document = f"---\n{yaml.safe_dump(meta, allow_unicode=True)}---\n{text}"
    for result in read_all(".md", document.encode()):
        if isinstance(result, Article):
            assert isinstance(result.title, str) and result.title.strip()


@FUZZ
@given(records=st.lists(front_matter, max_size=3))
def test_random_json_records_give_articles_or_input_errors(records):
    read_all(".json", json.dumps(records, default=str).encode())
    read_all(".jsonl", "\n".join(json.dumps(r, default=str) for r in records).encode())


@pytest.mark.slow
def test_random_unicode_questions_get_an_answer_a_refusal_or_one_error_line(sample_service, monkeypatch):
    from bot.faces import cli

    monkeypatch.setattr(cli, "_service", lambda: sample_service)  # the real service, built once
    runner = CliRunner()

    @settings(
        max_examples=min(EXAMPLES, 60),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(
        question=st.text(max_size=120) | st.text(alphabet=st.characters(codec="utf-8"), min_size=1900, max_size=2100)
    )
    def ask_holds(question):
        result = runner.invoke(cli.app, ["ask", "--json", "--", question])
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
        assert "Traceback" not in result.output
        if result.exit_code == 0:
            data = json.loads(result.stdout)
            assert isinstance(data["answer"], str) and isinstance(data["refused"], bool)
        else:
            assert result.exit_code == 2, (result.exit_code, result.output)
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr

    ask_holds()
