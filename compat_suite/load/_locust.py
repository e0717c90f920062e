"""locust in child processes: the command lines of a run (standalone, or a master with local
workers), and one run followed to its end (progress shown, deadline kept, secrets kept out of the log).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from schemas import LoadShape, redact_text

from .._children import spawn_with_output, stop_process
from ._plan import UsageError
from ._ramp import ramp_seconds
from ._target import LoadTarget

RAMP_LOCUSTFILE = Path(__file__).with_name("_ramp_locustfile.py")
USER_CLASS = {
    "chat-stream": "ChatStream",
    "chat": "Chat",
    "completions": "Completions",
    "embeddings": "Embeddings",
    "mix": "Mix",
}
RUNNER_ONLY = frozenset({"drain_s"})  # options for this process, not for locust
STARTUP_GRACE_S = 60.0  # locust and its workers starting, on a busy 2-core box
JUDGE_GRACE_S = 120.0  # judging the captured answers after the load


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def locust_commands(
    *,
    base_url: str,
    locustfile: Path,
    shape: LoadShape,
    rate: float | None,
    options: Mapping[str, Any],
    raw_path: Path,
    port: int | None = None,
) -> tuple[list[str], list[list[str]]]:
    """The master (or standalone) command line and the worker command lines of one run."""
    files = str(locustfile) + (f",{RAMP_LOCUSTFILE}" if shape.ramp else "")
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
        total = ramp_seconds(shape.ramp)
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
    target: LoadTarget,
    shape: LoadShape,
    *,
    locustfile: Path,
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
            base_url=target.base_url or "",
            locustfile=locustfile,
            shape=shape,
            rate=rate,
            options=options,
            raw_path=raw_path,
            port=port,
        )
        env = {**os.environ, **target.environment(), "PYTHONUNBUFFERED": "1"}
        if shape.ramp:
            budget_s = ramp_seconds(shape.ramp) + 5
        else:
            budget_s = shape.duration_s + (float(options.get("drain_s", 5.0)) if rate is not None else 0)
        deadline = time.monotonic() + budget_s + STARTUP_GRACE_S + JUDGE_GRACE_S
        procs: list[subprocess.Popen] = []
        with log_path.open("a", encoding="utf-8") as log:
            try:
                master = spawn_with_output(master_cmd, env)
                procs.append(master)
                for cmd in worker_cmds:
                    procs.append(subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT))
                _follow(master, log, target.secrets, deadline, quiet)
            finally:
                for proc in reversed(procs):
                    stop_process(proc, signal.SIGINT)
        if not raw_path.exists():
            raise UsageError(f"locust wrote no results; see {log_path}")
        return json.loads(raw_path.read_text(encoding="utf-8"))


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
