"""The reference server's bounds, measured: what a hostile or careless client can cost it.

    python benchmarks/bench_server_bounds.py [--engines scripted,transformers] [--skip-throughput]

1. Abandon: a unary chat with n=128, max_tokens=1024 and ignore_eos (minutes of work) is sent, runs
   for 1.5 s, and its connection is closed; printed: the server's CPU while it ran, and the seconds
   from the close until its CPU is under 10% (sampled in 0.25 s windows).
2. Probe: base64 embeddings of 2,048 inputs (~200 words each on the scripted engine, ~16 on the real
   model), with `GET /v1/models` sent every 50 ms meanwhile; printed: how long the embeddings took,
   and the probes' median and worst latency.
3. Throughput: the HTTP server the reference server runs on (uvicorn with `_http11`'s guarded h11
   protocol) against stock uvicorn (its h11 protocol, what "auto" picks without httptools), on the
   scripted engine, each in a process of its own: `GET /v1/models` and unary chats (8 tokens) from
   64 concurrent connections for 10 s, alternated 3 times, requests per second side by side.

Each server is `python -m reference_server` (1, 2) or this script's `--serve` mode (3).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
KEY = "sk-bench-bounds-0123456789abcdef"


def _serve_reference(engine: str):  # -> test_server_load_bounds.Served, as a context manager
    from contextlib import contextmanager

    from test_server_load_bounds import serve

    return contextmanager(serve)(engine)


def abandon_and_probe(engines: list[str]) -> None:
    from test_server_load_bounds import abandon_unary, probe_during_embeddings

    for engine in engines:
        with _serve_reference(engine) as served:
            busy, idle_after = abandon_unary(served)
            print(f"{engine}: abandoned unary n=128: {busy:.0f}% CPU while it ran; idle (<10%) "
                  f"{idle_after:.2f} s after the client left")  # fmt: skip
            # the real model embeds ~5 texts/s of 200 words on 2 busy cores: shorter ones there
            took, probes = probe_during_embeddings(served, words=200 if engine == "scripted" else 16)
            print(f"{engine}: 2,048-input base64 embeddings took {took:.1f} s; {len(probes)} /v1/models "
                  f"probes meanwhile: median {statistics.median(probes) * 1000:.0f} ms, "
                  f"worst {max(probes) * 1000:.0f} ms")  # fmt: skip


# -- throughput -------------------------------------------------------------------------------------
def serve(protocol: str, port_file: str) -> None:
    """This script's `--serve` mode: the app on the scripted engine over the named protocol."""
    import uvicorn

    from reference_server._http11 import HttpLimits
    from reference_server.app import create_app
    from reference_server.engines.scripted import ScriptedEngine

    http = HttpLimits().protocol() if protocol == "guarded" else protocol
    config = uvicorn.Config(create_app(ScriptedEngine(), api_keys=[KEY]), host="127.0.0.1", port=0,
                            http=http, log_level="warning", lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    sock = config.bind_socket()
    Path(port_file).write_text(str(sock.getsockname()[1]))
    server.run(sockets=[sock])


async def _load(base_url: str, kind: str, seconds: float, concurrency: int = 64) -> float:
    headers = {"Authorization": f"Bearer {KEY}"}
    body = {"model": "scripted-chat", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}
    done = 0
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base_url, headers=headers, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal done
            while time.monotonic() < deadline:
                if kind == "models":
                    response = await client.get("/v1/models")
                else:
                    response = await client.post("/v1/chat/completions", json=body)
                assert response.status_code == 200, response.text
                done += 1

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return done / (time.monotonic() - started)


def throughput(seconds: float, rounds: int) -> None:
    results: dict[tuple[str, str], list[float]] = {}
    for _ in range(rounds):
        for protocol in ("h11", "guarded"):
            port_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"bench-bounds-{os.getpid()}-{protocol}"
            port_file.unlink(missing_ok=True)
            process = subprocess.Popen(
                [sys.executable, __file__, "--serve", protocol, str(port_file)], cwd=REPO
            )
            try:
                while not port_file.exists() or not port_file.read_text():
                    time.sleep(0.05)
                base_url = f"http://127.0.0.1:{port_file.read_text()}"
                time.sleep(0.5)
                for kind in ("models", "chat"):
                    rate = asyncio.run(_load(base_url, kind, seconds))
                    results.setdefault((protocol, kind), []).append(rate)
            finally:
                process.terminate()
                process.wait(30)
                port_file.unlink(missing_ok=True)
    for kind in ("models", "chat"):
        stock = statistics.mean(results[("h11", kind)])
        guarded = statistics.mean(results[("guarded", kind)])
        print(f"throughput {kind}: stock uvicorn h11 {stock:.0f} req/s, guarded h11 {guarded:.0f} req/s "
              f"= {guarded / stock:.2f}x  (runs: stock {[round(r) for r in results[('h11', kind)]]}, "
              f"guarded {[round(r) for r in results[('guarded', kind)]]})")  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--engines", default="scripted,transformers")
    parser.add_argument("--skip-throughput", action="store_true")
    parser.add_argument("--seconds", type=float, default=10.0, help="per throughput run")
    parser.add_argument("--rounds", type=int, default=3, help="throughput runs of each server, alternated")
    parser.add_argument("--serve", nargs=2, metavar=("PROTOCOL", "PORT_FILE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(*args.serve)
        return 0
    engines = [e for e in args.engines.split(",") if e]
    if engines:
        abandon_and_probe(engines)
    if not args.skip_throughput:
        throughput(args.seconds, args.rounds)
    print(json.dumps({"cpus": os.cpu_count(), "load_average": os.getloadavg()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
