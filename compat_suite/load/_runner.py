"""`compat-suite load`: run locust headless (standalone, or a master with local workers), then write load.json.

This process never imports locust: it starts `python -m locust` as child processes (locust patches
the standard library), shows their progress line, reads the raw results the master writes and
builds load.json, budget verdicts, the sweep table and the calibration figures from them.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._paths import REPO_ROOT, SUITES_DIR
from .._redact import redact_text
from ._budgets import BudgetError, LoadShape, load_budget
from ._client import KINDS
from ._ramp import parse_ramp
from ._results import budget_passed, build_result

LOCUSTFILE = SUITES_DIR / "load" / "locustfile.py"
RAMP_LOCUSTFILE = Path(__file__).with_name("_ramp_locustfile.py")
USER_CLASS = {
    "chat-stream": "ChatStream",
    "chat": "Chat",
    "completions": "Completions",
    "embeddings": "Embeddings",
    "mix": "Mix",
}
SCENARIOS = (*KINDS, "mix")
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
RUNNER_ONLY = frozenset({"drain_s"})  # options for this process, not for locust
STARTUP_GRACE_S = 60.0  # locust and its workers starting, on a busy 2-core box


class UsageError(Exception):
    """A mistake in the command line: printed, exit code 2."""


def build_parser() -> argparse.ArgumentParser:
    from ..cli import add_target_options

    p = argparse.ArgumentParser(
        prog="compat-suite load",
        description="Load-test an OpenAI-compatible endpoint with locust; write load.json (TTFT, TPOT, ITL, "
        "E2E, throughput, budget verdicts).",
    )
    add_target_options(p)
    p.add_argument(
        "--engine",
        choices=("transformers", "scripted"),
        default="transformers",
        help="engine of the embedded reference server when no --base-url (default: transformers)",
    )
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--users", type=int, help="closed loop: concurrent users")
    shape.add_argument("--rate", type=float, help="open loop: requests per second")
    shape.add_argument("--ramp", help="closed loop ramp: 'users:seconds,users:seconds,...'")
    shape.add_argument("--sweep", help="open loop rates to try in turn, e.g. '1,2,4,8'")
    p.add_argument("--arrival", choices=("constant", "poisson"), default=None, help="open loop arrivals")
    p.add_argument("--duration", type=float, help="seconds of load (per sweep step)")
    p.add_argument("--workers", type=int, default=None, help="local locust worker processes (0: standalone)")
    p.add_argument("--budget", help="budget file (a name in schemas/budgets/ or a path)")
    p.add_argument("--budget-shape", help="the shape in the budget file to run (default: its first)")
    p.add_argument("--scenario", choices=SCENARIOS, default=None, help="request kind, or the weighted mix")
    p.add_argument("--max-tokens", type=int, default=None, help="max_tokens per request (default 32)")
    p.add_argument("--max-inflight", type=int, default=None, help="open loop: cap on requests in flight")
    p.add_argument(
        "--lag-threshold-ms",
        type=float,
        default=None,
        help="open loop: p99 schedule lag past which the run is invalid (default 50)",
    )
    p.add_argument("--drain-s", type=float, default=5.0, help="open loop: time for the last requests to end")
    p.add_argument("--request-timeout", type=float, default=60.0, help="seconds per request")
    p.add_argument("--seed", type=int, default=0, help="seed of Poisson arrivals and prompt order")
    p.add_argument(
        "--calibrate",
        action="store_true",
        help="measure the client's own overhead against an in-process instant SSE server",
    )
    p.add_argument("--from-raw", type=Path, help="build load.json from the raw file a hand-run master wrote")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress line")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        return _main(args)
    except (UsageError, BudgetError) as exc:
        print(f"compat-suite load: {exc}", file=sys.stderr)
        return EXIT_USAGE


# -- planning ----------------------------------------------------------------------------------
def resolve_shape(args: argparse.Namespace) -> tuple[LoadShape, dict[str, Any] | None]:
    """The load shape from the command line over the budget shape over defaults, and the budget."""
    budget_file = load_budget(args.budget) if args.budget else None
    base = budget_file.shape(args.budget_shape) if budget_file else None
    explicit = any(v is not None for v in (args.users, args.rate, args.ramp, args.sweep))
    duration = args.duration if args.duration is not None else (base.duration_s if base else None)
    if duration is None and not args.ramp:
        raise UsageError("--duration is required (or a --budget whose shape sets duration_s)")
    sweep = tuple(float(r) for r in args.sweep.split(",") if r.strip()) if args.sweep else ()
    shape = LoadShape(
        name=base.name if base else "cli",
        duration_s=float(duration or 0),
        users=args.users if explicit else (base.users if base else 4),
        rate=args.rate if explicit else (base.rate if base else None),
        arrival=args.arrival or (base.arrival if base else "constant"),
        scenario=args.scenario or (base.scenario if base else "chat-stream"),
        max_tokens=args.max_tokens or (base.max_tokens if base else 32),
        ramp=args.ramp if explicit else (base.ramp if base else None),
        sweep=sweep if explicit else (base.sweep if base else ()),
        workers=args.workers if args.workers is not None else (base.workers if base else 0),
        max_inflight=args.max_inflight or (base.max_inflight if base else None),
        lag_threshold_ms=args.lag_threshold_ms or (base.lag_threshold_ms if base else None),
        budget=dict(base.budget) if base else {},
    )
    if shape.users is not None and shape.users < 1:
        raise UsageError("--users must be at least 1")
    if shape.rate is not None and shape.rate <= 0:
        raise UsageError("--rate must be positive")
    if any(r <= 0 for r in shape.sweep):
        raise UsageError("--sweep rates must be positive")
    if shape.workers < 0 or shape.workers > 64:
        raise UsageError("--workers must be between 0 and 64")
    if shape.ramp:
        try:
            parse_ramp(shape.ramp)
        except ValueError as exc:
            raise UsageError(f"--ramp: {exc}") from None
    budget = None
    if budget_file is not None:
        budget = {"name": budget_file.name, "shape": shape.name, "limits": shape.budget}
    return shape, budget


def shape_summary(shape: LoadShape) -> dict[str, Any]:
    if shape.ramp:
        kind = "ramp"
    elif shape.sweep:
        kind = "sweep"
    elif shape.rate is not None:
        kind = "open-loop"
    else:
        kind = "closed-loop"
    out: dict[str, Any] = {
        "kind": kind,
        "name": shape.name,
        "duration_s": float(sum(s for _, s in parse_ramp(shape.ramp))) if shape.ramp else shape.duration_s,
        "workers": shape.workers,
        "max_tokens": shape.max_tokens,
    }
    if kind == "closed-loop":
        out["users"] = shape.users
    if kind in ("open-loop", "sweep"):
        out.update(arrival=shape.arrival, max_inflight=shape.max_inflight or 256)
        out["rate" if kind == "open-loop" else "rates"] = (
            shape.rate if kind == "open-loop" else list(shape.sweep)
        )
    if kind == "ramp":
        out["ramp"] = shape.ramp
    return out


# -- the target --------------------------------------------------------------------------------
class TargetSpec:
    """Where the load goes; starts (and stops) the embedded reference server when there is no URL."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.server = None
        self.base_url = args.base_url
        self.api_key = args.api_key or os.environ.get("OPENAI_API_KEY") or os.environ.get("COMPAT_API_KEY")
        self.model, self.embedding_model = args.model, args.embedding_model
        self.headers = _parse_headers(args.header)
        from ..profiles import ProfileError, load_profile

        try:
            self.profile = load_profile(args.profile)
        except ProfileError as exc:
            raise UsageError(str(exc)) from None

    def __enter__(self) -> TargetSpec:
        if self.base_url:
            from ..cli import UsageError as CliUsageError
            from ..cli import check_base_url

            try:
                check_base_url(self.base_url)
            except CliUsageError as exc:
                raise UsageError(str(exc)) from None
            return self
        from ..embedded import EmbeddedServer, EmbeddedServerError
        from ..plugin import EMBEDDED_MODELS

        print(
            f"compat-suite load: starting the embedded reference server ({self.args.engine})", file=sys.stderr
        )
        self.server = EmbeddedServer(engine=self.args.engine)
        try:
            self.server.start()
        except EmbeddedServerError as exc:
            raise UsageError(str(exc)) from None
        self.base_url, self.api_key = self.server.base_url, self.server.api_key
        chat, embed = EMBEDDED_MODELS[self.args.engine]
        self.model, self.embedding_model = self.model or chat, self.embedding_model or embed
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.stop()

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.api_key, *self.headers.values()) if s)

    def describe(self) -> dict[str, Any]:
        return {
            "base_url": redact_text(self.base_url or "", self.secrets),
            "model": self.model,
            "embedding_model": self.embedding_model,
            "profile": self.profile.name,
            "embedded": self.server is not None,
            "engine": self.args.engine if self.server is not None else None,
        }

    def extra_body(self, max_tokens: int) -> dict[str, Any]:
        """Fixed-length generation where the profile says the target takes it (ignore_eos, min_tokens)."""
        extensions = set(self.profile.extensions) | set(
            (self.profile.raw.get("load") or {}).get("fixed_length", ())
        )
        body: dict[str, Any] = {}
        if "ignore_eos" in extensions:
            body["ignore_eos"] = True
        if "min_tokens" in extensions:
            body["min_tokens"] = max_tokens
        return body

    def paths(self) -> dict[str, str]:
        out = {}
        for endpoint in ("chat", "completions", "embeddings"):
            if self.profile.declares(endpoint):
                entry = self.profile.endpoint_path(endpoint)
                # profiles give a path, or (newer format) a mapping with one
                out[endpoint] = entry["path"] if isinstance(entry, dict) else str(entry)
        return out


