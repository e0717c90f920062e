"""`compat-suite load --calibrate`: the load client's own overhead, measured against an instant server.

The instant server (in this process) writes each answer the moment it has read the request, so
its time to first byte is near zero; the TTFT the client measures beyond that is the client's own
added latency. Events per second per worker core (content events over the CPU seconds the load
processes used) says when the client, not the server, is the bottleneck.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from schemas import LoadShape

from ._instant import MODEL, InstantServer


class InstantTarget:
    """The instant server as a load target (what `run_shape` needs of one)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.api_key: str | None = None
        self.headers: dict[str, str] = {}
        self.model = self.embedding_model = MODEL
        self.secrets: tuple[str, ...] = ()

    def describe(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "model": MODEL,
            "embedding_model": MODEL,
            "profile": None,
            "embedded": True,
            "engine": "instant-sse (calibration)",
        }

    def environment(self) -> dict[str, str]:
        return {"COMPAT_MODEL": MODEL, "COMPAT_EMBEDDING_MODEL": MODEL, "COMPAT_PROFILE": "openai"}


def calibration_figures(result: Mapping[str, Any], server: Mapping[str, Any]) -> dict[str, Any]:
    """Added TTFT (client TTFT - server TTFB) and events/s per worker core from one calibration run."""
    ttft = result["metrics"]["ttft_ms"]
    server_ttfb = server["ttfb_ms"]
    events = sum(result["samples"]["content_events"])
    cpu_s = sum(w.get("cpu_s", 0.0) for w in (result.get("workers") or {}).values())
    processes = max(1, len(result.get("workers") or {}))
    duration = result["duration_s"]

    def added(q: str) -> float | None:
        if ttft[q] is None or server_ttfb[q] is None:
            return None
        return round(ttft[q] - server_ttfb[q], 4)

    return {
        "client_ttft_ms": {q: ttft[q] for q in ("p50", "p95", "p99")},
        "server_ttfb_ms": {q: server_ttfb[q] for q in ("p50", "p95", "p99")},
        "added_ttft_ms": {q: added(q) for q in ("p50", "p95", "p99")},
        "content_events": events,
        "client_cpu_s": round(cpu_s, 3),
        "events_per_s_per_core": round(events / cpu_s, 1) if cpu_s else None,
        "events_per_s_per_process": round(events / duration / processes, 1) if duration else None,
        "requests_per_s": result["throughput"]["requests_per_s"],
        "load_processes": processes,
    }


def render(figures: Mapping[str, Any]) -> str:
    a, c, s = figures["added_ttft_ms"], figures["client_ttft_ms"], figures["server_ttfb_ms"]
    return "\n".join(
        [
            "calibration (client overhead against an instant in-process SSE server):",
            f"  added TTFT: p50 {a['p50']} ms, p95 {a['p95']} ms, p99 {a['p99']} ms "
            f"(client TTFT p50 {c['p50']} ms - server TTFB p50 {s['p50']} ms)",
            f"  events/s per worker core: {figures['events_per_s_per_core']} "
            f"({figures['content_events']} content events in {figures['client_cpu_s']} CPU s of "
            f"{figures['load_processes']} load process(es)); wall events/s per process: "
            f"{figures['events_per_s_per_process']}; requests/s: {figures['requests_per_s']}",
        ]
    )


# The short run at the start of every load run: enough streams to see the client's overhead.
START_DURATION_S = 3.0
START_USERS = 8
START_MAX_TOKENS = 64


def _run(
    args: argparse.Namespace, run_dir: Path, locustfile: Path, shape: LoadShape
) -> tuple[dict[str, Any], dict[str, Any]]:
    from ._runner import run_shape

    # The calibration sends the built-in prompts with no warm-up window, whatever the run sends.
    plain = argparse.Namespace(
        **{**vars(args), "dataset": None, "turns": None, "warmup": None, "tokenizer": None, "judge_mb": 0}
    )
    with InstantServer() as server:
        print(
            f"compat-suite load: calibrating against the instant server at {server.base_url}", file=sys.stderr
        )
        result = run_shape(InstantTarget(server.base_url), shape, None, plain, run_dir, locustfile)  # type: ignore[arg-type]
        return result, calibration_figures(result, server.stats.summary())


def measure(args: argparse.Namespace, run_dir: Path, locustfile: Path, *, workers: int) -> dict[str, Any]:
    """The calibration figures of a short instant-server run with the run's own worker count."""
    shape = LoadShape(
        name="calibration",
        duration_s=START_DURATION_S,
        users=START_USERS,
        scenario="chat-stream",
        max_tokens=START_MAX_TOKENS,
        workers=workers,
    )
    _result, figures = _run(args, run_dir, locustfile, shape)
    print(render(figures), file=sys.stderr)
    return figures


def calibrate(args: argparse.Namespace, run_dir: Path, locustfile: Path) -> int:
    """`--calibrate`: the calibration run alone, as the run's load.json."""
    from ._runner import finish

    shape = LoadShape(
        name="calibration",
        duration_s=args.duration or 5.0,
        users=args.users or 8,
        scenario="chat-stream",
        max_tokens=args.max_tokens or 64,
        workers=args.workers or 0,
    )
    result, figures = _run(args, run_dir, locustfile, shape)
    result["calibration"] = figures
    rc = finish(result, run_dir)
    print(render(figures))
    return rc
