"""Open-loop arrival schedules, and a dispatcher that fires on schedule (no coordinated omission).

A closed-loop client waits for a reply before it sends again, so a slow server slows the load and
hides its own queueing. Open loop fixes each request's intended start in advance (constant or
Poisson arrivals) and fires it then, whether or not earlier ones have finished; the only brake is a
cap on requests in flight, and waiting on that cap is recorded as lag. The dispatcher takes its
clock, sleep and launch functions as arguments, so it runs under gevent (in locust) and under a
fake clock (in tests) alike.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from ._metrics import NS_PER_MS, summarize

Arrival = Literal["constant", "poisson"]
DEFAULT_LAG_THRESHOLD_MS = 50.0


def arrival_offsets(
    rate: float, arrival: Arrival, duration_s: float, seed: int | None = None
) -> Iterator[float]:
    """Intended start offsets in seconds within `[0, duration_s)` for `rate` requests per second."""
    if rate <= 0:
        raise ValueError(f"rate must be positive, got {rate}")
    if arrival not in ("constant", "poisson"):
        raise ValueError(f"arrival must be constant or poisson, got {arrival!r}")
    rng = random.Random(seed)
    t = 0.0
    k = 0
    while True:
        if arrival == "constant":
            t = k / rate
        elif k:
            t += rng.expovariate(rate)
        if t >= duration_s:
            return
        yield t
        k += 1


@dataclass
class Dispatch:
    """One scheduled request: when it was meant to go, and when the dispatcher let it go."""

    intended_ns: int
    dispatched_ns: int

    @property
    def lag_ms(self) -> float:
        return (self.dispatched_ns - self.intended_ns) / NS_PER_MS


@dataclass
class OpenLoopDispatcher:
    """Fires `launch(intended_ns)` at each intended start; `acquire()` blocks while the in-flight cap is hit."""

    launch: Callable[[int], None]
    acquire: Callable[[], None] = lambda: None
    clock_ns: Callable[[], int] = time.perf_counter_ns
    sleep: Callable[[float], None] = time.sleep
    dispatches: list[Dispatch] = field(default_factory=list)

    def run(self, offsets_s: Iterable[float], *, start_ns: int | None = None) -> list[Dispatch]:
        t0 = self.clock_ns() if start_ns is None else start_ns
        for offset in offsets_s:
            intended = t0 + int(offset * 1e9)
            remaining = (intended - self.clock_ns()) / 1e9
            if remaining > 0:
                self.sleep(remaining)
            self.acquire()  # a full in-flight cap delays this request: that delay is lag
            self.dispatches.append(Dispatch(intended, self.clock_ns()))
            self.launch(intended)
        return self.dispatches


def schedule_stats(lags_ms: Sequence[float], threshold_ms: float = DEFAULT_LAG_THRESHOLD_MS) -> dict:
    """Lag statistics of an open-loop run; the run is valid while its p99 lag stays within the threshold."""
    if not lags_ms:
        return {
            "open_loop": False,
            "valid": True,
            "threshold_ms": threshold_ms,
            "lag_p50_ms": None,
            "lag_p99_ms": None,
            "max_lag_ms": None,
            "late": 0,
            "count": 0,
        }
    summary = summarize(lags_ms)
    p99 = float(summary["p99"] or 0.0)
    return {
        "open_loop": True,
        "valid": p99 <= threshold_ms,
        "threshold_ms": threshold_ms,
        "lag_p50_ms": summary["p50"],
        "lag_p99_ms": summary["p99"],
        "max_lag_ms": summary["max"],
        "late": sum(1 for v in lags_ms if v > threshold_ms),
        "count": len(lags_ms),
    }


def achieved_rate(
    starts_s: Sequence[float], lags_ms: Sequence[float | None], shape: Mapping[str, Any], tolerance: float
) -> dict[str, Any]:
    """Did the client send what its schedule planned? The rate achieved within the schedule's window
    (requests actually started in it) against the rate the schedule held (its arrivals; for Poisson
    arrivals the realised count, which differs from the configured rate by chance) and the configured
    one. `rate_ok` is False when the achieved rate falls more than `tolerance` below the schedule's."""
    intended = [t - lag / 1000.0 for t, lag in zip(starts_s, lags_ms, strict=True) if lag is not None]
    duration = float(shape.get("duration_s") or 0.0)
    configured = shape.get("rate")
    if not intended or duration <= 0:
        return {"configured_rps": configured, "scheduled_rps": None, "achieved_rps": None, "rate_ok": True}
    t0 = min(intended)
    started = sum(
        1 for t, lag in zip(starts_s, lags_ms, strict=True) if lag is not None and t - t0 < duration
    )
    scheduled = len(intended) / duration
    achieved = started / duration
    return {
        "configured_rps": configured,
        "scheduled_rps": round(scheduled, 4),
        "achieved_rps": round(achieved, 4),
        "rate_tolerance": tolerance,
        "rate_ok": achieved >= scheduled * (1 - tolerance),
    }
