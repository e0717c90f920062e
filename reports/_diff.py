"""A run against a baseline run: new failures, fixed ones, failures not run this time (never counted
as fixed), and p95 latency regressions past a threshold."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas import VERDICT_RANK

from ._runs import Run, load_run

# The latencies a regression is judged on (issue 5: p95 of TTFT, ITL and E2E).
LATENCY_METRICS = ("ttft_ms", "itl_ms", "e2e_ms")
DEFAULT_LATENCY_THRESHOLD = 0.10
# A failure counts as fixed only where the check ran and held; anything else is "not run".
JUDGED_GOOD = frozenset({"pass", "deviation", "warn"})


def worst_verdict(verdicts: list[str]) -> str:
    """The verdict that matters most among several (schemas.VERDICT_RANK: fail first, not-applicable last)."""
    return max(verdicts, key=lambda v: VERDICT_RANK.get(v, 0)) if verdicts else "skip"


def verdicts_by_check(run: Run) -> dict[tuple[str, str], str]:
    """(check id, endpoint) -> the worst verdict among that check's findings on that endpoint."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for finding in run.findings:
        key = (str(finding.get("check", "?")), str(finding.get("endpoint") or "-"))
        grouped.setdefault(key, []).append(str(finding.get("verdict", "skip")))
    return {key: worst_verdict(verdicts) for key, verdicts in grouped.items()}


def p95(load: dict[str, Any] | None, metric: str) -> float | None:
    """The p95 of `metric` in a load.json, or None when it is absent or not a number."""
    metrics = (load or {}).get("metrics")
    entry = metrics.get(metric) if isinstance(metrics, dict) else None
    value = entry.get("p95") if isinstance(entry, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


@dataclass(frozen=True)
class VerdictChange:
    """One (check, endpoint) whose verdict differs between the baseline and the run."""

    check: str
    endpoint: str
    baseline: str | None
    current: str | None

    def as_text(self) -> str:
        """`check [endpoint]: before -> now`, "absent" where a run has no such finding."""
        return f"{self.check} [{self.endpoint}]: {self.baseline or 'absent'} -> {self.current or 'absent'}"


@dataclass(frozen=True)
class LatencyChange:
    """The p95 of one metric in both runs; `change` is the relative increase (0.25 = 25 % slower)."""

    metric: str
    baseline_p95: float
    current_p95: float
    change: float
    regressed: bool


@dataclass(frozen=True)
class Diff:
    """What changed from `baseline` to `run`; `regressed` is what the exit code follows."""

    run: Path
    baseline: Path
    threshold: float
    new_failures: tuple[VerdictChange, ...]
    fixed: tuple[VerdictChange, ...]
    other_changes: tuple[VerdictChange, ...]
    latency: tuple[LatencyChange, ...]
    notes: tuple[str, ...]
    not_run: tuple[VerdictChange, ...] = ()  # failed in the baseline, not judged now (skip, blocked, absent)

    @property
    def latency_regressions(self) -> tuple[LatencyChange, ...]:
        return tuple(change for change in self.latency if change.regressed)

    @property
    def regressed(self) -> bool:
        return bool(self.new_failures or self.latency_regressions)

    def to_text(self) -> str:
        """The diff as lines for a terminal or a CI log."""
        lines = [f"diff {self.run.name} against baseline {self.baseline.name}:"]
        for mark, heading, changes in (
            ("-", "new failures", self.new_failures),
            ("+", "fixed", self.fixed),
            ("?", "not run this time, so not known to be fixed", self.not_run),
            ("~", "other verdict changes", self.other_changes),
        ):
            if changes:
                lines.append(f"  {heading} ({len(changes)}):")
                lines += [f"    {mark} {change.as_text()}" for change in changes]
        for change in self.latency:
            mark = "REGRESSION" if change.regressed else "ok"
            lines.append(
                f"  p95 {change.metric}: {change.baseline_p95:.1f} -> {change.current_p95:.1f} "
                f"({change.change:+.1%}, threshold +{self.threshold:.0%}) {mark}"
            )
        lines += [f"  note: {note}" for note in self.notes]
        if not (self.new_failures or self.fixed or self.not_run or self.other_changes or self.latency):
            lines.append("  no changes")
        lines.append("  result: " + ("REGRESSED" if self.regressed else "no regression"))
        return "\n".join(lines)


def diff_loaded(run: Run, baseline: Run, *, latency_threshold: float = DEFAULT_LATENCY_THRESHOLD) -> Diff:
    """The diff of two already loaded runs."""
    if latency_threshold < 0:
        raise ValueError("latency_threshold must be zero or more")
    current, before = verdicts_by_check(run), verdicts_by_check(baseline)
    new_failures, fixed, not_run, other = [], [], [], []
    for key in sorted(current.keys() | before.keys()):
        now, then = current.get(key), before.get(key)
        if now == then:
            continue
        change = VerdictChange(key[0], key[1], then, now)
        if now == "fail":
            new_failures.append(change)
        elif then == "fail":
            (fixed if now in JUDGED_GOOD else not_run).append(change)
        else:
            other.append(change)
    latency, notes = [], []
    if run.load is None or baseline.load is None:
        missing = [r.name for r in (run, baseline) if r.load is None]
        notes.append(f"latency not compared: no load.json in {', '.join(missing)}")
    else:
        for metric in LATENCY_METRICS:
            now_p95, then_p95 = p95(run.load, metric), p95(baseline.load, metric)
            if now_p95 is None or then_p95 is None:
                notes.append(f"p95 {metric} not compared: missing in one of the runs")
            elif then_p95 <= 0:
                notes.append(f"p95 {metric} not compared: the baseline's is {then_p95}")
            else:
                change = (now_p95 - then_p95) / then_p95
                latency.append(LatencyChange(metric, then_p95, now_p95, change, change > latency_threshold))
    return Diff(
        run=run.path,
        baseline=baseline.path,
        threshold=latency_threshold,
        new_failures=tuple(new_failures),
        fixed=tuple(fixed),
        other_changes=tuple(other),
        not_run=tuple(not_run),
        latency=tuple(latency),
        notes=tuple(notes),
    )


def diff_runs(
    run_dir: str | Path, baseline_dir: str | Path, *, latency_threshold: float = DEFAULT_LATENCY_THRESHOLD
) -> Diff:
    """Compare the run in `run_dir` with the one in `baseline_dir`."""
    return diff_loaded(load_run(run_dir), load_run(baseline_dir), latency_threshold=latency_threshold)
