"""The HTML report: one run's page, several runs side by side, and the diff against a baseline.

Built only from a run directory's `results.json` and, when present, `load.json`.
"""

from ._build import build_report, compare_runs
from ._cli import main
from ._diff import Diff, LatencyChange, VerdictChange, diff_runs
from ._runs import RunDirError

__all__ = [
    "Diff",
    "LatencyChange",
    "RunDirError",
    "VerdictChange",
    "build_report",
    "compare_runs",
    "diff_runs",
    "main",
]
