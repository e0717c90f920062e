"""The load section of a report: load.json as tables and plots, and p95 side by side for several runs.

Every value that reaches a template is plain data; plots are SVG strings from `_plots`, which escapes
its own labels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from . import _load_sections, _plots
from ._diff import p95
from ._runs import Run
from ._text import number, printable, scalar

METRIC_LABELS = {
    "ttft_ms": "TTFT",
    "tpot_ms": "TPOT",
    "itl_ms": "ITL",
    "e2e_ms": "E2E",
    "ttfb_ms": "TTFB",
    "output_tokens_per_s": "Output tokens/s",
}
STAT_COLUMNS = ("p50", "p90", "p95", "p99", "mean", "count")
PLOTTED_METRICS = ("ttft_ms", "itl_ms", "e2e_ms")


@dataclass
class MetricRow:
    label: str
    name: str
    stats: list[str]


@dataclass
class LoadView:
    scenario: str
    shape: list[tuple[str, str]]
    started: str
    duration: str
    requests: list[tuple[str, str]]
    metrics: list[MetricRow]
    schedule: list[tuple[str, str]]
    schedule_valid: bool | None
    budget_name: str
    budget: list[dict[str, Any]]
    highest_passing_rate: str
    formulas: list[tuple[str, str]]
    latency_plots: list[tuple[str, str, str]]  # (metric label, histogram svg, percentile curve svg)
    timeline_plots: list[str]
    sweep_plots: list[str]
    conformance: _load_sections.Conformance | None = None
    warmup: list[tuple[str, str]] = field(default_factory=list)
    calibration: list[tuple[str, str]] = field(default_factory=list)
    invalid_reason: str = ""


def _pairs(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, dict):
        return []
    return [(printable(str(k), 200), printable(scalar(v), 500)) for k, v in value.items()]


def _metric_rows(metrics: dict[str, Any]) -> list[MetricRow]:
    order = [m for m in METRIC_LABELS if m in metrics] + sorted(m for m in metrics if m not in METRIC_LABELS)
    rows = []
    for name in order:
        entry = metrics[name]
        if isinstance(entry, dict):
            stats = [scalar(entry.get(column)) if column in entry else "–" for column in STAT_COLUMNS]
        else:
            stats = ["–"] * (len(STAT_COLUMNS) - 2) + [
                scalar(entry),
                "–",
            ]  # a single figure shows as the mean
        rows.append(MetricRow(METRIC_LABELS.get(name, printable(name, 100)), printable(name, 100), stats))
    return rows


def _timeline_plots(timeline: Any) -> list[str]:
    points = (
        [p for p in timeline if isinstance(p, dict) and number(p.get("t")) is not None]
        if isinstance(timeline, list)
        else []
    )
    points.sort(key=lambda p: p["t"])
    if not points:
        return [_plots.empty("Throughput over time", "load.json has no timeline")]
    times = [float(p["t"]) for p in points]
    # Each entry counts one interval; divide by its width so the axis reads "per second".
    widths = [b - a for a, b in pairwise(times) if b > a]
    default_width = widths[0] if widths else 1.0
    rates: dict[str, list[tuple[float, float]]] = {"output_tokens": [], "requests": [], "errors": []}
    for index, point in enumerate(points):
        width = times[index + 1] - times[index] if index + 1 < len(times) else default_width
        width = width if width > 0 else default_width
        for key, series in rates.items():
            value = number(point.get(key))
            if value is not None:
                series.append((times[index], value / width))
    return [
        _plots.line_chart(
            [_plots.Series("output tokens/s", rates["output_tokens"], _plots.PALETTE[0])],
            title="Output throughput over time",
            x_label="time since start (s)",
            y_label="output tokens / s",
        ),
        _plots.line_chart(
            [
                _plots.Series("requests/s", rates["requests"], _plots.PALETTE[2]),
                _plots.Series("errors/s", rates["errors"], _plots.FAIL_COLOR),
            ],
            title="Requests and errors over time",
            x_label="time since start (s)",
            y_label="per second",
        ),
    ]


_PERCENTILE_NAME = re.compile(r"(?P<base>.+?)_(?P<stat>p\d+(?:\.\d+)?|mean)_(?P<unit>ms|s)")


def sweep_value(metrics: Any, name: str) -> float | None:
    """A budget metric's value in one sweep step: `ttft_p95_ms` as itself or as `ttft_ms.p95`."""
    if not isinstance(metrics, dict):
        return None
    if number(metrics.get(name)) is not None:
        return float(metrics[name])
    match = _PERCENTILE_NAME.fullmatch(name)
    if match:
        entry = metrics.get(f"{match['base']}_{match['unit']}")
        if isinstance(entry, dict) and number(entry.get(match["stat"])) is not None:
            return float(entry[match["stat"]])
    bare = re.sub(r"^(min|max)_", "", name)
    entry = metrics.get(bare)
    if isinstance(entry, dict):
        entry = entry.get("mean")
    return float(entry) if number(entry) is not None else None


