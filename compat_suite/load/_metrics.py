"""Per-request LLM latency metrics from arrival timestamps, and their summaries.

The definitions follow vLLM's serving benchmark (`vllm/benchmarks/serve.py::calculate_metrics`),
so numbers from this suite compare with numbers from `vllm bench serve`. `FORMULAS` states them
in words; the report prints it verbatim.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

NS_PER_MS = 1_000_000

FORMULAS: dict[str, str] = {
    "source": "vLLM benchmarks/serve.py calculate_metrics (vllm bench serve)",
    "timestamps": "arrival = the kernel's receive stamp of the read that completed the bytes "
    "(SO_TIMESTAMPNS; the clock when the read returned where the kernel gives none); request sent = "
    "the request's bytes handed to the kernel, on an open connection",
    "ttfb_ms": "time to first byte: first byte of the response received - request sent",
    "tfe_ms": "time to first event: arrival of the first complete SSE event - request sent",
    "ttft_ms": "time to first token: arrival of the first SSE event with non-empty content - request sent",
    "e2e_ms": "end-to-end latency: last byte of the response received - request sent",
    "tpot_ms": "time per output token, excluding the first: (E2E - TTFT) / (output_tokens - 1), "
    "for requests with output_tokens > 1",
    "itl_ms": "inter-token latency, per token (vLLM #27485): the gap before a content event that "
    "carries k tokens counts k times as gap / k; the first event's extra tokens count 0 ms; k from "
    "per-chunk usage (continuous usage stats) where every content event has it, else the "
    "tokenizer's count of the event's text (--tokenizer), else 1; pooled over all requests",
    "output_tokens": "usage.completion_tokens (stream_options.include_usage); the number of content "
    "events when usage is absent, and a mismatch between the two is reported",
    "goodput_rps": "requests meeting every SLO (TTFT, TPOT, E2E limits of the budget) and passing "
    "every MUST conformance check / duration (warm-up requests excluded)",
    "warmup": "warm-up requests (each user's first, or those started in the first --warmup seconds) "
    "are left out of percentiles, histograms and goodput and shown apart",
    "output_tokens_per_s": "sum of output tokens of successful requests / duration",
    "schedule_lag_ms": "open loop only: actual start - intended start of each request",
}

PERCENTILES = (50, 90, 95, 99)


@dataclass
class RequestTiming:
    """Raw timestamps (`time.perf_counter_ns()`) and counts of one request, as the client saw it."""

    kind: str  # chat-stream | chat | completions | completions-stream | embeddings
    start_ns: int
    intended_ns: int | None = None  # open loop: when the schedule wanted it sent
    first_byte_ns: int | None = None
    first_event_ns: int | None = None
    content_ns: list[int] = field(default_factory=list)  # arrival of each event with non-empty content
    end_ns: int | None = None
    status: int | None = None
    error: str | None = None  # None on success; otherwise a short type ("http-429", "timeout", ...)
    usage_tokens: int | None = None  # usage.completion_tokens as reported
    events: int = 0  # SSE data events, [DONE] excluded
    done: bool = False  # the stream ended with [DONE]
    warmup: bool = False
    content_usage: list[int | None] = field(default_factory=list)  # cumulative usage per content event
    content_counts: list[int] = field(default_factory=list)  # tokenizer count per content event
    text: list[str] = field(default_factory=list)  # the generated text, in pieces (for multi-turn)


@dataclass(frozen=True)
class RequestSample:
    """The metrics of one request, in milliseconds; None where a metric does not apply."""

    kind: str
    ok: bool
    status: int | None
    error: str | None
    ttfb_ms: float | None
    tfe_ms: float | None
    ttft_ms: float | None
    tpot_ms: float | None
    e2e_ms: float | None
    itl_ms: tuple[float, ...]
    output_tokens: int
    content_events: int
    usage_tokens: int | None
    lag_ms: float | None
    warmup: bool = False

    @property
    def token_mismatch(self) -> bool:
        """Usage and the counted content events disagree (only meaningful for streams)."""
        return (
            self.usage_tokens is not None
            and self.content_events > 0
            and (self.usage_tokens != self.content_events)
        )


def _ms(later: int | None, earlier: int) -> float | None:
    return None if later is None else (later - earlier) / NS_PER_MS


def tokens_per_event(t: RequestTiming) -> list[int]:
    """How many tokens each content event carried: per-chunk usage where every content event has
    it, else the tokenizer's counts, else one each."""
    usage = t.content_usage
    if usage and len(usage) == len(t.content_ns) and all(u is not None for u in usage):
        counts, before = [], 0
        for so_far in usage:
            assert so_far is not None
            counts.append(max(1, so_far - before))
            before = so_far
        return counts
    if t.content_counts and len(t.content_counts) == len(t.content_ns):
        return [max(1, c) for c in t.content_counts]
    return [1] * len(t.content_ns)


