"""Present evaluation results: a rich table for the terminal, and report.md, results.json, chart.png."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from eval.runner import EvalResult

# (key in results.json, short column label)
COLUMNS = [
    ("hit@1", "hit@1"),
    ("hit@3", "hit@3"),
    ("hit@5", "hit@5"),
    ("hit@10", "hit@10"),
    ("recall@5", "R@5"),
    ("recall@10", "R@10"),
    ("mrr@10", "MRR@10"),
    ("ndcg@10", "nDCG@10"),
    ("answer_contains", "answer ok"),
    ("citation_precision", "cite prec"),
    ("refusal_rate", "refusal"),
    ("false_refusal_rate", "false ref"),
    ("refusal_or_unsure_rate", "ref/unsure"),
    ("short_answer_ok", "short ok"),
    ("sure_precision", "sure prec"),
    ("sure_coverage", "sure cov"),
    ("ece", "ECE"),
    ("p50_ms", "p50 ms"),
    ("p95_ms", "p95 ms"),
]
KIND_COLUMNS = COLUMNS[:8] + [("answer_contains", "answer ok")]  # retrieval, and answers per kind
LOWER_IS_BETTER = {"false_refusal_rate", "ece", "p50_ms", "p95_ms"}


def load_baseline(path: str | Path) -> dict:
    """Read an earlier results.json; raise ValueError with a one-line message if it is unusable."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ValueError(f"baseline file not found: {path}") from None
    except UnicodeDecodeError:
        raise ValueError(f"baseline file is not UTF-8: {path}") from None
    except json.JSONDecodeError as e:
        raise ValueError(f"baseline file is not valid JSON: {path}:{e.lineno}: {e.msg}") from None
    except OSError as e:
        raise ValueError(f"cannot read baseline file {path}: {e.strerror or e}") from None
    modes = data.get("modes") if isinstance(data, dict) else None
    if not isinstance(modes, dict) or not all(isinstance(m, dict) for m in modes.values()):
        raise ValueError(f"baseline file has no 'modes' object of per-mode scores (not a results.json?): {path}")
    return data


def render_table(result: EvalResult | dict, baseline: EvalResult | dict | None = None):
    """A rich Table: one row per mode, one column per metric, with the change vs `baseline` if given."""
    from rich.table import Table

    modes, base = _modes(result), _modes(baseline) if baseline is not None else {}
    title = "Evaluation" + (" (second line: change vs baseline)" if base else "")
    table = Table(title=title)
    table.add_column("mode", style="bold")
    for _, label in COLUMNS:
        table.add_column(label, justify="right")
    for mode, scores in modes.items():
        cells = []
        for key, _ in COLUMNS:
            cell = _fmt(key, scores.get(key))
            if mode in base:
                delta = _delta(key, scores.get(key), base[mode].get(key))
                if delta is not None:
                    cell += f"\n[{_colour(key, delta)}]{_fmt_delta(key, delta)}[/]"
            cells.append(cell)
        table.add_row(mode, *cells)
    return table


def write_report(
    result: EvalResult,
    out_dir: str | Path,
    baseline: EvalResult | dict | str | Path | None = None,
    command: str | None = None,
) -> dict[str, Path]:
    """Write report.md, results.json, details.json and chart.png into `out_dir`; return their paths.

    `baseline` is an earlier result (or the path of its results.json) to
    compare against; `command` is the command line shown at the top of the report.
    """
    from eval.chart import write_chart

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    label = None
    if isinstance(baseline, (str, Path)):
        label, baseline = str(baseline), load_baseline(baseline)
    paths = {
        "report": out / "report.md",
        "results": out / "results.json",
        "details": out / "details.json",
        "chart": out / "chart.png",
    }
    data = result.to_json()
    paths["results"].write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    details = {mode: [r.to_dict() for r in rows] for mode, rows in result.details.items()}
    paths["details"].write_text(json.dumps(details, indent=2) + "\n", encoding="utf-8")
    write_chart(data, paths["chart"])
    paths["report"].write_text(markdown_report(result, baseline, command, label), encoding="utf-8")
    return paths


def markdown_report(
    result: EvalResult,
    baseline: EvalResult | dict | None = None,
    command: str | None = None,
    baseline_label: str | None = None,
) -> str:
    """The text of report.md: summary, change vs baseline, per-kind tables, missed questions."""
    modes = result.modes
    base = _modes(baseline) if baseline is not None else {}
    first = next(iter(modes.values()), {})
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    lines = ["# spacebot evaluation", "", f"Generated {when}."]
    if command:
        lines += ["", "```", command, "```"]
    lines += [
        "",
        f"{first.get('n_questions', 0)} questions, {first.get('n_answerable', 0)} answerable; "
        f"top k = {result.k} distinct articles per question. Retrieval metrics are averaged over "
        "answerable questions (an empty run counts as 0). `answer ok`: the expected string is in a "
        "non-refused answer; `refusal`: share of unanswerable questions refused; `false ref`: share "
        "of answerable questions refused; `cite prec`: share of cited articles that are relevant, "
        "averaged over answered questions that cite something. `ref/unsure`: share of unanswerable "
        "questions refused or answered unsure; `short ok`: share of lookups and paraphrases whose short "
        "answer holds the expected string; `sure prec` / `sure cov`: share of sure answers that hold it / "
        "share of answerable questions answered sure; `ECE`: expected calibration error of `confidence`.",
        "",
        "## Summary",
        "",
    ]
    lines += _md_table(
        ["mode"] + [label for _, label in COLUMNS],
        [[m] + [_fmt(k, s.get(k)) for k, _ in COLUMNS] for m, s in modes.items()],
    )

    lines += _change_section(modes, base, baseline_label)
    lines += _kind_section(modes, base)
    lines += _shape_section(modes)
    lines += _missed_section(result)
    return "\n".join(lines) + "\n"


