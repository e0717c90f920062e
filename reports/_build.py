"""Writes the report pages: one run's `index.html`, and one page for several runs side by side."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import _load_view, _view
from ._diff import DEFAULT_LATENCY_THRESHOLD, Diff, diff_loaded
from ._html import render
from ._runs import REPORT_FILE, Run, load_run

COMPARE_FILE = "compare.html"


def _write(out: Path, html: str) -> Path:
    out.parent.mkdir(parents=True, exist_ok=True)
    # Write then rename, so a reader never sees half a report.
    partial = out.with_name(f".{out.name}.partial")
    partial.write_text(html, encoding="utf-8")
    partial.replace(out)
    return out


def render_run(run: Run, diffs: Sequence[Diff] = ()) -> str:
    """The HTML of one run's report."""
    return render(
        "run.html",
        run=run,
        summary=run.summary,
        diffs=list(diffs),
        matrix=_view.matrix(run),
        deviations=_view.findings_with(run, "deviation", "drift"),
        failures=_view.findings_with(run, "fail", "warn"),
        root_causes=run.root_causes,
        undocumented=_view.findings_with(run, "undocumented"),
        behaviour=run.behaviour,
        scenario_errors=run.scenario_errors,
        skips=_view.findings_with(run, "skip", "blocked", "inconclusive", "not-applicable"),
        error_rows=_view.error_matrix(run),
        load=_load_view.load_view(run),
    )


@dataclass
class _Column:
    tag: str
    run: Run
    summary: dict[str, Any]
    report: str


def render_compare(runs: Sequence[Run], out: Path, diffs: Sequence[Diff] = ()) -> str:
    """The HTML of several runs side by side (targets as columns); `out` is where it will live."""
    tags = [chr(ord("A") + i) if i < 26 else str(i + 1) for i in range(len(runs))]
    columns = []
    for tag, run in zip(tags, runs, strict=True):
        report = run.path / REPORT_FILE
        link = os.path.relpath(report, out.resolve().parent) if report.is_file() else ""
        columns.append(_Column(tag, run, run.summary, Path(link).as_posix() if link else ""))
    load_rows, load_charts = _load_view.compare_load(list(runs), tags)
    return render(
        "compare.html",
        runs=list(runs),
        columns=columns,
        diffs=list(diffs),
        rows=_view.compare_rows(list(runs)),
        load_rows=load_rows if any(run.load for run in runs) else [],
        load_charts=load_charts,
    )


def build_report(
    run_dir: str | Path,
    *,
    out: str | Path | None = None,
    baseline: str | Path | None = None,
    latency_threshold: float = DEFAULT_LATENCY_THRESHOLD,
) -> Path:
    """Write the report of the run in `run_dir` (to `run_dir/index.html` unless `out`) and return its path.

    With `baseline`, the page also shows the diff against that run.
    """
    run = load_run(run_dir)
    diffs = [diff_loaded(run, load_run(baseline), latency_threshold=latency_threshold)] if baseline else []
    return _write(Path(out) if out else run.path / REPORT_FILE, render_run(run, diffs))


def default_compare_path(run_dirs: Sequence[str | Path]) -> Path:
    """Where a comparison goes when no `--out` is given: beside the runs, in their common folder."""
    parents = [str(Path(d).resolve().parent) for d in run_dirs]
    return Path(os.path.commonpath(parents)) / COMPARE_FILE


def compare_runs(
    run_dirs: Sequence[str | Path],
    out: str | Path | None = None,
    *,
    baseline: str | Path | None = None,
    latency_threshold: float = DEFAULT_LATENCY_THRESHOLD,
) -> Path:
    """Write one page with the runs in `run_dirs` side by side and return its path.

    With `baseline`, each run's diff against it is shown too.
    """
    if not run_dirs:
        raise ValueError("compare_runs needs at least one run directory")
    runs = [load_run(d) for d in run_dirs]
    diffs = []
    if baseline:
        base = load_run(baseline)
        diffs = [diff_loaded(run, base, latency_threshold=latency_threshold) for run in runs]
    target = Path(out) if out else default_compare_path(run_dirs)
    return _write(target, render_compare(runs, target, diffs))
