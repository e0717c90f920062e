"""Measured cost of the gateway per request: authorize, settle, and both under concurrency.

    python benchmarks/bench_gateway.py [--requests 2000] [--concurrency 64] [--synchronous NORMAL|FULL]

In process, no HTTP: what the gateway adds to each inference request, not what a server does.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from starlette.requests import Request

from reference_server.gateway import Gateway, GatewayConfig

USAGE = {"prompt_tokens": 120, "completion_tokens": 30, "total_tokens": 150}


def request_with(key: str) -> Request:
    scope = {"type": "http", "method": "POST", "path": "/v1/chat/completions", "query_string": b"",
             "headers": [(b"authorization", f"Bearer {key}".encode())], "client": ("127.0.0.1", 5000)}  # fmt: skip
    return Request(scope)


async def measure(gateway: Gateway, key: str, requests: int, concurrency: int) -> dict[str, float]:
    authorize_ms: list[float] = []
    settle_ms: list[float] = []
    gate = asyncio.Semaphore(concurrency)

    async def one() -> None:
        async with gate:
            t0 = time.perf_counter()
            grant = await gateway.authorize(request_with(key), "chat", "m")
            t1 = time.perf_counter()
            await gateway.settle(grant, usage=USAGE, status=200)
            t2 = time.perf_counter()
            authorize_ms.append((t1 - t0) * 1000)
            settle_ms.append((t2 - t1) * 1000)

    start = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(requests)))
    elapsed = time.perf_counter() - start
    return {
        "requests_per_s": requests / elapsed,
        "authorize_p50_ms": statistics.median(authorize_ms),
        "authorize_p99_ms": statistics.quantiles(authorize_ms, n=100)[98],
        "settle_p50_ms": statistics.median(settle_ms),
        "settle_p99_ms": statistics.quantiles(settle_ms, n=100)[98],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--synchronous", default="NORMAL", choices=["NORMAL", "FULL"])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        config = GatewayConfig(default_rate_limit="1000000/minute", sqlite_synchronous=args.synchronous)
        gateway = Gateway(Path(tmp) / "bench.db", config)
        try:
            raw, key = gateway.issue_key(credit_micros=10**12)
            for concurrency in (1, args.concurrency):
                result = asyncio.run(measure(gateway, raw, args.requests, concurrency))
                row = ", ".join(f"{name}={value:.2f}" for name, value in result.items())
                print(f"synchronous={args.synchronous} concurrency={concurrency}: {row}")
            audit = gateway.store.audit(key.account_id)
            print(
                f"ledger consistent={audit['consistent']} usage_rows={audit['usage_rows']} debits={audit['debits']}"
            )
        finally:
            gateway.close()


if __name__ == "__main__":
    main()
