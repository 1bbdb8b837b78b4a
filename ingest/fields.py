"""One rule for odd metadata, the same for every field and every reader.

A field of the wrong type is coerced when its meaning is clear (a title written
as a YAML list is joined with ": ", a number becomes text, a list of tags is
joined with ", ") and otherwise dropped with one warning naming the input and
the field (a date that is a list, or not a real date like 2024-13-45). The input
is still ingested; only its body decides whether there is an article at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime

_SCALARS = (str, int, float)


def _kind(value) -> str:
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple, set)):
        return "a list"
    if isinstance(value, bool):
        return "true/false"
    return f"a {type(value).__name__}"


class Fields:
    """Reads fields of one input (`label` names it in warnings); collects the warnings."""

    def __init__(self, label: str):
        self.label = label
        self.warnings: list[str] = []

    def drop(self, key: str, why: str) -> None:
        self.warnings.append(f"{self.label}: field '{key}' {why}; ignored")

    def _first(self, record: Mapping, keys: tuple[str, ...], coerce):
        """The first of `keys` that holds a usable value, coerced; unusable ones are warned about."""
        for key in keys:
            value = record.get(key)
            if value is None or value == "" or value == [] or value == {}:
                continue
            result = coerce(key, value)
            if result is not None:
                return result
        return None

    def text(self, record: Mapping, *keys: str, joiner: str = ": ") -> str | None:
        """Text: a string; a number as written; a list of plain values joined with `joiner`."""

        def coerce(key, value):
            if isinstance(value, str):
                return value
            if isinstance(value, bool):
                return self.drop(key, "is true/false, expected text")
            if isinstance(value, _SCALARS):
                return str(value)
            if isinstance(value, (date, datetime)):
                return value.isoformat()
            if isinstance(value, (list, tuple)) and all(
                isinstance(v, _SCALARS) and not isinstance(v, bool) for v in value
            ):
                return joiner.join(str(v).strip() for v in value if str(v).strip()) or None
            return self.drop(key, f"is {_kind(value)}, expected text")

        return self._first(record, keys, coerce)

    def url(self, record: Mapping, *keys: str) -> str | None:
        """An address: a string, nothing else."""

        def coerce(key, value):
            if isinstance(value, str):
                return value.strip() or None
            return self.drop(key, f"is {_kind(value)}, expected a URL")

        return self._first(record, keys, coerce)

    def date(self, record: Mapping, *keys: str) -> date | None:
        """A date: a date, a datetime, or text that is a real date (ISO or RFC 822)."""
        from ingest.cleaning import parse_date

        def coerce(key, value):
            if isinstance(value, (date, datetime)):
                return parse_date(value)
            if not isinstance(value, str):
                return self.drop(key, f"is {_kind(value)}, expected a date")
            parsed = parse_date(value)
            if parsed is None:
                return self.drop(key, f"is not a date ({value.strip()[:40]!r})")
            return parsed

        return self._first(record, keys, coerce)


def tolerant_yaml_handler():
    """A python-frontmatter YAML handler that keeps an impossible date (2024-13-45) as text.

    PyYAML's safe loader turns anything shaped like a date into a `date` and raises on
    2024-13-45, which would reject the whole file; as text it meets the date rule instead.
    """
    import yaml
    from frontmatter.default_handlers import YAMLHandler

    class _Loader(yaml.SafeLoader):
        def construct_yaml_timestamp(self, node):
            try:
                return super().construct_yaml_timestamp(node)
            except ValueError:
                return self.construct_scalar(node)

    _Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)

    class _Handler(YAMLHandler):
        not_a_mapping: str | None = None  # what the front matter was, when it was not a mapping

        def load(self, fm: str, **kwargs):
            data = yaml.load(fm, Loader=_Loader)  # a SafeLoader subclass: no arbitrary objects
            if data is not None and not isinstance(data, dict):
                self.not_a_mapping = _kind(data)
            return data

    return _Handler()