def _parse_headers(values: Sequence[str]) -> dict[str, str]:
    headers = {}
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name.strip():
            raise UsageError(f"--header wants 'NAME: VALUE', got {value!r}")
        headers[name.strip()] = rest.strip()
    return headers


# -- running locust ----------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def locust_commands(
    *,
    base_url: str,
    shape: LoadShape,
    rate: float | None,
    options: Mapping[str, Any],
    raw_path: Path,
    port: int | None = None,
) -> tuple[list[str], list[list[str]]]:
    """The master (or standalone) command line and the worker command lines of one run."""
    files = str(LOCUSTFILE) + (f",{RAMP_LOCUSTFILE}" if shape.ramp else "")
    base = [sys.executable, "-m", "locust", "-f", files, "--loglevel", "WARNING"]
    workers = max(0, shape.workers)
    cmd = [*base, "--headless", "--host", base_url, "--stop-timeout", "0", "--llm-out", str(raw_path)]
    for name, value in options.items():
        if name not in RUNNER_ONLY:
            cmd += [f"--llm-{name.replace('_', '-')}", str(value)]
    if rate is not None:
        generators = max(1, workers)
        run_time = shape.duration_s + float(options.get("drain_s", 5.0))
        cmd += [
            "-u",
            str(generators),
            "-r",
            str(generators),
            "--run-time",
            f"{run_time:.0f}s",
            "--llm-rate",
            str(rate),
            "--llm-generators",
            str(generators),
            "--llm-duration",
            str(shape.duration_s),
            "--llm-arrival",
            shape.arrival,
            "--llm-scenario",
            shape.scenario,
            "OpenLoop",
        ]
    elif shape.ramp:
        total = sum(s for _, s in parse_ramp(shape.ramp))
        cmd += ["--run-time", f"{total + 5:.0f}s", USER_CLASS[shape.scenario]]
    else:
        users = shape.users or 1
        cmd += [
            "-u",
            str(users),
            "-r",
            str(users),
            "--run-time",
            f"{shape.duration_s:.0f}s",
            USER_CLASS[shape.scenario],
        ]
    worker_cmds = []
    if workers:
        assert port is not None
        cmd[cmd.index("--headless") : cmd.index("--headless")] = [
            "--master",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            str(port),
            "--expect-workers",
            str(workers),
        ]
        worker_cmds = [
            [*base, "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]
            for _ in range(workers)
        ]
    return cmd, worker_cmds


def run_locust(
    target: TargetSpec,
    shape: LoadShape,
    *,
    rate: float | None,
    options: Mapping[str, Any],
    log_path: Path,
    quiet: bool = False,
) -> dict[str, Any]:
    """One locust run; returns the raw results the master wrote."""
    with tempfile.TemporaryDirectory(prefix="compat-load-") as tmp:
        raw_path = Path(tmp) / "raw.json"
        port = _free_port() if shape.workers else None
        master_cmd, worker_cmds = locust_commands(
            base_url=target.base_url, shape=shape, rate=rate, options=options, raw_path=raw_path, port=port
        )
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": _pythonpath()}
        if target.api_key:
            env["COMPAT_API_KEY"] = target.api_key
        if shape.ramp:
            budget_s = sum(s for _, s in parse_ramp(shape.ramp)) + 5
        else:
            budget_s = shape.duration_s + (float(options.get("drain_s", 5.0)) if rate is not None else 0)
        deadline = time.monotonic() + budget_s + STARTUP_GRACE_S
        procs: list[subprocess.Popen] = []
        with log_path.open("a", encoding="utf-8") as log:
            try:
                master = subprocess.Popen(
                    master_cmd,
                    cwd=REPO_ROOT,
                    env=env,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                    errors="replace",
                )
                procs.append(master)
                for cmd in worker_cmds:
                    procs.append(
                        subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
                    )
                _follow(master, log, target.secrets, deadline, quiet)
            finally:
                for proc in reversed(procs):
                    _stop(proc)
        if not raw_path.exists():
            raise UsageError(f"locust wrote no results; see {log_path}")
        return json.loads(raw_path.read_text(encoding="utf-8"))


def _pythonpath() -> str:
    existing = os.environ.get("PYTHONPATH")
    return str(REPO_ROOT) + (os.pathsep + existing if existing else "")


def _follow(proc: subprocess.Popen, log: Any, secrets: tuple[str, ...], deadline: float, quiet: bool) -> None:
    """Copy locust's output to the log, show the progress line, and enforce the deadline."""
    import selectors

    assert proc.stdout is not None
    tty = sys.stderr.isatty()
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    shown = False
    while True:
        if time.monotonic() > deadline:
            log.write("compat-suite load: locust ran past its deadline; stopped\n")
            proc.send_signal(signal.SIGINT)
            break
        if not sel.select(timeout=0.5):
            if proc.poll() is not None:
                break
            continue
        line = proc.stdout.readline()
        if not line:
            break
        line = redact_text(line, secrets)
        log.write(line)
        if line.startswith("LLM-PROGRESS") and not quiet:
            text = line[len("LLM-PROGRESS ") :].rstrip()
            print(("\r" + text + "  ") if tty else text, end="" if tty else "\n", file=sys.stderr, flush=True)
            shown = True
    if shown and tty:
        print(file=sys.stderr)
    proc.wait(timeout=max(1.0, deadline - time.monotonic() + 30))


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


# -- the command -------------------------------------------------------------------------------
def _main(args: argparse.Namespace) -> int:
    if args.calibrate:
        from ._calibrate import calibrate

        return calibrate(args)
    shape, budget = resolve_shape(args)
    from ..cli import default_report_dir

    run_dir: Path = args.report_dir or default_report_dir()
    run_dir.mkdir(parents=True, exist_ok=True)
    if args.from_raw:
        raw = json.loads(args.from_raw.read_text(encoding="utf-8"))
        result = build_result(
            raw,
            target={"base_url": args.base_url},
            scenario=shape.scenario,
            shape=shape_summary(shape),
            duration_s=shape.duration_s,
            budget=budget,
            lag_threshold_ms=shape.lag_threshold_ms or 50.0,
        )
        return finish(result, run_dir)
    with TargetSpec(args) as target:
        result = run_shape(target, shape, budget, args, run_dir)
    return finish(result, run_dir)


def run_options(target: TargetSpec, shape: LoadShape, args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {
        "model": target.model or "",
        "embedding_model": target.embedding_model or "",
        "max_tokens": shape.max_tokens,
        "extra_body": json.dumps(target.extra_body(shape.max_tokens)),
        "headers": json.dumps(target.headers),
        "paths": json.dumps(target.paths()),
        "timeout": args.request_timeout,
        "seed": args.seed,
        "progress": 0 if args.quiet else 1.0,
        "max_inflight": shape.max_inflight or 256,
    }
    if shape.ramp:
        options["ramp"] = shape.ramp
    return options


def run_shape(
    target: TargetSpec,
    shape: LoadShape,
    budget: dict[str, Any] | None,
    args: argparse.Namespace,
    run_dir: Path,
) -> dict[str, Any]:
    """Run the shape (each rate of a sweep in turn) and return the load.json document."""
    options = run_options(target, shape, args)
    log_path = run_dir / "locust.log"
    lag_threshold = shape.lag_threshold_ms or 50.0
    summary = shape_summary(shape)

    def one(rate: float | None) -> dict[str, Any]:
        started = time.monotonic()
        raw = run_locust(
            target,
            shape,
            rate=rate,
            options={**options, "drain_s": args.drain_s} if rate else options,
            log_path=log_path,
            quiet=args.quiet,
        )
        duration = _duration(shape, raw, started)
        return build_result(
            raw,
            target=target.describe(),
            scenario=shape.scenario,
            shape={**summary, **({"rate": rate} if rate else {})},
            duration_s=duration,
            budget=budget,
            lag_threshold_ms=lag_threshold,
        )

    if not shape.sweep:
        return one(shape.rate)
    rows, best, last = [], None, None
    for rate in shape.sweep:
        print(f"compat-suite load: sweep step at {rate:g} requests/s", file=sys.stderr)
        res = one(rate)
        passed = bool(res["valid"]) and (budget_passed(res) if budget else (res["requests"]["failed"] == 0))
        rows.append({"rate": rate, "passed": passed, "valid": res["valid"], "metrics": sweep_metrics(res)})
        last = res
        if not passed:
            break
        best = res
    result = best or last
    assert result is not None
    result["sweep"] = rows
    result["sweep_best_rate"] = best["shape"]["rate"] if best else None
    result["shape"] = {**summary, "rate": result["shape"].get("rate")}
    return result


def _duration(shape: LoadShape, raw: Mapping[str, Any], started: float) -> float:
    if shape.ramp:
        return float(sum(s for _, s in parse_ramp(shape.ramp)))
    return shape.duration_s


def sweep_metrics(result: Mapping[str, Any]) -> dict[str, Any]:
    m = result["metrics"]
    return {
        "ttft_p95_ms": m["ttft_ms"]["p95"],
        "tpot_p95_ms": m["tpot_ms"]["p95"],
        "itl_p95_ms": m["itl_ms"]["p95"],
        "e2e_p95_ms": m["e2e_ms"]["p95"],
        "output_tokens_per_s": result["throughput"]["output_tokens_per_s"],
        "requests_per_s": result["throughput"]["requests_per_s"],
        "error_rate": result["throughput"]["error_rate"],
        "lag_p99_ms": result["schedule"]["lag_p99_ms"],
    }


def finish(result: dict[str, Any], run_dir: Path) -> int:
    """Write load.json, print the summary, and return the exit code."""
    accounted = result["requests"]["sent"] == result["requests"]["recorded"]
    result["accounting"] = {
        "sent": result["requests"]["sent"],
        "recorded": result["requests"]["recorded"],
        "complete": accounted,
    }
    result["client_cpu"] = _client_cpu(result)
    path = run_dir / "load.json"
    path.write_text(json.dumps(result, separators=(",", ":")), encoding="utf-8")
    print(render_summary(result))
    _maybe_report(run_dir)
    print(f"load results: {path}")
    verdict = budget_passed(result)
    if not accounted or not result["valid"] or verdict is False or result["requests"]["recorded"] == 0:
        return EXIT_FAIL
    return EXIT_OK


def _client_cpu(result: Mapping[str, Any]) -> dict[str, Any]:
    """How busy the load processes were: near 100% of a core means the client may be the bottleneck."""
    workers = result.get("workers") or {}
    duration = result.get("duration_s") or 0
    busiest = max((w.get("cpu_s", 0.0) for w in workers.values()), default=0.0)
    share = busiest / duration if duration else None
    return {
        "busiest_worker_cpu_share": round(share, 3) if share is not None else None,
        "saturated": bool(share is not None and share > 0.85),
    }


def _maybe_report(run_dir: Path) -> None:
    """Build the HTML report (its load section reads load.json; results.json joins it when present)."""
    from reports import RunDirError, build_report

    try:
        index = build_report(run_dir)
    except RunDirError as exc:  # the report is a view; load.json is the result
        print(f"compat-suite load: no HTML report ({exc})", file=sys.stderr)
        return
    print(f"report: {index}")


def render_summary(result: Mapping[str, Any]) -> str:
    """The human-readable summary printed at the end of a run."""
    req = result["requests"]
    lines = [
        f"target: {result['target'].get('base_url')}  scenario: {result['scenario']}  shape: "
        + ", ".join(f"{k}={v}" for k, v in result["shape"].items()),
        f"requests: sent {req['sent']}, completed {req['completed']}, failed {req['failed']}, "
        f"cancelled at stop {req['cancelled']}; recorded {req['recorded']}",
        f"{'metric':<10}{'p50':>10}{'p90':>10}{'p95':>10}{'p99':>10}{'mean':>10}{'count':>8}",
    ]
    for name, s in result["metrics"].items():
        cells = "".join(f"{_fmt(s[k]):>10}" for k in ("p50", "p90", "p95", "p99", "mean"))
        lines.append(f"{name:<10}{cells}{s['count']:>8}")
    tp = result["throughput"]
    lines.append(
        f"throughput: {tp['requests_per_s']} req/s, {tp['output_tokens_per_s']} output tokens/s, "
        f"error rate {tp['error_rate']}"
        + (f", goodput {tp['goodput_rps']} req/s" if tp.get("goodput_rps") is not None else "")
    )
    tok = result["tokens"]
    if tok["usage_vs_events_mismatch"]:
        lines.append(
            f"tokens: usage disagrees with content events in {tok['usage_vs_events_mismatch']} of "
            f"{tok['streamed_requests']} streams (several tokens per event?)"
        )
    if not tok["usage_reported"]:
        lines.append("tokens: the target reported no usage; output tokens are counted content events")
    sched = result["schedule"]
    if sched.get("open_loop"):
        lines.append(
            f"schedule lag: p50 {sched['lag_p50_ms']} ms, p99 {sched['lag_p99_ms']} ms, max "
            f"{sched['max_lag_ms']} ms; threshold {sched['threshold_ms']} ms -> "
            + ("valid" if sched["valid"] else "INVALID (the client fell behind its schedule)")
        )
    for err in result["errors"][:5]:
        lines.append(f"error: {err['error']} x{err['count']}")
    cpu = result.get("client_cpu") or {}
    if cpu.get("saturated"):
        lines.append(
            f"warning: a load process used {cpu['busiest_worker_cpu_share']:.0%} of a core; the client "
            "may be the bottleneck (add --workers, see --calibrate)"
        )
    for row in result.get("sweep") or ():
        lines.append(
            f"sweep: {row['rate']:g} req/s -> {'PASS' if row['passed'] else 'FAIL'} {row['metrics']}"
        )
    if result.get("sweep"):
        lines.append(f"sweep: highest rate meeting the budget: {result.get('sweep_best_rate')}")
    budget = result.get("budget")
    if budget:
        for r in budget["results"]:
            mark = {True: "PASS", False: "FAIL", None: "SKIP"}[r["passed"]]
            lines.append(
                f"budget {budget['name']}/{budget['shape']}: {r['metric']} {mark} observed "
                f"{r['observed']} limit {r['limit']}" + (f" ({r['reason']})" if r["reason"] else "")
            )
    if not result.get("accounting", {}).get("complete", True):
        lines.append(f"ACCOUNTING: sent {req['sent']} but recorded {req['recorded']}")
    lines.append("formulas (vLLM benchmark definitions):")
    lines += [f"  {k}: {v}" for k, v in result["formulas"].items()]
    return "\n".join(lines)


def _fmt(value: Any) -> str:
    return "-" if value is None else f"{value:.2f}"
