"""Performance budgets as CI gates: run a short load against the target and hold it to its budget.

The load runs in a subprocess (`python -m compat_suite load`): locust patches the standard library,
so it never runs in the pytest process. The target travels to it in the environment variables of the
shared option declaration, never on its command line. Each budget metric is its own test
(`test_budget[ttft_p95_ms]`); a metric the run cannot measure (no streaming, no usage) is skipped
with the reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from compat_suite.fixtures import options
from schemas import load_budget, redact_text

from .conftest import DEFAULT_BUDGET

LOAD_TIMEOUT_GRACE_S = 120.0


@pytest.fixture(scope="session")
def load_result(
    target: Any, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict:
    """load.json of one run of the budget's shape against the target (once per session)."""
    opt = options(request.config)
    budget_name = opt["budget"] or DEFAULT_BUDGET
    shape = load_budget(budget_name).shape(opt["budget_shape"])
    if not target.profile.streaming_supported and shape.scenario in ("chat-stream", "completions", "mix"):
        pytest.skip(
            f"profile {target.profile.name!r} says the target does not stream; {shape.scenario} needs it"
        )
    out = tmp_path_factory.mktemp("load")
    cmd = [sys.executable, "-m", "compat_suite", "load", "--budget", str(budget_name)]
    cmd += ["--budget-shape", shape.name, "--report-dir", str(out), "-q"]
    if opt["workers"] is not None:
        cmd += ["--workers", str(opt["workers"])]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMPAT_") and k != "OPENAI_API_KEY"}
    env.update(
        PYTHONUNBUFFERED="1",
        COMPAT_BASE_URL=target.base_url,
        COMPAT_PROFILE=str(target.profile.source or target.profile.name),
        COMPAT_API_KEY=target.api_key or "",
        COMPAT_MODEL=target.model or "",
        COMPAT_EMBEDDING_MODEL=target.embedding_model or "",
        COMPAT_HEADER="\n".join(f"{name}: {value}" for name, value in target.headers.items()),
    )
    limit = shape.duration_s * max(1, len(shape.sweep)) + LOAD_TIMEOUT_GRACE_S
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=limit)
    path = Path(out) / "load.json"
    if not path.exists():
        log = redact_text(proc.stdout[-2000:] + proc.stderr[-2000:], target.secrets)
        pytest.fail(f"the load run wrote no load.json (exit {proc.returncode}):\n{log}")
    return json.loads(path.read_text(encoding="utf-8"))


def test_every_request_accounted(load_result: dict) -> None:
    """Every request the load sent has a recorded outcome (none lost between workers and master)."""
    acc = load_result["accounting"]
    assert acc["complete"], f"sent {acc['sent']} requests but recorded {acc['recorded']}"
    assert load_result["requests"]["recorded"] > 0, "the load run sent no requests"


def test_schedule_valid(load_result: dict) -> None:
    """An open-loop run kept to its schedule (its latencies are not hiding coordinated omission)."""
    sched = load_result["schedule"]
    if not sched.get("open_loop"):
        pytest.skip("closed-loop shape: no schedule to keep")
    assert sched["valid"], sched.get("invalid_reason") or (
        f"p99 schedule lag {sched['lag_p99_ms']} ms exceeds {sched['threshold_ms']} ms"
    )


def test_conformance_under_load(load_result: dict) -> None:
    """Every answer under load passes the MUST checks `compat-suite run` applies to one answer of its
    kind (a deviation the profile documents is not a failure)."""
    conformance = load_result.get("conformance") or {}
    if not conformance.get("judged"):
        pytest.skip("no successful answer was judged")
    failing = [row for row in conformance["checks"] if row["failed"] and row["severity"] == "must"]
    assert not failing, "; ".join(
        f"{row['check']} failed on {row['failed']} of {row['judged']} answers"
        + (f" ({row['examples'][0]['message']})" if row["examples"] else "")
        for row in failing
    )


def test_budget(load_result: dict, budget_metric: str) -> None:
    """The target meets this budget metric under the shape's load."""
    rows = {r["metric"]: r for r in load_result["budget"]["results"]}
    row = rows[budget_metric]
    if row["passed"] is None:
        pytest.skip(f"{budget_metric} cannot be evaluated: {row['reason']}")
    assert row["passed"], (
        f"{budget_metric}: {row['reason']} (budget {load_result['budget']['name']}/"
        f"{load_result['budget']['shape']})"
    )