def _change_section(modes: dict, base: dict, baseline_label: str | None) -> list[str]:
    """Each mode's summary figures against the baseline's (none without a baseline)."""
    if not base:
        return []
    lines = ["", "## Change vs baseline", ""]
    if baseline_label:
        lines += [f"Baseline: `{baseline_label}`.", ""]
    rows = []
    for m, s in modes.items():
        if m not in base:
            rows.append([m] + ["new mode"] + [""] * (len(COLUMNS) - 1))
            continue
        rows.append(
            [m]
            + [_fmt_delta(k, d) if (d := _delta(k, s.get(k), base[m].get(k))) is not None else "–" for k, _ in COLUMNS]
        )
    return lines + _md_table(["mode"] + [label for _, label in COLUMNS], rows)


def _kind_section(modes: dict, base: dict) -> list[str]:
    """Retrieval per question kind and mode, with the change vs baseline in brackets."""
    lines = ["", "## Retrieval and answers by question kind"]
    for m, s in modes.items():
        lines += ["", f"### {m}", ""]
        base_kinds = (base.get(m) or {}).get("per_kind") or {}
        rows = []
        for kind, ks in (s.get("per_kind") or {}).items():
            row = [kind, str(ks.get("n", ""))]
            for k, _ in KIND_COLUMNS:
                cell = _fmt(k, ks.get(k))
                d = _delta(k, ks.get(k), (base_kinds.get(kind) or {}).get(k))
                shown = _fmt_delta(k, d) if d is not None else "±0"
                row.append(cell + (f" ({shown})" if shown != "±0" else ""))
            rows.append(row)
        if base_kinds:
            lines += ["Changes vs baseline in brackets where non-zero.", ""]
        lines += _md_table(["kind", "n"] + [label for _, label in KIND_COLUMNS], rows)
    return lines


def _shape_section(modes: dict) -> list[str]:
    """Answers per answer shape and mode: count, expected string found, expected list items named."""
    lines = ["", "## Answers by shape"]
    for m, s in modes.items():
        shapes = s.get("per_shape") or {}
        rows = [
            [
                shape,
                str(v.get("n", "")),
                _fmt("answer_contains", v.get("answer_contains")),
                _fmt("answer_contains", v.get("item_recall")),
                _fmt("p95_ms", v.get("p95_ms")),
            ]
            for shape, v in shapes.items()
        ]
        if rows:
            lines += ["", f"### {m}", ""] + _md_table(["shape", "n", "answer ok", "items named", "p95 ms"], rows)
    return lines


def _missed_section(result: EvalResult) -> list[str]:
    """The questions each mode missed, and how."""
    lines = ["", "## Missed questions", ""]
    lines += [
        "A question is listed when no relevant article is in the top k (retrieval miss), "
        "when the expected string is missing from the answer, when an answerable question "
        "is refused, or when an unanswerable one is answered."
    ]
    for m, rows in result.details.items():
        missed = [r for r in rows if r.problems]
        lines += ["", f"### {m}: {len(missed)} of {len(rows)}", ""]
        if missed:
            lines += _md_table(
                ["id", "kind", "problem", "question", "expected", "relevant", "top 3 retrieved"],
                [
                    [
                        r.id,
                        r.kind,
                        ", ".join(r.problems),
                        r.question,
                        r.expected or "–",
                        _relevant(r.relevant),
                        ", ".join(r.retrieved[:3]) or "(none)",
                    ]
                    for r in missed
                ],
            )
    return lines


def _relevant(ids: list[str]) -> str:
    """The primary relevant id, and how many more there are."""
    if not ids:
        return "–"
    return ids[0] + (f" (+{len(ids) - 1})" if len(ids) > 1 else "")


def _modes(result: EvalResult | dict) -> dict[str, dict]:
    """The per-mode scores of an EvalResult or a results.json dict."""
    return result.modes if isinstance(result, EvalResult) else result.get("modes", {})


def _is_num(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _delta(key: str, new, old) -> float | None:
    return new - old if _is_num(new) and _is_num(old) else None


def _fmt(key: str, value) -> str:
    if not _is_num(value):
        return "–"
    if key.endswith("_ms"):
        return f"{value:.1f}" if abs(value) < 100 else f"{value:.0f}"
    return f"{value:.3f}"


def _fmt_delta(key: str, delta: float) -> str:
    if key.endswith("_ms"):
        text = f"{delta:+.1f}" if abs(delta) < 100 else f"{delta:+.0f}"
    else:
        text = f"{delta:+.3f}"
    return "±0" if text.lstrip("+-").strip("0.") == "" else text


def _colour(key: str, delta: float) -> str:
    if _fmt_delta(key, delta) == "±0":
        return "dim"
    better = delta < 0 if key in LOWER_IS_BETTER else delta > 0
    return "green" if better else "red"


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    def cell(text) -> str:
        return " ".join(str(text).split()).replace("|", "\\|")

    out = ["| " + " | ".join(map(cell, header)) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(map(cell, row)) + " |" for row in rows]
    return out
