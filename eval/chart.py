"""Draw the evaluation chart: retrieval metrics per mode, and per question kind for one mode."""

from __future__ import annotations

from pathlib import Path

CHART_METRICS = ("hit@1", "hit@5", "mrr@10", "ndcg@10")


def focus_mode(modes: list[str]) -> str:
    """The mode to break down by kind: "hybrid" if present, else one named like it, else the first."""
    if "hybrid" in modes:
        return "hybrid"
    return next((m for m in modes if "hybrid" in m), modes[0])


def write_chart(results: dict, path: str | Path) -> Path:
    """Write a PNG with two panels of grouped bars from a results.json dict; return its path.

    Left: hit@1, hit@5, mrr@10 and ndcg@10, one bar per mode. Right: the same
    metrics per question kind for `focus_mode`. Uses the Agg canvas directly,
    so no GUI backend or pyplot state is touched.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    modes = results["modes"]
    names = list(modes)
    fig = Figure(figsize=(13, 5), layout="constrained")
    FigureCanvasAgg(fig)
    left, right = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 1.3]})

    _grouped_bars(
        left,
        groups=list(CHART_METRICS),
        series={m: [_num(modes[m].get(metric)) for metric in CHART_METRICS] for m in names},
    )
    left.set_title("Retrieval by mode (answerable questions)")

    focus = focus_mode(names)
    kinds = modes[focus].get("per_kind") or {}
    _grouped_bars(
        right,
        groups=[f"{kind}\n(n={row.get('n', '?')})" for kind, row in kinds.items()],
        series={metric: [_num(row.get(metric)) for row in kinds.values()] for metric in CHART_METRICS},
    )
    right.set_title(f"Retrieval by question kind: {focus}")

    path = Path(path)
    fig.savefig(path, dpi=110)
    return path


def _grouped_bars(ax, groups: list[str], series: dict[str, list[float]]) -> None:
    """One cluster of bars per group, one bar (and legend entry) per series."""
    n = max(len(series), 1)
    width = 0.8 / n
    for i, (label, values) in enumerate(series.items()):
        xs = [g + (i - (n - 1) / 2) * width for g in range(len(groups))]
        bars = ax.bar(xs, values, width, label=label)
        ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
    ax.set_xticks(range(len(groups)), groups)
    ax.set_ylim(0, 1.22)
    ax.set_ylabel("score")
    ax.grid(axis="y", alpha=0.3)
    ax.set_axisbelow(True)
    if series and groups:
        ax.legend(fontsize=8, loc="upper center", ncols=min(n, 4))
    else:
        ax.text(0.5, 0.5, "no data", ha="center", va="center", transform=ax.transAxes)


def _num(value) -> float:
    return float(value) if isinstance(value, (int, float)) else 0.0
