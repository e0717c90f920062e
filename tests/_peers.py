"""Third-party servers ("peers") the suite runs against in CI, and the contract each target file keeps.

A peer lives in its own virtualenv under .peers/<name>/, made by scripts/setup-peers (never in .venv).
docs/targets/<name>.yaml lists every check id the suite fails against it, each with the source line or
doc that explains it; `assert_failing_set_matches` holds a run to that list both ways: an unlisted
failure fails the test, and so does a listed deviation that stopped failing.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from _repo import REPO_ROOT

from compat_suite.checks import registry

PEERS_DIR = REPO_ROOT / ".peers"
SETUP_TIMEOUT_S = 900
FAILING = ("fail", "warn")  # a MUST that broke, or a SHOULD: both are listed
BASES = ("openapi", "convention", "doc")


def peer_python(name: str) -> Path:
    """The peer's interpreter, installing the peer first (scripts/setup-peers) when it is missing."""
    python = PEERS_DIR / name / "bin" / "python"
    done = subprocess.run(
        [str(REPO_ROOT / "scripts" / "setup-peers"), name],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=SETUP_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0 or not python.exists():
        pytest.fail(f"scripts/setup-peers {name} failed:\n{done.stderr[-3000:]}", pytrace=False)
    return python


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop a server's process group: SIGTERM, then SIGKILL after a bounded wait."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@contextmanager
def serving(
    command: list[str],
    health_url: str,
    log: Path,
    *,
    timeout_s: float,
    env: dict[str, str],
    cwd: Path,
    any_status: bool = False,
) -> Iterator[subprocess.Popen[bytes]]:
    """Run a server until its health URL answers 200 (any status with `any_status`); fail, with its
    log, when it does not in time."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            if process.poll() is not None:
                pytest.fail(f"{command[0]} exited ({process.returncode}):\n{_tail(log)}", pytrace=False)
            try:
                status = httpx.get(health_url, timeout=2).status_code
                if status == 200 or any_status:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"{command[0]} was not up within {timeout_s:g} s:\n{_tail(log)}", pytrace=False)
            time.sleep(0.5)
        yield process
    finally:
        stop(process)


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


def run_suite(
    paths: list[str], base_url: str, report_dir: Path, *, options: list[str], timeout_s: float
) -> dict[str, Any]:
    """The suites at `paths` against `base_url` (a pytest run of its own); its results.json."""
    command = [sys.executable, "-m", "pytest", *paths, "-q", "-p", "no:cacheprovider", "-p", "no:locust"]
    command += ["--compat-base-url", base_url, "--compat-report-dir", str(report_dir), *options]
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=timeout_s, check=False
    )
    # 0: all passed, 1: some tests failed; anything else is the suite breaking, not a finding.
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    assert results["summary"]["errors"] == 0, results.get("errors")
    assert results["summary"]["pass"] > 0, "nothing passed: the run verified nothing"
    return results


def load_target_file(path: Path) -> dict[str, Any]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def check_target_file(path: Path) -> None:
    """Every listed id is a registered check, with a reason, a basis and a source or doc line."""
    data = load_target_file(path)
    listed = data["deviations"]
    assert listed, f"{path.name} lists no deviation"
    unknown = sorted(set(listed) - set(registry()))
    assert not unknown, f"{path.name}: not check ids: {unknown}"
    for check_id, entry in listed.items():
        assert entry.get("reason"), f"{check_id}: no reason"
        assert entry.get("basis") in BASES, f"{check_id}: basis must be one of {BASES}"
        assert entry.get("source") or entry.get("doc"), f"{check_id}: no source line or doc"


def failing_checks(results: dict[str, Any]) -> dict[str, str]:
    """check id -> its first failing (or warning) message in a run."""
    out: dict[str, str] = {}
    for finding in results["findings"]:
        if finding["verdict"] in FAILING:
            out.setdefault(finding["check"], finding["message"])
    return out


def assert_failing_set_matches(results: dict[str, Any], path: Path) -> None:
    """The run fails exactly the checks the target file lists: no unlisted failure, no listed
    deviation that stopped failing."""
    failing = failing_checks(results)
    listed = set(load_target_file(path)["deviations"])
    unlisted = {check: message for check, message in failing.items() if check not in listed}
    gone = sorted(listed - set(failing))
    assert not unlisted and not gone, (
        f"{path.name} does not match the run:\n"
        f"  failing but not listed: {json.dumps(unlisted, indent=2)}\n"
        f"  listed but no longer failing (remove them, or find why): {gone}"
    )


def site_packages(name: str) -> Path | None:
    """The peer's site-packages folder (None when the peer is not installed here)."""
    found = sorted((PEERS_DIR / name).glob("lib/python*/site-packages"))
    return found[-1] if found else None


def installed_version(name: str, distribution: str) -> str | None:
    root = site_packages(name)
    if root is None:
        return None
    found = sorted(root.glob(f"{distribution}-*.dist-info"))
    return found[-1].name.removeprefix(f"{distribution}-").removesuffix(".dist-info") if found else None


def mismatched_cites(path: Path, root: Path) -> list[str]:
    """The target file's cited source lines (under `root`) that no longer say what it quotes."""
    wrong = []
    data = load_target_file(path)
    listed = {**(data.get("outside_the_ci_subset") or {}), **data["deviations"]}
    for check_id, entry in listed.items():
        for cite in entry.get("source") or []:
            file, _, line = cite["at"].rpartition(":")
            lines = (root / file).read_text(encoding="utf-8").splitlines()
            if cite["says"] not in lines[int(line) - 1]:
                wrong.append(f"{check_id}: {cite['at']} no longer says {cite['says']!r}")
    return wrong
