"""The SDK clients and the pre-check meet every hostile mode within their bounds.

The official SDKs read whole bodies by themselves; here each of them (openai-python sync and async,
openai-node) is pointed at every mode of tests/hostile_server.py through `compat_suite.clients`, and
must end each call within the deadline with a failed record, having buffered no more than the cap.
`compat_suite.target.probe` (the pre-check of `compat-suite run`) must end within its timeout on
every mode, and call a target that accepts connections reachable. `compat-suite run --suite clients`
itself is run against the modes that used to take it down (an endless, huge, dripping or resetting
target): a report with a finding, in bounded time and memory.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest
from _repo import REPO_ROOT
from hostile_server import MODES, HostileServer

from compat_suite.checks.clients import node_sdk_unavailable
from compat_suite.clients import ClientRecord, run_node, run_python, run_python_async, standard_calls
from compat_suite.target import Target, TargetUnreachable, probe
from schemas import Profile

TIMEOUT_S = 2.0
SLACK_S = 5.0  # thread wake-ups on 2 busy cores (a model server may share them): far below a mode's 30 s
CAP = 1024 * 1024  # the body cap the SDKs get here: the huge mode sends 100 times more
GROWTH_LIMIT = 64 * 1024 * 1024  # what the test process may grow by while the SDKs read
API_KEY = "sk-hostile-sdk-0123456789abcdef"
PROFILE = Profile(
    name="hostile-sdk",
    base_path="/v1",
    endpoints={"chat": "/chat/completions", "completions": "/completions", "models": "/models"},
)
# Modes whose answer no client can take as complete: every SDK call must fail, within the deadline.
TRANSPORT_BROKEN = (
    "drip-body",
    "drip-head",
    "endless",
    "headers-only",
    "huge",
    "not-http",
    "reset",
    "sse-endless",
)
RUNNERS: dict[str, Callable[[Target, list], list[ClientRecord]]] = {
    "python": run_python,
    "python-async": run_python_async,
    "node": run_node,
}


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileServer]:
    with HostileServer() as server:
        yield server


class _PeakRss:
    """The process's resident memory, sampled every 50 ms while the block runs."""

    def __enter__(self) -> _PeakRss:
        self._process = psutil.Process()
        self.start = self.peak = self._process.memory_info().rss
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._process.memory_info().rss)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def growth(self) -> int:
        return self.peak - self.start


@pytest.mark.parametrize("mode", sorted(MODES))
def test_sdk_clients_are_bounded(hostile: HostileServer, mode: str) -> None:
    """Every SDK ends each call (unary and streamed) within the deadline, failed, with the cap held."""
    if node_sdk_unavailable():
        pytest.fail(f"the Node SDK must be installed for this test: {node_sdk_unavailable()}")
    records: dict[str, list[ClientRecord]] = {}
    elapsed: dict[str, float] = {}

    def run(sdk: str) -> None:
        target = Target(
            hostile.base_url(mode), API_KEY, PROFILE, model="m", timeout_s=TIMEOUT_S, max_body_bytes=CAP
        )
        calls = [c for c in standard_calls(target) if c.id in ("chat", "chat_stream")]
        started = time.monotonic()
        try:
            records[sdk] = RUNNERS[sdk](target, calls)
        finally:
            elapsed[sdk] = time.monotonic() - started
            target.close()

    with _PeakRss() as rss:
        threads = [threading.Thread(target=run, args=(sdk,)) for sdk in RUNNERS]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    for sdk in RUNNERS:
        assert sdk in records, f"{sdk}: no records on {mode}"
        # node: its own start (a few seconds on a busy machine) on top of the two deadlines
        budget = 2 * (TIMEOUT_S + SLACK_S) + (15 if sdk == "node" else 0)
        assert elapsed[sdk] < budget, f"{sdk} took {elapsed[sdk]:.1f} s on {mode} (all: {elapsed})"
        for record in records[sdk]:
            if mode in TRANSPORT_BROKEN:  # elsewhere an SDK may be lenient: the clients checks judge that
                assert not record.ok, f"{sdk} accepted {mode}'s answer to {record.call.id}: {record.result}"
                assert record.error_class, record
            assert API_KEY not in (record.error_message or "")
    assert rss.growth < GROWTH_LIMIT, f"the suite grew by {rss.growth / 2**20:.0f} MiB on {mode}"


def test_sdk_cap_names_the_limit(hostile: HostileServer) -> None:
    """A body past the cap is a transport error that says so (not a buffer that grows)."""
    target = Target(hostile.base_url("huge"), API_KEY, PROFILE, model="m", timeout_s=10, max_body_bytes=CAP)
    try:
        [record] = run_python(target, [c for c in standard_calls(target) if c.id == "chat"])
    finally:
        target.close()
    assert not record.ok and f"limit of {CAP} bytes" in (record.error_message or ""), record


@pytest.mark.parametrize("mode", sorted(MODES))
def test_precheck_is_bounded(hostile: HostileServer, mode: str) -> None:
    """The pre-check ends within its timeout on every mode; a target that connects is reachable."""
    started = time.monotonic()
    with _PeakRss() as rss:
        trouble = probe(hostile.base_url(mode), timeout_s=TIMEOUT_S)
    assert time.monotonic() - started < TIMEOUT_S + SLACK_S
    assert trouble is None or "GET /models" in trouble
    assert rss.growth < GROWTH_LIMIT


def test_precheck_refuses_what_does_not_connect() -> None:
    with socket.socket() as s:  # a loopback port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TargetUnreachable):
        probe(f"http://127.0.0.1:{port}/v1", timeout_s=TIMEOUT_S)


RUN_MODES = ("endless", "huge", "drip-head", "reset")  # what took `--suite clients` down before


@pytest.mark.slow
@pytest.mark.parametrize("mode", RUN_MODES)
def test_clients_suite_run_survives(hostile: HostileServer, mode: str, tmp_path: Path) -> None:
    """`compat-suite run --suite clients` ends with a report and a finding, under 500 MB."""
    env = {**os.environ, "COMPAT_API_KEY": API_KEY, "OPENAI_API_KEY": ""}
    cmd = [sys.executable, "-m", "compat_suite", "run", "--base-url", hostile.base_url(mode),
           "--model", "m", "--embedding-model", "e", "--timeout", str(TIMEOUT_S),
           "--report-dir", str(tmp_path), "--suite", "clients", "-q"]  # fmt: skip
    started = time.monotonic()
    process = subprocess.Popen(cmd, cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    peak = _tree_peak(process, deadline=time.monotonic() + 180)
    output = process.stdout.read().decode() if process.stdout else ""
    elapsed = time.monotonic() - started
    assert process.returncode == 1, f"exit {process.returncode} after {elapsed:.0f} s:\n{output[-3000:]}"
    assert (tmp_path / "index.html").is_file()
    results = (tmp_path / "results.json").read_text()
    assert '"verdict": "fail"' in results, output[-2000:]
    assert API_KEY not in results
    assert peak < 500 * 2**20, f"peak {peak / 2**20:.0f} MB"


def _tree_peak(process: subprocess.Popen, deadline: float) -> int:
    """Peak resident memory of `process` and its children until it exits (killed at `deadline`)."""
    parent, peak = psutil.Process(process.pid), 0
    while process.poll() is None:
        if time.monotonic() > deadline:
            process.kill()
            process.wait(10)
            raise AssertionError("the run did not end in time")
        try:
            tree = [parent, *parent.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
        except psutil.Error:
            pass
        time.sleep(0.1)
    return peak