def per_token_itl(content_ns: list[int], counts: list[int]) -> tuple[float, ...]:
    """vLLM's per-token ITL: a gap before an event of k tokens counts k times as gap / k, and the
    first event's k - 1 extra tokens count 0 ms."""
    if not content_ns:
        return ()
    out = [0.0] * (counts[0] - 1)
    for before, now, k in zip(content_ns, content_ns[1:], counts[1:], strict=False):
        out += [(now - before) / NS_PER_MS / k] * k
    return tuple(out)


def sample_from_timing(t: RequestTiming) -> RequestSample:
    """Derive the vLLM-defined metrics of one request from its timestamps."""
    ok = t.error is None
    ttft = _ms(t.content_ns[0], t.start_ns) if t.content_ns else None
    e2e = _ms(t.end_ns, t.start_ns)
    counts = tokens_per_event(t)
    output_tokens = t.usage_tokens if t.usage_tokens is not None else sum(counts)
    tpot = None
    if ok and ttft is not None and e2e is not None and output_tokens > 1:
        tpot = (e2e - ttft) / (output_tokens - 1)
    itl = per_token_itl(t.content_ns, counts)
    lag = None if t.intended_ns is None else (t.start_ns - t.intended_ns) / NS_PER_MS
    return RequestSample(
        kind=t.kind,
        ok=ok,
        status=t.status,
        error=t.error,
        ttfb_ms=_ms(t.first_byte_ns, t.start_ns),
        tfe_ms=_ms(t.first_event_ns, t.start_ns),
        ttft_ms=ttft if ok else None,
        tpot_ms=tpot,
        e2e_ms=e2e if ok else None,
        itl_ms=itl if ok else (),
        output_tokens=output_tokens if ok else 0,
        content_events=len(t.content_ns),
        usage_tokens=t.usage_tokens,
        lag_ms=lag,
        warmup=t.warmup,
    )


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default) of an ascending sequence."""
    if not sorted_values:
        raise ValueError("percentile of no values")
    rank = (len(sorted_values) - 1) * q / 100.0
    lo = math.floor(rank)
    hi = math.ceil(rank)
    if lo == hi:
        return float(sorted_values[lo])
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (rank - lo)


def summarize(values: Iterable[float | None]) -> dict[str, float | int | None]:
    """p50/p90/p95/p99/mean/max/count of the non-None values; the statistics are None when empty."""
    data = sorted(v for v in values if v is not None)
    out: dict[str, float | int | None] = {f"p{q}": None for q in PERCENTILES}
    out.update(mean=None, max=None, count=len(data))
    if data:
        for q in PERCENTILES:
            out[f"p{q}"] = round(percentile(data, q), 4)
        out["mean"] = round(sum(data) / len(data), 4)
        out["max"] = round(data[-1], 4)
    return out


def goodput_count(
    samples: Iterable[RequestSample], slos_ms: Mapping[str, float], conformant: Iterable[bool] | None = None
) -> int:
    """Requests that succeeded, meet every SLO (keys: ttft_ms, tpot_ms, e2e_ms), as vLLM counts
    them, and (where `conformant` is given, one flag per sample) passed the MUST checks.

    vLLM counts a request with one output token as TPOT 0; a missing TTFT (no stream) fails a TTFT SLO.
    """
    good = 0
    flags = iter(conformant) if conformant is not None else None
    for s in samples:
        passed = next(flags) if flags is not None else True
        if not s.ok or not passed:
            continue
        values = {
            "ttft_ms": s.ttft_ms,
            "tpot_ms": s.tpot_ms if s.tpot_ms is not None else 0.0,
            "e2e_ms": s.e2e_ms,
        }
        if all(values[k] is not None and values[k] <= limit for k, limit in slos_ms.items() if k in values):
            good += 1
    return good
