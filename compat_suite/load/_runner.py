"""`compat-suite load`: run locust headless (standalone, or a master with local workers), then write load.json.

This process never imports locust: it starts `python -m locust` as child processes (locust patches
the standard library), shows their progress line, reads the raw results the master writes and
builds load.json, budget verdicts, the sweep table and the calibration figures from them.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from schemas import BudgetError, LoadShape

from ._locust import locust_commands as locust_commands  # re-exported: tests build command lines
from ._locust import run_locust
from ._plan import UsageError, resolve_shape, shape_summary
from ._ramp import ramp_seconds
from ._results import budget_passed, build_result
from ._summary import render_summary
from ._target import LoadTarget, LoadTargetError

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
DEFAULT_BISECT_STEPS = 3


def run(args: argparse.Namespace, *, run_dir: Path, locustfile: Path) -> int:
    """Run `compat-suite load` as `args` say, writing load.json into `run_dir`; the exit code."""
    try:
        return _run(args, run_dir, locustfile)
    except (UsageError, BudgetError, LoadTargetError) as exc:
        print(f"compat-suite load: {exc}", file=sys.stderr)
        return EXIT_USAGE


# -- the command -------------------------------------------------------------------------------
def _run(args: argparse.Namespace, run_dir: Path, locustfile: Path) -> int:
    run_dir.mkdir(parents=True, exist_ok=True)
    if args.calibrate:
        from ._calibrate import calibrate

        return calibrate(args, run_dir, locustfile)
    shape, budget = resolve_shape(args)
    _check_workload(args)
    if args.from_raw:
        raw = json.loads(args.from_raw.read_text(encoding="utf-8"))
        result = build_result(
            raw,
            target={"base_url": args.base_url},
            scenario=shape.scenario,
            shape=shape_summary(shape),
            duration_s=shape.duration_s,
            budget=budget,
            lag_threshold_ms=shape.lag_threshold_ms or 50.0,
        )
        return finish(result, run_dir)
    with LoadTarget(vars(args)) as target:
        calibration = None
        if not getattr(args, "no_calibration", False):
            from ._calibrate import measure

            calibration = measure(args, run_dir, locustfile, workers=shape.workers)
        result = run_shape(target, shape, budget, args, run_dir, locustfile)
    result["calibration"] = calibration
    return finish(result, run_dir)


def _check_workload(args: argparse.Namespace) -> None:
    """A dataset or tokenizer that cannot be read is a usage error here, not a crash in every user."""
    from ._prompts import load_conversations
    from ._tokens import token_counter

    try:
        if getattr(args, "dataset", None) or getattr(args, "turns", None):
            load_conversations(args.dataset, args.turns)
        if getattr(args, "tokenizer", None):
            token_counter(args.tokenizer)
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def run_options(shape: LoadShape, args: argparse.Namespace) -> dict[str, Any]:
    """The `--llm-*` options of the locust processes (the target travels in their environment)."""
    options: dict[str, Any] = {
        "max_tokens": shape.max_tokens,
        "seed": args.seed,
        "progress": 0 if args.quiet else 1.0,
        "max_inflight": shape.max_inflight or 256,
    }
    if shape.ramp:
        options["ramp"] = shape.ramp
    if getattr(args, "dataset", None):
        options["dataset"] = str(args.dataset)
    if getattr(args, "turns", None):
        options["turns"] = args.turns
    if getattr(args, "warmup", None) is not None:
        options["warmup"] = args.warmup
    if getattr(args, "tokenizer", None):
        options["tokenizer"] = str(args.tokenizer)
    if getattr(args, "judge_mb", None) is not None:
        options["judge_mb"] = args.judge_mb
    return options


def run_shape(
    target: LoadTarget,
    shape: LoadShape,
    budget: dict[str, Any] | None,
    args: argparse.Namespace,
    run_dir: Path,
    locustfile: Path,
) -> dict[str, Any]:
    """Run the shape (each rate of a sweep in turn) and return the load.json document."""
    options = run_options(shape, args)
    log_path = run_dir / "locust.log"
    lag_threshold = shape.lag_threshold_ms or 50.0
    summary = shape_summary(shape)

    def one(rate: float | None) -> dict[str, Any]:
        started = time.monotonic()
        raw = run_locust(
            target,
            shape,
            locustfile=locustfile,
            rate=rate,
            options={**options, "drain_s": args.drain_s} if rate else options,
            log_path=log_path,
            quiet=args.quiet,
        )
        duration = _duration(shape, raw, started)
        return build_result(
            raw,
            target=target.describe(),
            scenario=shape.scenario,
            shape={**summary, **({"rate": rate} if rate else {})},
            duration_s=duration,
            budget=budget,
            lag_threshold_ms=lag_threshold,
            rate_tolerance=getattr(args, "rate_tolerance", 0.05),
        )

    if not shape.sweep:
        return one(shape.rate)
    return sweep(shape, budget, one, bisect_steps=getattr(args, "bisect", DEFAULT_BISECT_STEPS))


def sweep(
    shape: LoadShape,
    budget: Mapping[str, Any] | None,
    one: Any,
    *,
    bisect_steps: int = 3,
) -> dict[str, Any]:
    """Every listed rate, then bisection between the highest rate that passed (with every lower one)
    and the next that failed, `bisect_steps` times: the highest rate meeting the budget, and the curve."""
    rows: dict[float, dict[str, Any]] = {}
    results: dict[float, dict[str, Any]] = {}

    def step(rate: float) -> bool:
        print(f"compat-suite load: sweep step at {rate:g} requests/s", file=sys.stderr)
        res = one(rate)
        passed = bool(res["valid"]) and (budget_passed(res) if budget else (res["requests"]["failed"] == 0))
        rows[rate] = {"rate": rate, "passed": passed, "valid": res["valid"], "metrics": sweep_metrics(res)}
        results[rate] = res
        return passed

    for rate in sorted(shape.sweep):
        step(rate)
    ordered = sorted(rows)
    best = None
    for rate in ordered:
        if not rows[rate]["passed"]:
            break
        best = rate
    above = next((r for r in ordered if best is None or r > best), None)
    low = best if best is not None else 0.0
    for _ in range(bisect_steps if above is not None else 0):
        mid = round((low + above) / 2, 4)
        if mid <= 0 or mid in rows or above - low <= max(0.01, 0.02 * above):
            break
        step(mid)
        rows[mid]["bisect"] = True
        if rows[mid]["passed"]:
            low, best = mid, mid
        else:
            above = mid
    result = results[best] if best is not None else results[max(results)]
    result["sweep"] = [rows[r] for r in sorted(rows)]
    result["sweep_best_rate"] = best
    result["shape"] = {**shape_summary(shape), "rate": result["shape"].get("rate")}
    return result


def _duration(shape: LoadShape, raw: Mapping[str, Any], started: float) -> float:
    if shape.ramp:
        return ramp_seconds(shape.ramp)
    return shape.duration_s


def sweep_metrics(result: Mapping[str, Any]) -> dict[str, Any]:
    m = result["metrics"]
    return {
        "ttft_p95_ms": m["ttft_ms"]["p95"],
        "tpot_p95_ms": m["tpot_ms"]["p95"],
        "itl_p95_ms": m["itl_ms"]["p95"],
        "e2e_p95_ms": m["e2e_ms"]["p95"],
        "output_tokens_per_s": result["throughput"]["output_tokens_per_s"],
        "requests_per_s": result["throughput"]["requests_per_s"],
        "error_rate": result["throughput"]["error_rate"],
        "lag_p99_ms": result["schedule"]["lag_p99_ms"],
    }


def finish(result: dict[str, Any], run_dir: Path) -> int:
    """Write load.json, print the summary, and return the exit code."""
    accounted = result["requests"]["sent"] == result["requests"]["recorded"]
    result["accounting"] = {
        "sent": result["requests"]["sent"],
        "recorded": result["requests"]["recorded"],
        "complete": accounted,
    }
    result["client_cpu"] = _client_cpu(result)
    result["schedule"]["invalid_reason"] = invalid_reason(result)
    path = run_dir / "load.json"
    path.write_text(json.dumps(result, separators=(",", ":")), encoding="utf-8")
    print(render_summary(result))
    print(f"load results: {path}")
    verdict = budget_passed(result)
    if not accounted or not result["valid"] or verdict is False or result["requests"]["recorded"] == 0:
        return EXIT_FAIL
    return EXIT_OK


def invalid_reason(result: Mapping[str, Any]) -> str | None:
    """Why an open-loop run is invalid, and whether the client or the server held it back."""
    sched = result["schedule"]
    if not sched.get("open_loop") or sched.get("valid", True):
        return None
    what = []
    if not sched.get("rate_ok", True):
        what.append(
            f"achieved {sched['achieved_rps']} req/s against the schedule's {sched['scheduled_rps']} "
            f"(more than {sched['rate_tolerance']:.0%} short)"
        )
    if (sched.get("lag_p99_ms") or 0) > sched["threshold_ms"]:
        what.append(f"p99 schedule lag {sched['lag_p99_ms']} ms over {sched['threshold_ms']} ms")
    cpu = result.get("client_cpu") or {}
    calibration = result.get("calibration") or {}
    capacity = calibration.get("events_per_s_per_core")
    workers = result.get("workers") or {}
    events = sum(result["samples"]["content_events"])
    cpu_s = sum(w.get("cpu_s", 0.0) for w in workers.values())
    near_capacity = bool(capacity and cpu_s and events / cpu_s >= 0.8 * capacity)
    if cpu.get("saturated") or near_capacity:
        bound = (
            f"client-bound: a load process used {cpu.get('busiest_worker_cpu_share')} of a core"
            + (
                f", at {events / cpu_s:.0f} events per CPU-second of a calibrated {capacity}"
                if capacity and cpu_s
                else ""
            )
            + " (add --workers)"
        )
    else:
        bound = (
            "server-bound: the load processes had CPU to spare, so requests waited on --max-inflight "
            "while the server was slow to finish the ones in flight"
        )
    return "; ".join(what) + "; " + bound


def _client_cpu(result: Mapping[str, Any]) -> dict[str, Any]:
    """How busy the load processes were: near 100% of a core means the client may be the bottleneck."""
    workers = result.get("workers") or {}
    duration = result.get("duration_s") or 0
    busiest = max((w.get("cpu_s", 0.0) for w in workers.values()), default=0.0)
    share = busiest / duration if duration else None
    return {
        "busiest_worker_cpu_share": round(share, 3) if share is not None else None,
        "saturated": bool(share is not None and share > 0.85),
    }
