"""`compat-suite report RUN_DIR... [--baseline DIR] [--out FILE] [--latency-threshold 0.10]`.

Exit codes: 0 report written and no regression; 1 a regression against the baseline (a new failure,
or a p95 latency past the threshold); 2 a usage error (bad option, missing run dir or results.json).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ._build import _write, default_compare_path, render_compare, render_run
from ._diff import DEFAULT_LATENCY_THRESHOLD, diff_loaded
from ._runs import REPORT_FILE, RunDirError, load_run

EXIT_OK, EXIT_REGRESSION, EXIT_USAGE = 0, 1, 2


def _threshold(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError("must be zero or more (0.10 means 10%)")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="compat-suite report",
        description="Build the HTML report of one run, or of several runs side by side, "
        "optionally diffed against a baseline run.",
    )
    p.add_argument("run_dirs", nargs="+", metavar="RUN_DIR", help="run directory holding results.json")
    p.add_argument("--baseline", metavar="DIR", help="a baseline run to diff against; regressions exit 1")
    p.add_argument(
        "--out",
        metavar="FILE",
        help="where to write the HTML (default: RUN_DIR/index.html for one run, "
        "compare.html beside the runs for several)",
    )
    p.add_argument(
        "--latency-threshold",
        type=_threshold,
        default=DEFAULT_LATENCY_THRESHOLD,
        metavar="FRACTION",
        help="a p95 (TTFT, ITL, E2E) up by more than this fraction is a regression (default 0.10)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit code instead of exiting."""
    try:
        args = parser().parse_args(argv)
    except SystemExit as exc:  # argparse exits on --help (0) and on usage errors (2)
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    try:
        runs = [load_run(d) for d in args.run_dirs]
        baseline = load_run(args.baseline) if args.baseline else None
    except RunDirError as exc:
        print(f"compat-suite report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    diffs = (
        [diff_loaded(run, baseline, latency_threshold=args.latency_threshold) for run in runs]
        if baseline
        else []
    )
    try:
        if len(runs) == 1:
            out = _write(
                Path(args.out) if args.out else runs[0].path / REPORT_FILE, render_run(runs[0], diffs)
            )
        else:
            target = Path(args.out) if args.out else default_compare_path(args.run_dirs)
            out = _write(target, render_compare(runs, target, diffs))
    except OSError as exc:
        print(f"compat-suite report: cannot write the report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    print(f"report: {out}")
    for diff in diffs:
        print(diff.to_text())
    return EXIT_REGRESSION if any(diff.regressed for diff in diffs) else EXIT_OK
