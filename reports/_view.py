"""What the templates show: the run's findings and load results arranged as rows, cells and plots.

Every value that reaches a template is plain data (strings, numbers, lists); the templates escape it.
Plots are SVG strings from `_plots`, which escapes its own labels.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from . import _load_sections, _plots
from ._diff import VERDICT_RANK, p95, verdicts_by_check, worst_verdict
from ._runs import MAX_TEXT, Run

ENDPOINT_ORDER = ("chat", "completions", "embeddings", "models", "model")
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
# Evidence is hostile input: it is shown escaped, with control bytes made visible and long bodies cut
# (strings are cut when the run is read; a pretty-printed JSON value can still grow past the limit).
EVIDENCE_LIMIT = MAX_TEXT + 1024
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def printable(text: str, limit: int = EVIDENCE_LIMIT) -> str:
    """`text` with control characters shown as `\\xNN` and cut after `limit` characters."""
    shown = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text[:limit])
    if len(text) > limit:
        shown += f"\n… ({len(text) - limit:,} more characters not shown)"
    return shown


def as_text(value: Any) -> str:
    """A body or any JSON value as readable text: JSON pretty-printed, strings as they are."""
    if value is None:
        return ""
    if isinstance(value, str):
        stripped = value.strip()
        if stripped[:1] in ("{", "[") and len(value) <= EVIDENCE_LIMIT:
            try:
                return printable(json.dumps(json.loads(value), indent=2, ensure_ascii=False))
            except ValueError:
                pass
        return printable(value)
    return printable(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _endpoint_key(endpoint: str) -> tuple[int, str]:
    return (ENDPOINT_ORDER.index(endpoint) if endpoint in ENDPOINT_ORDER else len(ENDPOINT_ORDER), endpoint)


# --- conformance ------------------------------------------------------------------------------------


@dataclass
class Cell:
    verdict: str
    count: int
    tip: str
    failed: int = 0  # findings that failed or warned, out of `count`

    @property
    def text(self) -> str:
        """ "2 of 11 fail" where some failed, else the verdict (with ×count for several)."""
        if self.failed:
            word = "warn" if self.verdict == "warn" else "fail"
            return f"{self.failed} of {self.count} {word}"
        return self.verdict + (f" ×{self.count}" if self.count > 1 else "")


@dataclass
class MatrixRow:
    check: str
    severity: str
    description: str
    cells: dict[str, Cell]


@dataclass
class Matrix:
    endpoints: list[str]
    rows: list[MatrixRow]


def matrix(run: Run) -> Matrix:
    """Check x endpoint; each cell the worst verdict of that check's findings there, messages on hover."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for finding in run.findings:
        check = str(finding.get("check", "?"))
        grouped.setdefault(check, {}).setdefault(str(finding.get("endpoint") or "-"), []).append(finding)
    endpoints = sorted({e for cells in grouped.values() for e in cells}, key=_endpoint_key)
    rows = []
    for check in sorted(grouped):
        by_endpoint = grouped[check]
        sample = next(iter(by_endpoint.values()))[0]
        description = str(sample.get("description") or "")
        cells = {}
        for endpoint, findings in by_endpoint.items():
            verdict = worst_verdict([str(f.get("verdict", "skip")) for f in findings])
            lines = [f"{check} [{endpoint}] — {verdict}", description]
            for finding in findings[:5]:
                if finding.get("message"):
                    lines.append(f"{finding.get('verdict')}: {finding['message']}")
            if len(findings) > 5:
                lines.append(f"… and {len(findings) - 5} more")
            failed = sum(1 for f in findings if f.get("verdict") in ("fail", "drift", "warn"))
            tip = printable("\n".join(x for x in lines if x), 2000)
            cells[endpoint] = Cell(verdict, len(findings), tip, failed)
        rows.append(MatrixRow(check, str(sample.get("severity") or "").upper(), description, cells))
    return Matrix(endpoints, rows)


@dataclass
class EvidenceView:
    request_line: str = ""
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: str = ""
    status: str = ""
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: str = ""
    other: str = ""


