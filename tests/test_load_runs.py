"""End-to-end load runs in subprocesses (locust never runs in the pytest process), each a few seconds.

Against the reference server's scripted engine (started by `compat-suite load` itself, or by the
pytest plugin for the performance suite) and against the instant calibration server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _repo import REPO_ROOT

from schemas import load_problems

pytestmark = pytest.mark.slow
RUN_TIMEOUT_S = 240


def _load(*args: str, report_dir: Path, calibrate: bool = False) -> tuple[subprocess.CompletedProcess, dict]:
    cmd = [sys.executable, "-m", "compat_suite", "load", *args, "--report-dir", str(report_dir)]
    if not calibrate and "--calibrate" not in args:
        cmd.append("--no-calibration")  # measured once, in the test that asks for it
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.run(cmd, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    path = report_dir / "load.json"
    assert path.exists(), (
        f"no load.json (exit {proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    )
    result = json.loads(path.read_text(encoding="utf-8"))
    assert not load_problems(result), (
        f"load.json breaks schemas/load.schema.json: {load_problems(result)[:5]}"
    )
    return proc, result


def test_distributed_run_with_two_local_workers_accounts_for_every_request(tmp_path: Path) -> None:
    args = "--engine scripted --users 4 --duration 4 --workers 2 --max-tokens 8"
    proc, result = _load(*args.split(), report_dir=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    req = result["requests"]
    assert req["sent"] == req["recorded"] > 0 and result["accounting"]["complete"]
    assert req["completed"] > 0 and req["failed"] == 0
    workers = result["workers"]
    assert len(workers) == 2 and all(w["final"] for w in workers.values())
    assert sum(w["sent"] for w in workers.values()) == req["sent"]
    assert set(result["samples"]["worker"]) == set(workers)  # both workers' raw samples reached the master
    for metric in ("ttfb_ms", "tfe_ms", "ttft_ms", "tpot_ms", "itl_ms", "e2e_ms"):
        assert result["metrics"][metric]["count"] > 0, metric
        assert sum(c for _, c in result["histograms"][metric]) == result["metrics"][metric]["count"], metric
    assert result["metrics"]["ttft_ms"]["p50"] <= result["metrics"]["e2e_ms"]["p50"]
    assert result["throughput"]["output_tokens_per_s"] > 0
    assert sum(row["requests"] for row in result["timeline"]) == req["recorded"]
    assert "tpot_ms" in result["formulas"] and "formulas" in proc.stdout
    assert "sk-embedded" not in (tmp_path / "load.json").read_text()  # the key never lands in results


def test_open_loop_run_records_intended_starts(tmp_path: Path) -> None:
    args = (
        "--engine scripted --rate 8 --arrival poisson --duration 3 --drain-s 3 --max-tokens 8 --scenario mix"
    )
    proc, result = _load(*args.split(), report_dir=tmp_path)
    sched = result["schedule"]
    assert sched["open_loop"] and sched["count"] == result["requests"]["recorded"] > 0
    assert sched["lag_p99_ms"] is not None and "threshold_ms" in sched
    assert result["shape"]["kind"] == "open-loop" and result["shape"]["rate"] == 8
    assert set(result["samples"]["kind"]) <= {"chat-stream", "chat", "completions", "embeddings"}
    assert proc.returncode == (0 if sched["valid"] else 1)


def test_a_server_without_done_is_measured_and_judged(tmp_path: Path) -> None:
    """Every stream of a server that never sends `data: [DONE]` yields its latencies; the deviation
    is a conformance finding of the run, by the check id `compat-suite run` uses, and goodput
    leaves those answers out. The client's calibration runs first and is on the report."""
    budget = tmp_path / "slo.yaml"
    budget.write_text(
        "name: slo\nshapes:\n  s:\n    users: 2\n    duration_s: 4\n    scenario: chat-stream\n"
        "    max_tokens: 8\n    budget:\n      ttft_p95_ms: 60000\n"
    )
    proc, result = _load(
        "--engine",
        "scripted",
        "--fault",
        "stream-no-done",
        "--budget",
        str(budget),
        report_dir=tmp_path,
        calibrate=True,
    )
    req = result["requests"]
    assert req["completed"] == req["recorded"] - req["cancelled"] > 0 and req["failed"] == 0
    measured = result["metrics"]["ttft_ms"]["count"] + result["warmup"]["count"]
    assert measured == req["completed"] and result["metrics"]["e2e_ms"]["count"] > 0
    conf = result["conformance"]
    assert conf["verdict"] == "fail" and conf["judged"] == conf["judgeable"] == req["completed"]
    rows = {row["check"]: row for row in conf["checks"]}
    assert rows["stream.done-terminator"]["failed"] == conf["judged"]
    assert rows["stream.chunk.schema"]["failed"] == 0
    assert result["throughput"]["goodput_rps"] == 0  # every answer failed a MUST check
    assert result["calibration"]["added_ttft_ms"]["p50"] is not None
    html = (tmp_path / "index.html").read_text()
    assert "Conformance under load" in html and "stream.done-terminator" in html
    assert "client calibration: added TTFT" in proc.stdout
    assert "stream.done-terminator (must): failed" in proc.stdout


def test_calibration_prints_its_figures(tmp_path: Path) -> None:
    proc, result = _load("--calibrate", "--duration", "3", "--users", "4", report_dir=tmp_path)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    cal = result["calibration"]
    assert cal["events_per_s_per_core"] > 0 and cal["content_events"] > 0
    assert (
        cal["added_ttft_ms"]["p50"] is not None
        and cal["server_ttfb_ms"]["p50"] < cal["client_ttft_ms"]["p50"]
    )
    assert "added TTFT: p50" in proc.stdout and "events/s per worker core" in proc.stdout


@pytest.mark.parametrize(
    ("limit", "expected_rc"),
    [(60_000, 0), (0.001, 1)],
    ids=["budget-met", "budget-missed"],
)
def test_budget_gates_a_pytest_run_both_ways(tmp_path: Path, limit: float, expected_rc: int) -> None:
    budget = tmp_path / "gate.yaml"
    budget.write_text(
        "name: gate\nshapes:\n  quick:\n    users: 2\n    duration_s: 3\n    scenario: chat-stream\n"
        f"    max_tokens: 8\n    budget:\n      ttft_p95_ms: {limit}\n      max_error_rate: 0.5\n"
    )
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "suites/performance",
        "--compat-engine",
        "scripted",
        "--compat-budget",
        str(budget),
        "-p",
        "no:cacheprovider",
        "-rA",
        "-q",
    ]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
    out = proc.stdout + proc.stderr
    assert proc.returncode == expected_rc, out[-3000:]
    if expected_rc:
        assert "FAILED suites/performance/test_budgets.py::test_budget[ttft_p95_ms]" in out
        assert "PASSED suites/performance/test_budgets.py::test_budget[max_error_rate]" in out
    else:
        assert "PASSED suites/performance/test_budgets.py::test_budget[ttft_p95_ms]" in out
