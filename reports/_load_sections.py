"""The load section's parts beyond latency: conformance under load, warm-up, the client's calibration."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._text import printable  # the load file is hostile input too


@dataclass
class ConformanceRow:
    check: str
    severity: str
    endpoint: str
    failed: int
    judged: int
    verdict: str  # the worst verdict seen: fail | deviation | warn | pass
    counts: str
    example: str


@dataclass
class Conformance:
    verdict: str  # pass | warn | fail
    summary: str
    rows: list[ConformanceRow] = field(default_factory=list)


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def conformance(load: dict[str, Any]) -> Conformance | None:
    """Counts per check of the answers judged under load, failing checks first; None when none were judged."""
    section = load.get("conformance")
    if not isinstance(section, dict) or section.get("verdict") not in ("pass", "warn", "fail"):
        return None
    rows = []
    for entry in section.get("checks") or []:
        if not isinstance(entry, dict):
            continue
        verdicts = entry.get("verdicts") if isinstance(entry.get("verdicts"), dict) else {}
        failed = _int(entry.get("failed"))
        severity = printable(str(entry.get("severity") or ""), 20)
        worst = (
            ("fail" if severity == "must" else "warn")
            if failed
            else "deviation"
            if _int(verdicts.get("deviation"))
            else "pass"
        )
        examples = [e for e in entry.get("examples") or [] if isinstance(e, dict)]
        rows.append(
            ConformanceRow(
                check=printable(str(entry.get("check") or ""), 200),
                severity=severity,
                endpoint=printable(str(entry.get("endpoint") or ""), 50),
                failed=failed,
                judged=_int(entry.get("judged")),
                verdict=worst,
                counts=", ".join(f"{printable(str(k), 30)} {_int(v)}" for k, v in sorted(verdicts.items())),
                example=printable(str(examples[0].get("message") or ""), 500) if examples else "",
            )
        )
    judged, judgeable = _int(section.get("judged")), _int(section.get("judgeable"))
    sample = " (a uniform sample)" if section.get("sampled") else ""
    summary = (
        f"{judged} of {judgeable} successful answers judged{sample} by the checks of `compat-suite run`; "
        f"{_int(section.get('nonconformant_responses'))} failed a MUST check (their timings still count; "
        "goodput leaves them out)"
    )
    return Conformance(str(section["verdict"]), summary, rows)


def warmup_pairs(load: dict[str, Any]) -> list[tuple[str, str]]:
    """The warm-up requests, left out of the percentiles: how many, and their TTFT and E2E."""
    warm = load.get("warmup")
    if not isinstance(warm, dict) or not _int(warm.get("count")):
        return []
    pairs = [("warm-up requests", str(_int(warm.get("count"))))]
    metrics = warm.get("metrics") if isinstance(warm.get("metrics"), dict) else {}
    for name, label in (("ttft_ms", "TTFT"), ("e2e_ms", "E2E")):
        entry = metrics.get(name) if isinstance(metrics.get(name), dict) else {}
        if isinstance(entry.get("p50"), int | float):
            pairs.append((f"{label} p50 / max (ms)", f"{entry['p50']:.2f} / {entry.get('max') or 0:.2f}"))
    return pairs


def calibration_pairs(load: dict[str, Any]) -> list[tuple[str, str]]:
    """The client's own overhead, measured against an instant server at the start of the run."""
    cal = load.get("calibration")
    if not isinstance(cal, dict):
        return []
    added = cal.get("added_ttft_ms") if isinstance(cal.get("added_ttft_ms"), dict) else {}
    pairs = [
        (f"added TTFT {q} (ms)", f"{added[q]:.3f}")
        for q in ("p50", "p95", "p99")
        if isinstance(added.get(q), int | float)
    ]
    if isinstance(cal.get("events_per_s_per_core"), int | float):
        pairs.append(("events/s per core", f"{cal['events_per_s_per_core']:.0f}"))
    if isinstance(cal.get("load_processes"), int):
        pairs.append(("load processes", str(cal["load_processes"])))
    return pairs