def _headers(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [(printable(str(k), 500), printable(str(v), 4000)) for k, v in value.items()]
    if isinstance(value, list):
        return [(printable(str(p[0]), 500), printable(str(p[1]), 4000)) for p in value if len(p) == 2]
    return []


def evidence(raw: Any) -> EvidenceView:
    """The parts of a finding's evidence that have a known place; the rest as JSON under `other`."""
    if not isinstance(raw, dict):
        return EvidenceView(other=as_text(raw))
    rest = dict(raw)
    view = EvidenceView()
    request = rest.pop("request", None)
    if isinstance(request, dict):
        request = dict(request)
        view.request_line = printable(f"{request.pop('method', '')} {request.pop('url', '')}".strip(), 4000)
        view.request_headers = _headers(request.pop("headers", None))
        view.request_body = as_text(request.pop("body", None))
        if request:
            rest["request (more)"] = request
    elif request is not None:
        view.request_body = as_text(request)
    if "status" in rest:
        view.status = printable(str(rest.pop("status")), 200)
    view.response_headers = _headers(rest.pop("headers", None))
    view.response_body = as_text(rest.pop("body", None))
    view.other = as_text(rest) if rest else ""
    return view


@dataclass
class FindingView:
    check: str
    endpoint: str
    verdict: str
    severity: str
    message: str
    description: str
    test: str
    cite: str
    expected: str
    evidence: EvidenceView
    root_cause: str = ""


def _finding_view(finding: dict[str, Any]) -> FindingView:
    return FindingView(
        check=printable(str(finding.get("check", "?")), 300),
        endpoint=printable(str(finding.get("endpoint") or "-"), 100),
        verdict=str(finding.get("verdict", "")),
        severity=str(finding.get("severity") or "").upper(),
        message=printable(str(finding.get("message") or ""), 4000),
        description=printable(str(finding.get("description") or ""), 1000),
        test=printable(str(finding.get("test") or ""), 1000),
        cite=printable(str(finding.get("cite") or ""), 4000),
        expected=as_text(finding.get("expected")),
        evidence=evidence(finding.get("evidence")),
        root_cause=printable(str(finding.get("root_cause") or ""), 300),
    )


def findings_with(run: Run, *verdicts: str) -> list[FindingView]:
    """The run's findings with one of `verdicts`, MUST before SHOULD, then by check id."""
    chosen = [f for f in run.findings if f.get("verdict") in verdicts]
    chosen.sort(key=lambda f: (f.get("severity") != "must", str(f.get("check")), str(f.get("endpoint"))))
    return [_finding_view(f) for f in chosen]


@dataclass
class ErrorRow:
    endpoint: str
    condition: str
    expected_status: str
    status: str
    envelope: str
    sdk_exception: str
    verdict: str
    status_ok: bool
    cite: str = ""  # where the provider documents the expected status (empty: OpenAI's default)


def error_matrix(run: Run) -> list[ErrorRow]:
    rows = run.results.get("error_matrix")
    out = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        expected, status = row.get("expected_status"), row.get("status")
        envelope = row.get("envelope")
        out.append(
            ErrorRow(
                endpoint=printable(str(row.get("endpoint", "")), 100),
                condition=printable(str(row.get("condition", "")), 300),
                expected_status="" if expected is None else printable(str(expected), 50),
                status="no response" if status is None else printable(str(status), 50),
                envelope={True: "yes", False: "no"}.get(envelope, "–"),  # type: ignore[arg-type]
                sdk_exception=printable(str(row.get("sdk_exception") or "–"), 200),
                verdict=str(row.get("verdict", "")),
                status_ok=status == expected,
                cite=printable(str(row.get("cite") or ""), 4000),
            )
        )
    return out


# --- load -------------------------------------------------------------------------------------------


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
    return [(printable(str(k), 200), printable(_scalar(v), 500)) for k, v in value.items()]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    number = _number(value)
    if number is not None:
        return _plots.fmt(number)
    if value is None:
        return "–"
    return value if isinstance(value, str) else json.dumps(value, default=str)


def _metric_rows(metrics: dict[str, Any]) -> list[MetricRow]:
    order = [m for m in METRIC_LABELS if m in metrics] + sorted(m for m in metrics if m not in METRIC_LABELS)
    rows = []
    for name in order:
        entry = metrics[name]
        if isinstance(entry, dict):
            stats = [_scalar(entry.get(column)) if column in entry else "–" for column in STAT_COLUMNS]
        else:
            stats = ["–"] * (len(STAT_COLUMNS) - 2) + [
                _scalar(entry),
                "–",
            ]  # a single figure shows as the mean
        rows.append(MetricRow(METRIC_LABELS.get(name, printable(name, 100)), printable(name, 100), stats))
    return rows


def _timeline_plots(timeline: Any) -> list[str]:
    points = (
        [p for p in timeline if isinstance(p, dict) and _number(p.get("t")) is not None]
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
            value = _number(point.get(key))
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
    if _number(metrics.get(name)) is not None:
        return float(metrics[name])
    match = _PERCENTILE_NAME.fullmatch(name)
    if match:
        entry = metrics.get(f"{match['base']}_{match['unit']}")
        if isinstance(entry, dict) and _number(entry.get(match["stat"])) is not None:
            return float(entry[match["stat"]])
    bare = re.sub(r"^(min|max)_", "", name)
    entry = metrics.get(bare)
    if isinstance(entry, dict):
        entry = entry.get("mean")
    return float(entry) if _number(entry) is not None else None


def _sweep_plots(sweep: Any, budget_results: list[dict[str, Any]], knee: Any = None) -> tuple[list[str], str]:
    steps = (
        [s for s in sweep if isinstance(s, dict) and _number(s.get("rate")) is not None]
        if isinstance(sweep, list)
        else []
    )
    if not steps:
        return [], ""
    steps.sort(key=lambda s: s["rate"])
    passing = [s["rate"] for s in steps if s.get("passed") is True]
    # The knee: the highest rate meeting the budget below the first that misses it (bisected).
    knee_rate = _number(knee) if _number(knee) is not None else (max(passing) if passing else None)
    highest = f"{_plots.fmt(knee_rate)} req/s" if knee_rate is not None else "none of the rates tried"
    vlines = [_plots.VLine(knee_rate, f"knee {_plots.fmt(knee_rate)} req/s")] if knee_rate is not None else []
    targets: list[tuple[str, float | None]] = [
        (str(r.get("metric")), _number(r.get("limit"))) for r in budget_results if r.get("metric")
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
    sent, failed = _number(requests.get("sent")), _number(requests.get("failed"))
    if sent and failed is not None:
        request_pairs.append(("error rate", f"{failed / sent:.2%}"))
    schedule = load.get("schedule") if isinstance(load.get("schedule"), dict) else {}
    budget = load.get("budget") if isinstance(load.get("budget"), dict) else {}
    budget_results = [r for r in budget.get("results") or [] if isinstance(r, dict)]
    sweep_plots, highest = _sweep_plots(load.get("sweep"), budget_results, load.get("sweep_best_rate"))
    duration = _number(load.get("duration_s"))
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
                "limit": _scalar(r.get("limit")),
                "observed": _scalar(r.get("observed")),
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


# --- several runs -----------------------------------------------------------------------------------


@dataclass
class CompareRow:
    check: str
    endpoint: str
    verdicts: list[str]
    differs: bool


def compare_rows(runs: list[Run]) -> list[CompareRow]:
    """Per (check, endpoint) the verdict in each run ("" where a run has no such finding)."""
    per_run = [verdicts_by_check(run) for run in runs]
    keys = sorted(
        {key for verdicts in per_run for key in verdicts}, key=lambda k: (k[0], _endpoint_key(k[1]))
    )
    rows = []
    for check, endpoint in keys:
        verdicts = [verdicts.get((check, endpoint), "") for verdicts in per_run]
        rows.append(CompareRow(check, endpoint, verdicts, len(set(verdicts)) > 1))
    # Rows that differ first: they are what a side-by-side view is for.
    rows.sort(key=lambda r: (not r.differs, -max(VERDICT_RANK.get(v, 0) for v in r.verdicts)))
    return rows


def compare_load(runs: list[Run], tags: list[str]) -> tuple[list[tuple[str, list[str]]], list[str]]:
    """p95 rows (metric -> value per run) and one bar chart per metric, each on its own scale."""
    metrics = [m for m in ("ttft_ms", "tpot_ms", "itl_ms", "e2e_ms") if any(p95(r.load, m) for r in runs)]
    rows = [
        (f"{METRIC_LABELS[m]} p95 (ms)", [_scalar(p95(r.load, m)) if r.load else "–" for r in runs])
        for m in metrics
    ]
    throughput = []
    for run in runs:
        entry = ((run.load or {}).get("metrics") or {}).get("output_tokens_per_s")
        throughput.append(
            _scalar(entry.get("mean") if isinstance(entry, dict) else entry) if run.load else "–"
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
