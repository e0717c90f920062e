"""Output tokens per second of the transformers engine under concurrency, against one at a time.

The baseline serves the requests one at a time with transformers' own `generate` (greedy, no
engine in between). The engine is then measured with 1, 8 and 32 requests in flight; every
request is greedy with `ignore_eos`, so each produces exactly `--max-tokens` tokens and the runs
do the same work. Concurrency c runs max(c, --requests) requests with c in flight at a time (a
finished one is replaced at once), so the rate is measured at that load, not during a ramp-down.
The baseline runs before and after the concurrent runs and the faster of the two is the divisor
(a machine shared with other work is slower at one time than another). Each level also prints the
TTFT p95 of its requests beside one decode round (the time one request takes at that level).

    python benchmarks/bench_engine_throughput.py [--max-tokens 32] [--requests 32] [--threads N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from reference_server.engines.base import ChatMessage, GenerationRequest
from reference_server.engines.transformers_engine import TransformersEngine

TOPICS = (
    "the sea", "a cat", "rain", "music", "a city at night", "plants", "the moon", "bread",
    "a dragon", "winter", "a river", "coffee", "trains", "mountains", "a library", "birds",
)  # fmt: skip


def build_requests(engine: TransformersEngine, count: int, max_tokens: int) -> list[GenerationRequest]:
    """`count` distinct chat prompts of similar length."""
    requests = []
    for i in range(count):
        text = f"Write a short paragraph about {TOPICS[i % len(TOPICS)]} (take {i // len(TOPICS) + 1})."
        prompt = engine.chat_prompt([ChatMessage("user", text)])
        requests.append(GenerationRequest(prompt, max_tokens=max_tokens, temperature=0.0, ignore_eos=True))
    return requests


def sequential_baseline(engine: TransformersEngine, requests: list[GenerationRequest]) -> tuple[int, float]:
    """(tokens, seconds) for transformers' `generate`, one request after another."""
    start = time.perf_counter()
    tokens = sum(len(engine.reference_greedy(r.prompt_ids, r.max_tokens, ignore_eos=True)) for r in requests)
    return tokens, time.perf_counter() - start


async def engine_run(
    engine: TransformersEngine, requests: list[GenerationRequest], concurrency: int
) -> tuple[int, float, list[float]]:
    """(tokens, seconds, each request's time to first token) with `concurrency` requests in flight."""
    pending = list(reversed(requests))
    produced = 0
    ttfts: list[float] = []

    async def client() -> None:
        nonlocal produced
        while pending:
            request = pending.pop()
            sent = time.perf_counter()
            first = True
            async for _ in engine.generate(request):
                if first:
                    ttfts.append(time.perf_counter() - sent)
                    first = False
                produced += 1

    start = time.perf_counter()
    await asyncio.wait_for(asyncio.gather(*(client() for _ in range(concurrency))), timeout=1800)
    return produced, time.perf_counter() - start, ttfts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-tokens", type=int, default=32, help="tokens per request (default 32)")
    parser.add_argument("--requests", type=int, default=32, help="requests per concurrent run (default 32)")
    parser.add_argument(
        "--baseline-requests", type=int, default=8, help="requests for the one-at-a-time runs (default 8)"
    )
    parser.add_argument("--concurrency", default="1,8,32", help="comma-separated levels (default 1,8,32)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    args = parser.parse_args(argv)
    levels = [int(c) for c in args.concurrency.split(",")]

    started = time.perf_counter()
    engine = TransformersEngine(threads=args.threads)
    print(f"loaded in {time.perf_counter() - started:.1f}s on {engine.device} ({engine.dtype})", flush=True)
    requests = build_requests(engine, max(args.requests, *levels, args.baseline_requests), args.max_tokens)
    engine.reference_greedy(requests[0].prompt_ids, 2)  # warm-up: first calls pay one-off costs

    def baseline(when: str) -> float:
        tokens, seconds = sequential_baseline(engine, requests[: args.baseline_requests])
        rate = tokens / seconds
        print(
            f"sequential {when} (transformers generate, {args.baseline_requests} requests): {rate:.1f} tok/s"
            f"  [load average {os.getloadavg()[0]:.2f}]",
            flush=True,
        )
        return rate

    before = baseline("before")
    runs = []
    for level in levels:
        count = args.baseline_requests if level == 1 else max(level, args.requests)
        tokens, seconds, ttfts = asyncio.run(engine_run(engine, requests[:count], level))
        ttfts.sort()
        p95 = ttfts[min(len(ttfts) - 1, round(0.95 * (len(ttfts) - 1)))]
        runs.append((level, count, tokens / seconds, seconds, p95, os.getloadavg()[0]))
    # The faster of the two baselines: a machine busier during one of them must not flatter the ratio.
    base = max(before, baseline("after"))
    for level, count, rate, seconds, p95, load in runs:
        print(
            f"concurrency {level}: {rate:.1f} tok/s vs sequential {base:.1f} tok/s = {rate / base:.1f}x"
            f"  ({count} requests x {args.max_tokens} tokens in {seconds:.1f}s; TTFT p95 {p95:.2f}s,"
            f" one decode round {seconds / (count / level):.2f}s)  [load average {load:.2f}]",
            flush=True,
        )
    asyncio.run(engine.close())


if __name__ == "__main__":
    main()
