"""The error matrix can fail: each errors.* fault makes its cell's check fail, the clean server passes
every cell, and a faulty run's row in results.json says `fail`.

The cells are built by the scenario's own code (compat_suite/scenarios/errors.py), so this tests
the scenario users run, not a copy of it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from _repo import REPO_ROOT

from compat_suite import checks
from compat_suite.clients import python_sdk_condition
from compat_suite.scenarios.errors import CELLS, build_cell, send
from compat_suite.target import Target
from reference_server.faults import FaultSet
from schemas import load_profile

# fault id -> (endpoint, condition, the check it must fail)
FAULT_CELLS = {
    "errors-no-envelope": ("chat", "bad-key", "errors.envelope"),
    "errors-no-key-403": ("chat", "no-key", "errors.status.no-key"),
    "errors-bad-key-403": ("embeddings", "bad-key", "errors.status.bad-key"),
    "errors-unknown-model-400": ("completions", "unknown-model", "errors.status.unknown-model"),
    "errors-malformed-json-422": ("chat", "malformed-json", "errors.status.malformed-json"),
    "errors-500-for-bad-json": ("embeddings", "malformed-json", "errors.no-5xx-for-client-error"),
    "errors-wrong-content-type-400": ("chat", "wrong-content-type", "errors.status.wrong-content-type"),
    "errors-invalid-param-422": ("completions", "invalid-param", "errors.status.invalid-param"),
    "errors-unknown-path-400": ("chat", "unknown-path", "errors.status.unknown-path"),
    "errors-wrong-method-404": ("models", "wrong-method", "errors.status.wrong-method"),
    "errors-oversized-body-400": ("chat", "oversized-body", "errors.status.oversized-body"),
    "errors-param-missing": ("embeddings", "invalid-param", "errors.param.named"),
}


def _target(server) -> Target:
    return Target(
        server.base_url,
        server.api_key,
        load_profile("openai"),
        model="scripted-chat",
        embedding_model="scripted-embed",
        timeout_s=10,
    )


def _outcome(target: Target, endpoint: str, condition: str, check_id: str):
    cell = build_cell(target, endpoint, condition)
    exchange = send(target, cell)
    context = {}
    if check_id.startswith("errors.status."):
        context["expected_status"] = target.profile.expected_status(condition)
    if check_id == "errors.param.named":
        context["param"] = cell.param
    return checks.run(check_id, exchange, **context), exchange


@pytest.mark.parametrize("fault_id", sorted(FAULT_CELLS))
def test_fault_fails_its_cell(start_server, fault_id: str) -> None:
    endpoint, condition, check_id = FAULT_CELLS[fault_id]
    faulty = _target(start_server(faults=FaultSet([fault_id])))
    clean = _target(start_server())
    try:
        bad, exchange = _outcome(faulty, endpoint, condition, check_id)
        good, _ = _outcome(clean, endpoint, condition, check_id)
    finally:
        faulty.close()
        clean.close()
    assert not bad.passed, f"{fault_id}: {check_id} passed (status {exchange.status})"
    assert bad.evidence.get("status") == exchange.status
    assert good.passed, f"clean server: {check_id} failed: {good.message}"


def test_every_cell_passes_on_the_clean_server(scripted_server) -> None:
    target = _target(scripted_server)
    failures = []
    try:
        for case in CELLS:
            endpoint, condition = case.split("-", 1)
            cell = build_cell(target, endpoint, condition)
            exchange = send(target, cell)
            expected = target.profile.expected_status(condition)
            ids = [f"errors.status.{condition}", "errors.envelope", "errors.no-5xx-for-client-error"]
            for check_id in ids:
                ctx = {"expected_status": expected} if check_id.startswith("errors.status.") else {}
                outcome = checks.run(check_id, exchange, **ctx)
                if not outcome.passed:
                    failures.append(f"{endpoint}-{condition}: {check_id}: {outcome.message}")
    finally:
        target.close()
    assert not failures, failures


@pytest.mark.parametrize(
    ("endpoint", "condition", "expected_class"),
    [
        ("chat", "no-key", "AuthenticationError"),
        ("embeddings", "bad-key", "AuthenticationError"),
        ("completions", "unknown-model", "NotFoundError"),
        ("models", "unknown-model", "NotFoundError"),
        ("chat", "invalid-param", "BadRequestError"),
        ("chat", "malformed-json", "BadRequestError"),
        ("chat", "wrong-content-type", "APIStatusError"),
        ("models", "wrong-method", "APIStatusError"),
        ("embeddings", "oversized-body", "APIStatusError"),
        ("responses", "unknown-model", "NotFoundError"),
        ("responses", "invalid-param", "BadRequestError"),
    ],
)
def test_sdk_exception_class(scripted_server, endpoint, condition, expected_class) -> None:
    """The same mistake through the openai SDK raises the class its status maps to."""
    target = _target(scripted_server)
    cell = build_cell(target, endpoint, condition)
    record = python_sdk_condition(target, endpoint, condition, cell.sdk_body, padding=cell.padding)
    assert record is not None and not record.ok
    assert record.error_class == expected_class, record.evidence()
    assert record.error_status == target.profile.expected_status(condition)
    assert scripted_server.api_key not in json.dumps(record.evidence())


@pytest.mark.slow
def test_faulty_run_records_failed_rows(tmp_path: Path) -> None:
    """The suite itself, with a fault on its embedded server: the no-key rows fail, the others pass."""
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "suites/errors",
        "-k",
        "no-key or bad-key",
        "-q",
        "-p",
        "no:cacheprovider",
    ]
    cmd += [
        "--compat-engine",
        "scripted",
        "--compat-fault",
        "errors-no-key-403",
        "--compat-report-dir",
        str(tmp_path),
    ]
    proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True, timeout=180, check=False)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert "test_errors[errors.matrix:chat-no-key]" in proc.stdout
    rows = json.loads((tmp_path / "results.json").read_text())["error_matrix"]
    verdicts = {(r["endpoint"], r["condition"]): r for r in rows}
    assert len(verdicts) == 10, sorted(verdicts)  # chat, completions, embeddings, responses, models
    for (_, condition), row in verdicts.items():
        if condition == "no-key":
            assert row["verdict"] == "fail" and row["status"] == 403, row
            assert row["sdk_exception"] == "PermissionDeniedError", row
        else:
            assert row["verdict"] == "pass" and row["status"] == 401, row
            assert row["sdk_exception"] == "AuthenticationError", row
