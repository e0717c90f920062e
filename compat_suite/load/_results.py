"""Turn the raw results of a locust run into `load.json` (format: compat_suite/load/README.md)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from schemas import evaluate_budget

from ._judge import merge as merge_verdicts
from ._metrics import FORMULAS, goodput_count, percentile, summarize
from ._samples import HISTOGRAM_METRICS, SampleTable, histogram_buckets, merge_encoded
from ._schedule import DEFAULT_LAG_THRESHOLD_MS, achieved_rate, schedule_stats

LOAD_JSON_VERSION = 1
CANCELLED = "cancelled"
CURVE_POINTS = (*range(0, 100, 5), 99, 99.9, 100)


def build_result(
    raw: Mapping[str, Any],
    *,
    target: Mapping[str, Any],
    scenario: str,
    shape: Mapping[str, Any],
    duration_s: float,
    budget: Mapping[str, Any] | None = None,
    lag_threshold_ms: float = DEFAULT_LAG_THRESHOLD_MS,
    rate_tolerance: float = 0.05,
) -> dict[str, Any]:
    """The load.json document of one run. `budget`: {"name", "shape", "limits"} or None."""
    table = SampleTable.from_json(raw["samples"])
    cols = table.columns
    n = len(table)
    errors = cols["error"]
    cancelled = sum(1 for e in errors if e == CANCELLED)
    failed = sum(1 for e in errors if e is not None and e != CANCELLED)
    completed = n - failed - cancelled
    finished = completed + failed
    t0 = min(cols["t"]) if n else float(raw.get("started_unix", 0.0))
    ok = [e is None for e in errors]
    out_tokens = sum(tok for tok, good in zip(cols["output_tokens"], ok, strict=True) if good)
    usage_seen = any(u is not None for u, good in zip(cols["usage_tokens"], ok, strict=True) if good)
    streamed = [i for i in range(n) if ok[i] and cols["content_events"][i] > 0]
    mismatched = [
        i
        for i in streamed
        if cols["usage_tokens"][i] is not None and cols["usage_tokens"][i] != cols["content_events"][i]
    ]
    metrics = {m: summarize(table.values(m)) for m in HISTOGRAM_METRICS}
    hists: dict = {}
    merge_encoded(hists, raw.get("histograms", {}))
    slos = {
        k.replace("_p95", ""): v
        for k, v in (budget or {}).get("limits", {}).items()
        if k in ("ttft_p95_ms", "tpot_p95_ms", "e2e_p95_ms")
    }
    conformance = conformance_section(raw.get("conformance") or {}, table)
    measured = [i for i in range(n) if not cols["warmup"][i]]
    flags = conformance.pop("_conformant")
    good = (
        goodput_count(_samples_for_goodput(table, measured), slos, [flags[i] for i in measured])
        if slos
        else None
    )
    throughput = {
        "requests_per_s": round(completed / duration_s, 4) if duration_s else None,
        "output_tokens_per_s": round(out_tokens / duration_s, 4) if duration_s and usage_seen else None,
        "output_tokens": out_tokens,
        "error_rate": round(failed / finished, 6) if finished else None,
        "goodput_rps": round(good / duration_s, 4) if good is not None and duration_s else None,
        "goodput_slos_ms": slos or None,
    }
    lags = [v for v in cols["lag_ms"] if v is not None]
    schedule = schedule_stats(lags, lag_threshold_ms)
    if schedule["open_loop"]:
        schedule.update(achieved_rate(cols["t"], cols["lag_ms"], shape, rate_tolerance))
        schedule["valid"] = schedule["valid"] and schedule["rate_ok"]
    result: dict[str, Any] = {
        "version": LOAD_JSON_VERSION,
        "target": dict(target),
        "scenario": scenario,
        "shape": dict(shape),
        "started": datetime.fromtimestamp(t0, UTC).isoformat(timespec="seconds") if t0 else None,
        "duration_s": duration_s,
        "requests": {
            "sent": raw.get("sent", n),
            "recorded": n,
            "completed": completed,
            "failed": failed,
            "cancelled": cancelled,
        },
        "workers": raw.get("workers", {}),
        "metrics": metrics,
        "throughput": throughput,
        "tokens": {
            "usage_reported": usage_seen,
            "streamed_requests": len(streamed),
            "usage_vs_events_mismatch": len(mismatched),
            "mismatch_examples": [
                {"usage": cols["usage_tokens"][i], "content_events": cols["content_events"][i]}
                for i in mismatched[:5]
            ],
        },
        "warmup": {
            "count": n - len(measured),
            "metrics": {m: summarize(table.values(m, warmup=True)) for m in ("ttft_ms", "e2e_ms")},
        },
        "conformance": conformance,
        "histograms": {m: histogram_buckets(h) for m, h in sorted(hists.items())},
        "percentile_curves": {m: _curve(table.values(m)) for m in HISTOGRAM_METRICS},
        "timeline": _timeline(table, t0),
        "errors": _error_counts(errors),
        "samples": {
            **{k: v for k, v in cols.items() if k != "t"},
            "t": [round(t - t0, 6) for t in cols["t"]],
            "itl_ms": table.itl_ms,
        },
        "schedule": schedule,
        "valid": schedule["valid"],
        "budget": None,
        "sweep": [],
        "formulas": FORMULAS,
    }
    if budget is not None:
        result["budget"] = {
            "name": budget.get("name"),
            "shape": budget.get("shape"),
            "results": evaluate_budget(budget.get("limits", {}), result),
        }
    return result


def budget_passed(result: Mapping[str, Any]) -> bool | None:
    """False if any budget metric was missed, True if all evaluable ones passed, None without a budget."""
    budget = result.get("budget")
    if not budget:
        return None
    return all(r["passed"] is not False for r in budget["results"])


def conformance_section(by_worker: Mapping[str, Any], table: SampleTable) -> dict[str, Any]:
    """The conformance findings of the run: counts per check and verdict, and one flag per sample
    (`_conformant`: no MUST check failed on it; popped by the caller)."""
    cols = table.columns
    failed = {(worker, int(seq)) for worker, part in by_worker.items() for seq in part.get("failed_must", {})}
    flags = [(w, s) not in failed for w, s in zip(cols["worker"], cols["seq"], strict=True)]
    merged = merge_verdicts(by_worker.values())
    rows = []
    for check_id, entry in merged["checks"].items():
        verdicts = entry["verdicts"]
        rows.append(
            {
                "check": check_id,
                "severity": entry["severity"],
                "endpoint": entry["endpoint"],
                "verdicts": verdicts,
                "failed": verdicts.get("fail", 0),
                "judged": sum(n for v, n in verdicts.items() if v not in ("not-applicable", "inconclusive")),
                "examples": entry["examples"],
            }
        )
    rows.sort(key=lambda r: (-r["failed"], r["severity"] != "must", r["check"]))
    must_failed = any(r["failed"] and r["severity"] == "must" for r in rows)
    should_failed = any(r["failed"] and r["severity"] != "must" for r in rows)
    return {
        "judged": merged["judged"],
        "judgeable": merged["offered"],
        "sampled": merged["judged"] < merged["offered"],
        "nonconformant_responses": len(failed),
        "verdict": None
        if not merged["judged"]
        else "fail"
        if must_failed
        else "warn"
        if should_failed
        else "pass",
        "checks": rows,
        "_conformant": flags,
    }


def _samples_for_goodput(table: SampleTable, rows: list[int]) -> list[Any]:
    from ._metrics import RequestSample

    cols = table.columns
    return [
        RequestSample(
            kind=cols["kind"][i],
            ok=cols["error"][i] is None,
            status=cols["status"][i],
            error=cols["error"][i],
            ttfb_ms=None,
            tfe_ms=None,
            ttft_ms=cols["ttft_ms"][i],
            tpot_ms=cols["tpot_ms"][i],
            e2e_ms=cols["e2e_ms"][i],
            itl_ms=(),
            output_tokens=cols["output_tokens"][i],
            content_events=cols["content_events"][i],
            usage_tokens=cols["usage_tokens"][i],
            lag_ms=cols["lag_ms"][i],
        )
        for i in rows
    ]


def _curve(values: list[float]) -> list[list[float]]:
    """`[[percentile, value_ms], ...]` from p0 to p100 (the report's percentile plot)."""
    data = sorted(values)
    if not data:
        return []
    return [[q, round(percentile(data, q), 4)] for q in CURVE_POINTS]


def _timeline(table: SampleTable, t0: float) -> list[dict[str, Any]]:
    """Per-second buckets by request start: requests started, output tokens, errors."""
    cols = table.columns
    if not len(table):
        return []
    last = max(math.floor(t - t0) for t in cols["t"])
    rows = [{"t": s, "requests": 0, "output_tokens": 0, "errors": 0} for s in range(last + 1)]
    for t, tokens, err in zip(cols["t"], cols["output_tokens"], cols["error"], strict=True):
        row = rows[math.floor(t - t0)]
        row["requests"] += 1
        row["output_tokens"] += tokens or 0
        if err is not None and err != CANCELLED:
            row["errors"] += 1
    return rows


def _error_counts(errors: list[str | None]) -> list[dict[str, Any]]:
    counts: dict[str, int] = {}
    for e in errors:
        if e is not None:
            counts[e] = counts.get(e, 0) + 1
    return [{"error": k, "count": v} for k, v in sorted(counts.items(), key=lambda kv: -kv[1])]
