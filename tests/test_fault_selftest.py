"""The fault self-test, end to end: the suite itself, run against the reference server serving each
fault, fails that fault's check; run against the clean server, it fails nothing.

Each fault gets its own server (scripted engine, a loopback port) and its own pytest session
(`--compat-base-url` at that server, `--compat-report-dir` for results.json), limited to the scenario
runs the registry says prove the fault's check (compat_suite.scenarios.proving), so that a run takes
seconds. The runs go through long-lived workers (tests/_fault_selftest_worker.py; one per core and one
spare): each takes one job after another and runs it with `pytest.main` against a fresh server in a
thread, so the interpreter, pytest, the plugin and the SDKs start once per worker, not twice per fault. The
clean runs and one fault run use `python -m reference_server --fault ...` in a child process instead,
as the embedded default does, so the command-line path stays covered. A module fixture runs every job
the session selected; each parametrized test reads its own fault's results, so a failure names the fault.

tests/test_faults_catalog.py proves each fault at the check level, in-process; this proves that the
suites users run actually reach each check and report it.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from _repo import REPO_ROOT

from compat_suite.checks import registry
from compat_suite.checks.clients import node_sdk_unavailable
from compat_suite.cli import RUN_SUITES
from compat_suite.results import RESULTS_FILE
from compat_suite.scenarios import Scenario, proving
from reference_server import app as app_module
from reference_server.faults import Fault, catalog
from schemas import results_problems

pytestmark = pytest.mark.slow

# Workers run the jobs: one per core (server and suite share a worker's process), and one more to
# use the time some jobs spend waiting on a target that withholds bytes (the transport faults).
WORKERS = min(4, (os.cpu_count() or 2) + 1)
WORKER_SCRIPT = Path(__file__).with_name("_fault_selftest_worker.py")
RUN_TIMEOUT_S = 240.0
CLEAN, CLEAN_GOVERNANCE = "clean", "clean-governance"
# Runs whose server is `python -m reference_server` with `--fault` flags, as the embedded default starts it.
CHILD_SERVER_LABELS = frozenset({CLEAN, CLEAN_GOVERNANCE, "chat-object-wrong"})
FAULTS: dict[str, Fault] = dict(sorted(catalog().items()))
# Governance checks need a gateway, its admin API and a profile that declares keys, credits and
# health: the inferbase persona has all three.
GOVERNANCE_PERSONA = "inferbase"


@dataclass
class SuiteRun:
    """One pytest run of the suites against one server: what it found and how long it took."""

    label: str
    files: list[str]
    returncode: int | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    output: str = ""
    problems: list[str] = field(default_factory=list)  # where results.json breaks its schema

    def failed_checks(self) -> set[str]:
        """Checks that failed: a MUST's fail, a drift, or a SHOULD's warn (the runs are --compat-strict)."""
        return {f["check"] for f in self.findings if f["verdict"] in ("fail", "drift", "warn")}

    def describe(self) -> str:
        tail = "\n".join(self.output.splitlines()[-25:])
        shown = self.files if len(self.files) <= 6 else [*self.files[:6], f"... ({len(self.files)} in all)"]
        return (
            f"{self.label}: pytest rc={self.returncode} in {self.seconds:.1f} s over {shown}"
            f"\nfailed checks: {sorted(self.failed_checks())}\n--- output tail ---\n{tail}"
        )


def node_id(scenario: Scenario, case: str | None) -> str:
    """The pytest node of one scenario run, as the suites' thin test files name it."""
    suite = scenario.suite
    return f"suites/{suite}/test_{suite}.py::test_{suite}[{scenario.run_id(case)}]"


def nodes_proving(check_id: str) -> list[str]:
    """Every scenario run, in a suite `compat-suite run` runs, that proves `check_id`."""
    return [node_id(s, case) for s in proving(check_id) if s.suite in RUN_SUITES for s, case in s.runs()]


class Worker:
    """One worker process: a job at a time in over its stdin, a reply line out over its stdout."""

    def __init__(self, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "PYTEST_ADDOPTS")}
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # installed plugins cost ~3 s of imports a run
        env["COMPAT_STRICT"] = "1"  # a SHOULD check's fault fails the run too (a warning, under --strict)
        self._log = log.open("a", encoding="utf-8")
        self.proc = subprocess.Popen(
            [sys.executable, str(WORKER_SCRIPT)],
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self._replies: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self._replies.put(line)
        self._replies.put(None)  # the worker ended

    def run(self, job: dict[str, Any], timeout_s: float) -> dict[str, Any] | None:
        """The worker's reply to `job`, or None when it died or ran past `timeout_s`."""
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(job) + "\n")
            self.proc.stdin.flush()
            line = self._replies.get(timeout=timeout_s)
        except (OSError, queue.Empty):
            return None
        return json.loads(line) if line else None

    def close(self, timeout_s: float = 20.0) -> None:
        with contextlib.suppress(OSError):
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        try:
            self.proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout_s)
        self._log.close()


def job_for(label: str, out: Path) -> dict[str, Any]:
    faults, files, persona = plan(label)
    return {
        "label": label,
        "faults": faults,
        "files": files,
        "persona": persona,
        "out": str(out),
        "child_server": label in CHILD_SERVER_LABELS,
    }


def suite_run(job: dict[str, Any], reply: dict[str, Any] | None, seconds: float) -> SuiteRun:
    """What a job found: its reply and the results.json its pytest session wrote."""
    run = SuiteRun(job["label"], job["files"], seconds=seconds)
    if reply is None:
        run.output = f"the worker died or ran past {RUN_TIMEOUT_S:g} s on this job"
    else:
        run.returncode, run.output = reply["returncode"], reply["output"]
    results = Path(job["out"]) / RESULTS_FILE
    if results.is_file():
        document = json.loads(results.read_text(encoding="utf-8"))
        run.findings, run.problems = document.get("findings", []), results_problems(document)
    return run