def _sweep_plots(sweep: Any, budget_results: list[dict[str, Any]], knee: Any = None) -> tuple[list[str], str]:
    steps = (
        [s for s in sweep if isinstance(s, dict) and number(s.get("rate")) is not None]
        if isinstance(sweep, list)
        else []
    )
    if not steps:
        return [], ""
    steps.sort(key=lambda s: s["rate"])
    passing = [s["rate"] for s in steps if s.get("passed") is True]
    # The knee: the highest rate meeting the budget below the first that misses it (bisected).
    knee_rate = number(knee) if number(knee) is not None else (max(passing) if passing else None)
    highest = f"{_plots.fmt(knee_rate)} req/s" if knee_rate is not None else "none of the rates tried"
    vlines = [_plots.VLine(knee_rate, f"knee {_plots.fmt(knee_rate)} req/s")] if knee_rate is not None else []
    targets: list[tuple[str, float | None]] = [
        (str(r.get("metric")), number(r.get("limit"))) for r in budget_results if r.get("metric")
    ] or [("ttft_p95_ms", None), ("e2e_p95_ms", None)]
    plots = []
    for metric, limit in targets:
        points, colors, tips = [], [], []
        for step in steps:
            value = sweep_value(step.get("metrics"), metric)
            if value is None:
                continue
            points.append((float(step["rate"]), value))
            passed = step.get("passed") is True
            # Green or red against this chart's own limit; the tooltip also says how the whole step did.
            within = (
                passed if limit is None else (value >= limit if metric.startswith("min_") else value <= limit)
            )
            colors.append(_plots.PASS_COLOR if within else _plots.FAIL_COLOR)
            verdict = "step meets the budget" if passed else "step misses the budget"
            tips.append(f"{_plots.fmt(step['rate'])} req/s: {_plots.fmt(value)} ({verdict})")
        if not points:
            continue
        bound = "≥" if metric.startswith("min_") else "≤"
        hlines = [_plots.HLine(limit, f"budget {bound} {_plots.fmt(limit)}")] if limit is not None else []
        plots.append(
            _plots.line_chart(
                [_plots.Series(metric, points, _plots.PALETTE[0], colors, tips)],
                title=f"Rate sweep: {metric}",
                x_label="offered rate (requests / s)",
                y_label=metric,
                hlines=hlines,
                markers=True,
                vlines=vlines,
            )
        )
    return plots, highest


