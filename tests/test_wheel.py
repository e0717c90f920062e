"""The package as users get it: a wheel, installed into a fresh virtualenv beside other pytest plugins.

Built from this checkout, installed with pytest-timeout, pytest-base-url and pytest-xdist (each owns
an option a careless plugin would also declare), then used from an empty folder outside the
checkout: an unrelated test file passes under plain pytest with the standard library unpatched, and
`compat-suite run` against `compat-suite serve --engine scripted` (both from the wheel) passes and
writes its report into ./compat-reports/. It downloads the core dependencies from the package index.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest
from _repo import REPO_ROOT

pytestmark = pytest.mark.slow

OTHER_PLUGINS = ("pytest-timeout", "pytest-base-url", "pytest-xdist")
INSTALL_TIMEOUT_S = 900
RUN_TIMEOUT_S = 600
UNRELATED_TEST = """
import socket
import sys

import pytest


def test_plain_pytest_is_left_alone(request):
    assert socket.socket.__module__ == "socket", socket.socket.__module__  # not gevent's
    heavy = sorted(m for m in ("gevent", "locust", "torch") if m in sys.modules)
    assert not heavy, heavy
    # the options of the other plugins are theirs; ours are namespaced
    assert request.config.getoption("timeout") == 30
    assert request.config.getoption("base_url") == "http://example.invalid"
    assert request.config.getoption("compat_base_url") is None


def test_no_suite_fixture_leaks_into_an_unrelated_run(request):
    for name in ("target", "verify", "results", "run_scenario"):
        try:
            request.getfixturevalue(name)
        except pytest.FixtureLookupError:
            continue
        else:
            raise AssertionError(f"fixture {name!r} is defined outside the suites")
"""


def _run(cmd: list[str], cwd: Path, timeout: float, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    output = done.stdout[-4000:] + done.stderr[-4000:]
    assert done.returncode == 0, f"{' '.join(cmd[:4])} ... exit {done.returncode}:\n{output}"
    return output


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    """(the fresh virtualenv's bin folder, an empty folder outside the checkout)."""
    root = tmp_path_factory.mktemp("wheel")
    started = time.monotonic()
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO_ROOT),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(root / "dist"),
        ],
        cwd=root,
        timeout=INSTALL_TIMEOUT_S,
    )
    wheels = list((root / "dist").glob("compat_suite-*.whl"))
    assert len(wheels) == 1, wheels
    built = time.monotonic()
    venv.EnvBuilder(with_pip=True).create(root / "venv")
    bin_dir = root / "venv" / "bin"
    _run(
        [str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheels[0]), *OTHER_PLUGINS],
        cwd=root,
        timeout=INSTALL_TIMEOUT_S,
    )
    print(
        f"\nwheel: built in {built - started:.1f} s, installed with its dependencies in "
        f"{time.monotonic() - built:.1f} s",
        file=sys.stderr,
    )
    work = root / "elsewhere"
    work.mkdir()
    yield bin_dir, work


def test_the_wheel_carries_the_data_the_suite_needs(installed: tuple[Path, Path]) -> None:
    bin_dir, work = installed
    script = (
        "import schemas, suites, compat_suite.node, pathlib, json; "
        "root = pathlib.Path(suites.__file__).parent; "
        "print(json.dumps({'profiles': schemas.available_profiles(), "
        "'suites': sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith('_')), "
        "'openapi': schemas.OPENAPI_PATH.is_file(), 'budgets': schemas.BUDGETS_DIR.is_dir()}))"
    )
    shown = json.loads(
        _run([str(bin_dir / "python"), "-c", script], cwd=work, timeout=60).strip().splitlines()[-1]
    )
    assert shown["profiles"] == ["carpathian", "carrot", "inferbase", "karta", "openai"], shown
    suites = {
        "conformance",
        "streaming",
        "responses",
        "errors",
        "clients",
        "governance",
        "load",
        "performance",
    }
    assert suites <= set(shown["suites"]), shown
    assert shown["openapi"] and shown["budgets"], shown


def test_an_unrelated_pytest_run_is_left_alone(installed: tuple[Path, Path]) -> None:
    bin_dir, work = installed
    (work / "test_unrelated.py").write_text(UNRELATED_TEST, encoding="utf-8")
    base = [str(bin_dir / "python"), "-m", "pytest", "test_unrelated.py", "-q", "-p", "no:cacheprovider"]
    base += ["--timeout", "30", "--base-url", "http://example.invalid"]
    _run(base, cwd=work, timeout=RUN_TIMEOUT_S)
    _run([*base, "-n", "2"], cwd=work, timeout=RUN_TIMEOUT_S)  # and under pytest-xdist's workers


def test_compat_suite_run_passes_from_an_empty_folder(installed: tuple[Path, Path]) -> None:
    bin_dir, work = installed
    key = "sk-wheel-test-0123456789"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPAT_", "OPENAI_"))}
    server = subprocess.Popen(
        [
            str(bin_dir / "compat-suite"),
            "serve",
            "--engine",
            "scripted",
            "--port",
            "0",
            "--log-level",
            "warning",
        ],
        cwd=work,
        env={**env, "COMPAT_SERVER_API_KEYS": key},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base_url = None
        assert server.stdout is not None
        deadline = time.monotonic() + 120
        while base_url is None and time.monotonic() < deadline:
            line = server.stdout.readline()
            if not line:
                break
            match = re.search(r"ready at (http://\S+)", line)
            base_url = match.group(1) if match else None
        assert base_url, "compat-suite serve did not say where it is ready"
        started = time.monotonic()
        output = _run(
            [str(bin_dir / "compat-suite"), "run", "--base-url", base_url, "--model", "scripted-chat",
             "--embedding-model", "scripted-embed", "-q"],
            cwd=work,
            timeout=RUN_TIMEOUT_S,
            env={**env, "COMPAT_API_KEY": key},
        )  # fmt: skip
        print(f"\ncompat-suite run from the wheel: {time.monotonic() - started:.1f} s", file=sys.stderr)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert "compat-suite: PASS" in output, output
    assert (work / "compat-reports" / "latest" / "index.html").is_file()
    results = json.loads((work / "compat-reports" / "latest" / "results.json").read_text(encoding="utf-8"))
    assert results["summary"]["verdict"] == "pass" and results["summary"]["pass"] > 100, results["summary"]
    assert key not in json.dumps(results)
