"""The fault self-test, end to end: the suite itself, run against the reference server serving each
fault, fails that fault's check; run against the clean server, it fails nothing.

Each fault gets its own server (`EmbeddedServer`, scripted engine, a child process on a loopback
port) and its own pytest subprocess (`--base-url` at that server, `--report-dir` for results.json),
limited to the suite files that name the fault's check (and, for the generation areas, to the tests
of that endpoint), so that a run takes seconds. Runs go `WORKERS` at a time; a module fixture
starts them all for the faults the session selected, and each parametrized test reads its own
fault's results, so that a failure names the fault.

tests/test_faults_catalog.py proves each fault at the check level, in-process; this proves that the
suites users run actually reach each check and report it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from compat_suite._paths import REPO_ROOT, SUITES_DIR
from compat_suite.checks import registry
from compat_suite.checks._clients import node_sdk_unavailable
from compat_suite.cli import RUN_SUITES
from compat_suite.embedded import EmbeddedServer, EmbeddedServerError
from compat_suite.results import RESULTS_FILE
from reference_server import app as app_module
from reference_server.faults import Fault, catalog

pytestmark = pytest.mark.slow

WORKERS = 3  # suite runs at a time (each is a server and a pytest process, mostly waiting on each other)
RUN_TIMEOUT_S = 240.0
EXCHANGE_TIMEOUT_S = 20.0
CLEAN, CLEAN_GOVERNANCE = "clean", "clean-governance"
MODELS = ("scripted-chat", "scripted-embed")
# Narrow a generation area's files to its endpoint's tests (the property suite tests every
# endpoint in one file; invalid-request properties prove error checks, not response checks).
KEYWORDS = {
    "chat": "chat and not invalid",
    "completions": "completions and not invalid",
    "embeddings": "embeddings and not invalid",
    "models": "model",
    "stream": "stream",
    "errors": "invalid or error or openapi",
}
FAULTS: dict[str, Fault] = dict(sorted(catalog().items()))
# Installed pytest plugins (faker, locust, anyio, ...) cost ~3 s of CPU per run to import; a run
# loads only ours (and schemathesis's, where its suite file is selected).
PLUGIN_ARGS = ("-p", "no:cacheprovider", "-p", "compat_suite.plugin", "-p", "pytest_asyncio.plugin")
SCHEMATHESIS_FILE = "test_schemathesis.py"
# Governance checks need a gateway, its admin API and a profile that declares keys, credits and
# health: the inferbase persona has all three.
GOVERNANCE_PERSONA = "inferbase"


@dataclass
class SuiteRun:
    """One pytest run of the suites against one server: what it found and how long it took."""

    label: str
    files: list[str]
    keyword: str | None
    returncode: int | None = None
    findings: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    output: str = ""

    def failed_checks(self) -> set[str]:
        return {f["check"] for f in self.findings if f["verdict"] in ("fail", "drift")}

    def describe(self) -> str:
        tail = "\n".join(self.output.splitlines()[-25:])
        return (
            f"{self.label}: pytest rc={self.returncode} in {self.seconds:.1f} s over {self.files}"
            f" (-k {self.keyword!r})\nfailed checks: {sorted(self.failed_checks())}\n--- output tail ---\n{tail}"
        )


@cache
def _suite_sources() -> dict[str, str]:
    """Source of every test file of the suites `compat-suite run` runs, by path relative to the repo."""
    out = {}
    for suite in RUN_SUITES:
        for path in sorted((SUITES_DIR / suite).rglob("test_*.py")):
            if "node_modules" not in path.parts:
                out[str(path.relative_to(REPO_ROOT))] = path.read_text(encoding="utf-8")
    return out


def files_naming(check_id: str) -> list[str]:
    """The suite files that run `check_id`: its id appears there as a string literal, or an
    f-string builds it from a prefix (`f"errors.status.{condition}"`)."""
    parts = check_id.split(".")
    prefixes = [".".join(parts[:i]) + "." for i in range(1, len(parts))]
    needles = [f'"{check_id}"', f"'{check_id}'", *(f'f"{p}{{' for p in prefixes)]
    return [path for path, text in _suite_sources().items() if any(n in text for n in needles)]


def run_suite(
    label: str, faults: Sequence[str], files: list[str], keyword: str | None, persona: str | None, out: Path
) -> SuiteRun:
    """Start a scripted server with `faults` (as `persona` when given: a gateway with an admin API),
    run pytest on `files` against it, and read the results.json it writes."""
    run = SuiteRun(label, files, keyword)
    started = time.monotonic()
    server = EmbeddedServer(engine="scripted", faults=list(faults), persona=persona, start_timeout_s=60.0)
    try:
        with server:
            assert server.base_url is not None
            cmd = [sys.executable, "-m", "pytest", *files, "-q", *PLUGIN_ARGS]
            if any(Path(f).name == SCHEMATHESIS_FILE for f in files):
                cmd += ["-p", "schemathesis.pytest.plugin"]
            cmd += ["--base-url", server.base_url, "--model", MODELS[0], "--embedding-model", MODELS[1]]
            cmd += ["--timeout", str(EXCHANGE_TIMEOUT_S), "--report-dir", str(out)]
            cmd += ["-k", keyword] if keyword else []
            if persona:
                cmd += ["--profile", persona, "--admin-key", server.admin_key, "--admin-url", server.root_url]
            env = {k: v for k, v in os.environ.items() if k not in ("OPENAI_API_KEY", "PYTEST_ADDOPTS")}
            env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
            env["COMPAT_API_KEY"] = server.api_key  # not on the command line
            proc = subprocess.run(
                cmd,
                cwd=REPO_ROOT,
                env=env,
                capture_output=True,
                text=True,
                timeout=RUN_TIMEOUT_S,
                check=False,
            )
            run.returncode, run.output = proc.returncode, proc.stdout + proc.stderr
    except (EmbeddedServerError, subprocess.TimeoutExpired) as exc:
        run.output = f"{type(exc).__name__}: {exc}"
    run.seconds = time.monotonic() - started
    results = out / RESULTS_FILE
    if results.is_file():
        run.findings = json.loads(results.read_text(encoding="utf-8")).get("findings", [])
    return run


def plan(label: str) -> tuple[list[str], list[str], str | None, str | None]:
    """(faults, files, -k keyword, persona) of the run for a fault id, or for a clean run."""
    governance = sorted(p for p in _suite_sources() if p.startswith("suites/governance/"))
    if label == CLEAN:
        return [], sorted(set(_suite_sources()) - set(governance)), None, None
    if label == CLEAN_GOVERNANCE:
        return [], governance, None, GOVERNANCE_PERSONA
    check_id = FAULTS[label].check
    area = check_id.split(".", 1)[0]
    persona = GOVERNANCE_PERSONA if area == "governance" else None
    return [label], files_naming(check_id), KEYWORDS.get(area), persona


@pytest.fixture(scope="module")
def suite_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, SuiteRun]:
    """Every run the selected tests need, `WORKERS` at a time, by fault id (or CLEAN)."""
    labels = []
    for item in request.session.items:
        params = getattr(getattr(item, "callspec", None), "params", {})
        label = params.get("fault_id") or params.get("clean")
        if label and label not in labels:
            labels.append(label)
    root = tmp_path_factory.mktemp("selftest")
    jobs = {label: plan(label) for label in labels}
    runnable = {label: job for label, job in jobs.items() if job[1]}
    started = time.monotonic()
    with ThreadPoolExecutor(WORKERS) as pool:
        futures = {
            label: pool.submit(run_suite, label, *job, root / label) for label, job in runnable.items()
        }
        runs = {label: future.result() for label, future in futures.items()}
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
    unrun = sorted(check_id for check_id in registry() if not files_naming(check_id))
    assert not unrun, f"checks that no test under suites/{{{','.join(RUN_SUITES)}}} runs: {unrun}"


# -- end to end -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("clean", [CLEAN, CLEAN_GOVERNANCE])
def test_clean_server_fails_nothing(clean: str, suite_runs: dict[str, SuiteRun]) -> None:
    run = suite_runs[clean]
    assert run.findings, f"the clean run recorded no findings\n{run.describe()}"
    assert not run.failed_checks() and run.returncode == 0, run.describe()


@pytest.mark.parametrize("fault_id", list(FAULTS))
def test_fault_fails_its_check(fault_id: str, suite_runs: dict[str, SuiteRun]) -> None:
    fault = FAULTS[fault_id]
    if fault.check == "clients.node-sdk.parse" and node_sdk_unavailable():
        pytest.skip(node_sdk_unavailable())
    if fault.batch_stream and "batch_stream" not in Path(app_module.__file__).read_text(encoding="utf-8"):
        pytest.xfail("reference_server/app.py does not honour FaultSet.batch_stream yet")
    if fault_id not in suite_runs:
        pytest.fail(
            f"no test under suites/ runs {fault.check}, so {fault_id} cannot be caught", pytrace=False
        )
    run = suite_runs[fault_id]
    assert fault.check in run.failed_checks(), f"{fault_id} did not make {fault.check} fail\n{run.describe()}"
    assert run.returncode == 1, f"pytest should exit 1 when a check fails\n{run.describe()}"
