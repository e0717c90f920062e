"""The human-readable summary printed at the end of a load run."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def render_summary(result: Mapping[str, Any]) -> str:
    """The human-readable summary printed at the end of a run."""
    req = result["requests"]
    lines = [
        f"target: {result['target'].get('base_url')}  scenario: {result['scenario']}  shape: "
        + ", ".join(f"{k}={v}" for k, v in result["shape"].items()),
        f"requests: sent {req['sent']}, completed {req['completed']}, failed {req['failed']}, "
        f"cancelled at stop {req['cancelled']}; recorded {req['recorded']}",
        f"{'metric':<10}{'p50':>10}{'p90':>10}{'p95':>10}{'p99':>10}{'mean':>10}{'count':>8}",
    ]
    for name, s in result["metrics"].items():
        cells = "".join(f"{_fmt(s[k]):>10}" for k in ("p50", "p90", "p95", "p99", "mean"))
        lines.append(f"{name:<10}{cells}{s['count']:>8}")
    tp = result["throughput"]
    lines.append(
        f"throughput: {tp['requests_per_s']} req/s, {tp['output_tokens_per_s']} output tokens/s, "
        f"error rate {tp['error_rate']}"
        + (f", goodput {tp['goodput_rps']} req/s" if tp.get("goodput_rps") is not None else "")
    )
    warm = result.get("warmup") or {}
    if warm.get("count"):
        ttft = (warm.get("metrics") or {}).get("ttft_ms") or {}
        lines.append(
            f"warm-up: {warm['count']} request(s) left out of the percentiles (TTFT p50 {_fmt(ttft.get('p50'))} ms)"
        )
    conf = result.get("conformance") or {}
    if conf.get("verdict"):
        lines.append(
            f"conformance under load: {conf['verdict'].upper()}: {conf['judged']} of {conf['judgeable']} answers "
            f"judged{' (a uniform sample)' if conf.get('sampled') else ''}, "
            f"{conf['nonconformant_responses']} failed a MUST check"
        )
        for row in conf["checks"]:
            if row["failed"]:
                example = row["examples"][0]["message"] if row["examples"] else ""
                lines.append(
                    f"  {row['check']} ({row['severity']}): failed {row['failed']} of {row['judged']}"
                    + (f": {example}" if example else "")
                )
    tok = result["tokens"]
    if tok["usage_vs_events_mismatch"]:
        lines.append(
            f"tokens: usage disagrees with content events in {tok['usage_vs_events_mismatch']} of "
            f"{tok['streamed_requests']} streams (several tokens per event?)"
        )
    if not tok["usage_reported"]:
        lines.append("tokens: the target reported no usage; output tokens are counted content events")
    sched = result["schedule"]
    if sched.get("open_loop"):
        lines.append(
            f"schedule: achieved {sched.get('achieved_rps')} req/s of the schedule's {sched.get('scheduled_rps')} "
            f"(configured {sched.get('configured_rps')}); lag p50 {sched['lag_p50_ms']} ms, p99 "
            f"{sched['lag_p99_ms']} ms, max {sched['max_lag_ms']} ms; threshold {sched['threshold_ms']} ms -> "
            + (
                "valid"
                if sched["valid"]
                else f"INVALID: {sched.get('invalid_reason') or 'the schedule was not kept'}"
            )
        )
    for err in result["errors"][:5]:
        lines.append(f"error: {err['error']} x{err['count']}")
    cpu = result.get("client_cpu") or {}
    if cpu.get("saturated"):
        lines.append(
            f"warning: a load process used {cpu['busiest_worker_cpu_share']:.0%} of a core; the client "
            "may be the bottleneck (add --workers, see --calibrate)"
        )
    for row in result.get("sweep") or ():
        lines.append(
            f"sweep: {row['rate']:g} req/s -> {'PASS' if row['passed'] else 'FAIL'} {row['metrics']}"
        )
    if result.get("sweep"):
        lines.append(f"sweep: highest rate meeting the budget (bisected): {result.get('sweep_best_rate')}")
    cal = result.get("calibration")
    if cal:
        added = cal["added_ttft_ms"]
        lines.append(
            f"client calibration: added TTFT p50 {added['p50']} ms, p95 {added['p95']} ms, p99 {added['p99']} ms; "
            f"{cal['events_per_s_per_core']} events/s per core"
        )
    budget = result.get("budget")
    if budget:
        for r in budget["results"]:
            mark = {True: "PASS", False: "FAIL", None: "SKIP"}[r["passed"]]
            lines.append(
                f"budget {budget['name']}/{budget['shape']}: {r['metric']} {mark} observed "
                f"{r['observed']} limit {r['limit']}" + (f" ({r['reason']})" if r["reason"] else "")
            )
    if not result.get("accounting", {}).get("complete", True):
        lines.append(f"ACCOUNTING: sent {req['sent']} but recorded {req['recorded']}")
    lines.append("formulas (vLLM benchmark definitions):")
    lines += [f"  {k}: {v}" for k, v in result["formulas"].items()]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}"