def run_jobs(jobs: list[dict[str, Any]], root: Path) -> dict[str, SuiteRun]:
    """Every job, on `WORKERS` workers pulling from one queue; a worker that dies or hangs is replaced."""
    pending: queue.Queue[dict[str, Any]] = queue.Queue()
    for job in jobs:
        pending.put(job)
    runs: dict[str, SuiteRun] = {}

    def drain(number: int) -> None:
        log = root / f"worker-{number}.log"
        worker = Worker(log)
        try:
            while True:
                try:
                    job = pending.get_nowait()
                except queue.Empty:
                    return
                started = time.monotonic()
                reply = worker.run(job, RUN_TIMEOUT_S)
                runs[job["label"]] = suite_run(job, reply, time.monotonic() - started)
                if reply is None:
                    worker.proc.kill()
                    worker.close()
                    worker = Worker(log)
        finally:
            worker.close()

    threads = [threading.Thread(target=drain, args=(n,)) for n in range(min(WORKERS, len(jobs)))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return runs


def plan(label: str) -> tuple[list[str], list[str], str | None]:
    """(faults, pytest arguments: suite folders or scenario nodes, persona) of the run for a fault id,
    or for a clean run."""
    if label == CLEAN:
        return [], [f"suites/{suite}" for suite in RUN_SUITES if suite != "governance"], None
    if label == CLEAN_GOVERNANCE:
        return [], ["suites/governance"], GOVERNANCE_PERSONA
    check_id = FAULTS[label].check
    persona = GOVERNANCE_PERSONA if check_id.startswith("governance.") else None
    return [label], nodes_proving(check_id), persona


@pytest.fixture(scope="module")
def suite_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, SuiteRun]:
    """Every run the selected tests need, on `WORKERS` workers, by fault id (or CLEAN)."""
    labels = []
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        label = params.get("fault_id") or params.get("clean")
        if label and label not in labels:
            labels.append(label)
    root = tmp_path_factory.mktemp("selftest")
    jobs = [job for job in (job_for(label, root / label) for label in labels) if job["files"]]
    # The longest first, so that no worker is left with a long job at the end.
    jobs.sort(key=lambda job: (job["label"] not in (CLEAN, CLEAN_GOVERNANCE), -len(job["files"])))
    started = time.monotonic()
    runs = run_jobs(jobs, root)
    if runs:
        total = time.monotonic() - started
        slowest = sorted(runs.values(), key=lambda r: -r.seconds)[:5]
        shown = ", ".join(f"{r.label} {r.seconds:.1f} s" for r in slowest)
        print(f"\nfault self-test: {len(runs)} suite runs in {total:.1f} s; slowest: {shown}")
    return runs


# -- static ---------------------------------------------------------------------------------------------
def test_every_check_has_a_fault() -> None:
    covered = {f.check for f in FAULTS.values()}
    missing = sorted(set(registry()) - covered)
    assert not missing, f"checks no fault can make fail: {missing}"


def test_every_fault_names_a_registered_check() -> None:
    unknown = {f.id: f.check for f in FAULTS.values() if f.check not in registry()}
    assert not unknown, f"faults naming unregistered checks: {unknown}"


def test_every_check_is_run_by_a_suite() -> None:
    """A check no suite runs cannot fail in a user's run, whatever its fault does."""
    unrun = sorted(check_id for check_id in registry() if not nodes_proving(check_id))
    assert not unrun, f"checks that no test under suites/{{{','.join(RUN_SUITES)}}} runs: {unrun}"


# -- end to end -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("clean", [CLEAN, CLEAN_GOVERNANCE])
def test_clean_server_fails_nothing(clean: str, suite_runs: dict[str, SuiteRun]) -> None:
    run = suite_runs[clean]
    assert run.findings, f"the clean run recorded no findings\n{run.describe()}"
    assert not run.problems, f"results.json breaks schemas/results.schema.json: {run.problems[:5]}"
    assert not run.failed_checks() and run.returncode == 0, run.describe()


@pytest.mark.parametrize("fault_id", list(FAULTS))
def test_fault_fails_its_check(fault_id: str, suite_runs: dict[str, SuiteRun]) -> None:
    fault = FAULTS[fault_id]
    if fault.check == "clients.node-sdk.parse" and node_sdk_unavailable():
        pytest.fail(f"the Node SDK check cannot run here: {node_sdk_unavailable()}", pytrace=False)
    if fault.batch_stream and "batch_stream" not in Path(app_module.__file__).read_text(encoding="utf-8"):
        pytest.xfail("reference_server/app.py does not honour FaultSet.batch_stream yet")
    if fault_id not in suite_runs:
        pytest.fail(
            f"no test under suites/ runs {fault.check}, so {fault_id} cannot be caught", pytrace=False
        )
    run = suite_runs[fault_id]
    assert fault.check in run.failed_checks(), f"{fault_id} did not make {fault.check} fail\n{run.describe()}"
    if fault.check.startswith("clients."):  # the clients suite runs every SDK: only this one may fail
        others = {c for c in run.failed_checks() if c.startswith("clients.")} - {fault.check}
        assert not others, f"{fault_id} also made {sorted(others)} fail\n{run.describe()}"
    assert run.returncode == 1, f"pytest should exit 1 when a check fails\n{run.describe()}"