def load_view(run: Run) -> LoadView | None:
    """The load section, or None for a run without load.json."""
    load = run.load
    if load is None:
        return None
    metrics = load.get("metrics") if isinstance(load.get("metrics"), dict) else {}
    histograms = load.get("histograms") if isinstance(load.get("histograms"), dict) else {}
    curves = load.get("percentile_curves") if isinstance(load.get("percentile_curves"), dict) else {}
    latency_plots = []
    for metric in PLOTTED_METRICS:
        label = METRIC_LABELS[metric]
        curve = curves.get(metric)
        latency_plots.append(
            (
                label,
                _plots.histogram(
                    histograms.get(metric), title=f"{label} distribution", x_label=f"{label} (ms)"
                ),
                _plots.line_chart(
                    [_plots.Series(label, [tuple(p[:2]) for p in curve if isinstance(p, list | tuple)])]
                    if isinstance(curve, list)
                    else [],
                    title=f"{label} by percentile",
                    x_label="percentile",
                    y_label=f"{label} (ms)",
                    x_range=(0, 100),
                ),
            )
        )
    requests = load.get("requests") if isinstance(load.get("requests"), dict) else {}
    request_pairs = _pairs(requests)
    sent, failed = number(requests.get("sent")), number(requests.get("failed"))
    if sent and failed is not None:
        request_pairs.append(("error rate", f"{failed / sent:.2%}"))
    schedule = load.get("schedule") if isinstance(load.get("schedule"), dict) else {}
    budget = load.get("budget") if isinstance(load.get("budget"), dict) else {}
    budget_results = [r for r in budget.get("results") or [] if isinstance(r, dict)]
    sweep_plots, highest = _sweep_plots(load.get("sweep"), budget_results, load.get("sweep_best_rate"))
    duration = number(load.get("duration_s"))
    return LoadView(
        scenario=printable(str(load.get("scenario") or ""), 200),
        shape=_pairs(load.get("shape")),
        started=printable(str(load.get("started") or ""), 100),
        duration=f"{_plots.fmt(duration)} s" if duration is not None else "",
        requests=request_pairs,
        metrics=_metric_rows(metrics),
        schedule=_pairs(schedule),
        schedule_valid=schedule.get("valid") if isinstance(schedule.get("valid"), bool) else None,
        budget_name=printable(str(budget.get("name") or ""), 200),
        budget=[
            {
                "metric": printable(str(r.get("metric", "")), 200),
                "limit": scalar(r.get("limit")),
                "observed": scalar(r.get("observed")),
                "passed": r.get("passed"),
                "reason": printable(str(r.get("reason") or ""), 1000),
            }
            for r in budget_results
        ],
        highest_passing_rate=highest,
        formulas=_pairs(load.get("formulas")),
        latency_plots=latency_plots,
        timeline_plots=_timeline_plots(load.get("timeline")),
        sweep_plots=sweep_plots,
        conformance=_load_sections.conformance(load),
        warmup=_load_sections.warmup_pairs(load),
        calibration=_load_sections.calibration_pairs(load),
        invalid_reason=printable(str(schedule.get("invalid_reason") or ""), 1000),
    )


def compare_load(runs: list[Run], tags: list[str]) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """p95 rows (metric -> value per run) and one bar chart per metric, each on its own scale."""
    metrics = [m for m in ("ttft_ms", "tpot_ms", "itl_ms", "e2e_ms") if any(p95(r.load, m) for r in runs)]
    rows = [
        (f"{METRIC_LABELS[m]} p95 (ms)", [scalar(p95(r.load, m)) if r.load else "–" for r in runs])
        for m in metrics
    ]
    throughput = []
    for run in runs:
        entry = ((run.load or {}).get("metrics") or {}).get("output_tokens_per_s")
        throughput.append(
            scalar(entry.get("mean") if isinstance(entry, dict) else entry) if run.load else "–"
        )
    if any(v != "–" for v in throughput):
        rows.append(("Output tokens/s", throughput))
    charts = [
        _plots.grouped_bars(
            tags,
            [(f"{METRIC_LABELS[m]} p95", [p95(run.load, m) for run in runs])],
            title=f"{METRIC_LABELS[m]} p95 per run",
            y_label="ms",
        )
        for m in metrics
    ]
    return rows, charts
