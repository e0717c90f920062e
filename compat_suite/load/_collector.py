"""The sample collector of a load run: each locust process records its requests here and ships
them (and its verdicts on the captured answers) to the master, which keeps the union and writes it.

It runs in locust processes only (compat_suite.load.users wires it to locust's events), but imports
neither locust nor gevent at module level.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from schemas import load_profile, parse_headers

from ._client import Captured
from ._judge import DEFAULT_SPOOL_BYTES, Spool, judge, judgeable
from ._metrics import NS_PER_MS, RequestTiming, sample_from_timing
from ._samples import SampleTable, encode_histograms, merge_encoded
from ._target import target_from_environment

if TYPE_CHECKING:
    from locust.env import Environment

PROGRESS_PREFIX = "LLM-PROGRESS"
# perf_counter_ns is per machine; samples carry wall-clock start times so workers line up.
_ANCHOR_UNIX_NS = time.time_ns()
_ANCHOR_PERF_NS = time.perf_counter_ns()


def unix_s(perf_ns: int) -> float:
    return (_ANCHOR_UNIX_NS + perf_ns - _ANCHOR_PERF_NS) / 1e9


class Collector:
    """Per-process sample store; on the master, the union of every worker's samples."""

    def __init__(self, environment: Environment) -> None:
        self.environment = environment
        self.worker_id = "local"
        self.pending = SampleTable()  # recorded here, not yet shipped
        self.merged = SampleTable()  # master/standalone: everything received
        self.histograms: dict = {}
        self.sent = 0
        self.recorded = 0
        self.workers: dict[str, dict[str, Any]] = {}
        self.cpu_start = time.process_time()
        self.started_unix = time.time()
        self.test_start_ns = time.perf_counter_ns()
        opts = environment.parsed_options
        budget = getattr(opts, "llm_judge_mb", DEFAULT_SPOOL_BYTES / 2**20) if opts else 0
        self.spool = Spool(int(budget * 2**20), seed=os.getpid())
        self.conformance: dict[str, dict[str, Any]] = {}  # master/standalone: each worker's verdicts

    # -- every process -------------------------------------------------------------------------
    def on_request_start(self) -> None:
        self.sent += 1

    def is_warmup(self, first_of_user: bool) -> bool:
        """A warm-up request: started within --llm-warmup seconds, or (by default) a user's first."""
        seconds = getattr(self.environment.parsed_options, "llm_warmup", -1.0)
        if seconds is None or seconds < 0:
            return first_of_user
        return (time.perf_counter_ns() - self.test_start_ns) / 1e9 < seconds

    def record(self, timing: RequestTiming, captured: Captured | None = None) -> None:
        sample = sample_from_timing(timing)
        self.recorded += 1
        seq = self.recorded
        self.pending.add(sample, t=unix_s(timing.start_ns), worker=self.worker_id, seq=seq)
        if timing.error is None and judgeable(captured):
            assert captured is not None
            self.spool.offer(seq, captured)
        # Locust's own statistics get the request too (its table and CSV stay meaningful).
        elapsed = ((timing.end_ns or timing.start_ns) - timing.start_ns) / NS_PER_MS
        self.environment.events.request.fire(
            request_type="POST",
            name=timing.kind,
            response_time=elapsed,
            response_length=sample.output_tokens,
            exception=RuntimeError(timing.error) if timing.error else None,
            context={},
        )

    def judge(self) -> dict[str, Any]:
        """Judge this process's captured answers (after the load: never on the hot path)."""
        import gevent  # only locust processes judge, and they run on gevent already

        target = target_from_environment(os.environ)
        verdicts = judge(
            self.spool,
            load_profile(target["profile"]),
            self.environment.host or "",
            secrets=tuple(s for s in (target["api_key"], *parse_headers(target["header"]).values()) if s),
            pause=lambda: gevent.sleep(0),
        )
        self.spool = Spool(0)  # judged: free the bytes
        return verdicts.to_json()

    def batch(self, final: bool) -> dict[str, Any]:
        table = self.pending.drain()
        cpu_s = round(time.process_time() - self.cpu_start, 4)  # the load's CPU, judging excluded
        conformance = self.judge() if final else None
        judge_cpu_s = round(time.process_time() - self.cpu_start - cpu_s, 4) if final else 0.0
        return {
            "worker": self.worker_id,
            "samples": table.to_json(),
            "histograms": encode_histograms(table.histograms()),
            "sent": self.sent,
            "recorded": self.recorded,
            "cpu_s": cpu_s,
            "judge_cpu_s": judge_cpu_s,
            "final": final,
            "conformance": conformance,
        }

    # -- master / standalone -------------------------------------------------------------------
    def absorb(self, batch: dict[str, Any]) -> None:
        self.merged.extend(SampleTable.from_json(batch["samples"]))
        merge_encoded(self.histograms, batch["histograms"])
        info = self.workers.setdefault(batch["worker"], {"shipped": 0})
        info["shipped"] += len(batch["samples"]["t"])
        info.update(sent=batch["sent"], recorded=batch["recorded"], cpu_s=batch["cpu_s"])
        info["judge_cpu_s"] = batch.get("judge_cpu_s", 0.0)
        info["final"] = info.get("final", False) or batch["final"]
        verdicts = batch.get("conformance")
        # A process stopped twice ships a second, empty verdict: it must not replace the first.
        if verdicts is not None and (verdicts["offered"] or batch["worker"] not in self.conformance):
            self.conformance[batch["worker"]] = verdicts

    def write(self) -> None:
        out = getattr(self.environment.parsed_options, "llm_out", "")
        if not out:
            return
        data = {
            "started_unix": self.started_unix,
            "stopped_unix": time.time(),
            "sent": sum(w["sent"] for w in self.workers.values()),
            "recorded": len(self.merged),
            "workers": self.workers,
            "samples": self.merged.to_json(),
            "histograms": encode_histograms(self.histograms),
            "conformance": self.conformance,
        }
        tmp = Path(out).with_suffix(".tmp")
        tmp.write_text(json.dumps(data), encoding="utf-8")
        tmp.replace(out)

    def progress_line(self) -> str:
        done = self.merged.columns["error"]
        failed = sum(1 for e in done if e is not None and e != "cancelled")
        sent = sum(w["sent"] for w in self.workers.values()) if self.workers else self.sent
        ttft = sorted(self.merged.values("ttft_ms")[-500:])
        ttft_p50 = f"{ttft[len(ttft) // 2]:.1f}ms" if ttft else "-"
        elapsed = time.time() - self.started_unix
        return (
            f"{PROGRESS_PREFIX} t={elapsed:.0f}s users={self.environment.runner.user_count if self.environment.runner else 0}"
            f" sent={sent} recorded={len(done)} failed={failed} ttft_p50(last 500)={ttft_p50}"
        )
