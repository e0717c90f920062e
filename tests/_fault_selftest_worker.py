"""A long-lived worker of the fault self-test: runs the suites against one fault after another.

Started by tests/test_fault_selftest.py, a few at a time. It reads jobs, one JSON object a line, on
stdin: `{"label", "faults", "files", "persona", "out", "child_server"}`. For each it starts a fresh
reference server (scripted engine, the job's faults, a loopback port; the persona's gateway on a new
database when named), runs `pytest.main` on the job's suite folders or scenario nodes against it with
`--compat-report-dir out`, stops the server, and writes one JSON line `{"label", "returncode", "seconds",
"output"}` back. pytest's own output goes to `out/pytest.log`.

Why in-process: starting an interpreter, importing pytest, the plugin, the SDKs and the server,
twice per fault, cost more CPU than the suites' tests themselves. Here the libraries are imported
once; each job still gets its own server (a thread, not a process: the app is the one
`python -m reference_server` serves) and its own pytest session, and the suites' test modules are
dropped from `sys.modules` after each run, so nothing a run imports from suites/ outlives it. A job
with `child_server` uses `python -m reference_server --fault ...` instead, so the command line's
fault flags stay covered end to end.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# Imported here, once, so that each run's pytest session finds them loaded (see the module docstring).
# The pytest plugins are not: the first session imports them through its assertion rewriter.
import hypothesis  # noqa: F401
import openai  # noqa: F401
import pytest
from _repo import REPO_ROOT

from compat_suite.embedded import EmbeddedServer
from reference_server.app import create_app
from reference_server.engines import load_engine
from reference_server.faults import FaultSet
from reference_server.gateway import Gateway
from reference_server.personas import load_persona, seed_key
from reference_server.serve import BackgroundServer

MODELS = ("scripted-chat", "scripted-embed")
EXCHANGE_TIMEOUT_S = 20.0
SERVER_START_TIMEOUT_S = 60.0
# Installed pytest plugins (faker, locust, anyio, ...) stay out, as PYTEST_DISABLE_PLUGIN_AUTOLOAD keeps
# them out of a pytest process; ours (and schemathesis's, where its suite file is selected) come in.
PLUGIN_ARGS = ("-p", "no:cacheprovider", "-p", "compat_suite.plugin", "-p", "pytest_asyncio.plugin")
# Later sessions find the plugins imported (and rewritten) by the first, and would warn about it.
QUIET_ARGS = ("-W", "ignore::pytest.PytestAssertRewriteWarning")
SUITES_DIR = REPO_ROOT / "suites"


@contextlib.contextmanager
def in_process_server(faults: list[str], persona_name: str | None) -> Iterator[dict[str, str]]:
    """The reference server in a thread, built as `python -m reference_server --engine scripted` builds
    it (a persona over a gateway on a new database, when named): yields what points a run at it."""
    engine = load_engine("scripted")
    fault_set = FaultSet(faults)
    with contextlib.ExitStack() as stack:
        if persona_name:
            persona = load_persona(persona_name)
            key = persona.gateway.key_prefix + "selftest_" + secrets.token_urlsafe(18)
            admin_key = "adm_selftest_" + secrets.token_urlsafe(18)
            state = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="selftest-gateway-")))
            gateway = Gateway(state / "gateway.db", persona.gateway_config(admin_key))
            stack.callback(gateway.close)
            seed_key(gateway, persona, key, model=engine.model_name)
            app = persona.build(engine, gateway, faults=fault_set)
        else:
            key, admin_key = "sk-selftest-" + secrets.token_urlsafe(18), ""
            app = create_app(engine, api_keys=[key], faults=fault_set)
        server = BackgroundServer(app).start(SERVER_START_TIMEOUT_S)
        stack.callback(server.stop)
        base_url = server.root_url + persona.base_path if persona_name else server.base_url
        yield {"base_url": base_url, "api_key": key, "admin_key": admin_key, "root_url": server.root_url}


@contextlib.contextmanager
def child_process_server(faults: list[str], persona: str | None) -> Iterator[dict[str, str]]:
    """`python -m reference_server --engine scripted --fault ...` (the embedded default's way)."""
    server = EmbeddedServer(
        engine="scripted", faults=faults, persona=persona, start_timeout_s=SERVER_START_TIMEOUT_S
    )
    with server:
        assert server.base_url is not None
        yield {
            "base_url": server.base_url,
            "api_key": server.api_key,
            "admin_key": server.admin_key,
            "root_url": server.root_url,
        }


def pytest_args(job: dict[str, Any], target: dict[str, str]) -> list[str]:
    files = job["files"]
    args = [*files, "-q", *PLUGIN_ARGS, *QUIET_ARGS]
    if any(f.startswith("suites/conformance") and "::" not in f for f in files):  # test_schemathesis.py
        args += ["-p", "schemathesis.pytest.plugin"]
    args += ["--compat-base-url", target["base_url"], "--compat-model", MODELS[0]]
    args += ["--compat-embedding-model", MODELS[1]]
    args += ["--compat-timeout", str(EXCHANGE_TIMEOUT_S), "--compat-report-dir", job["out"]]
    if job["persona"]:
        args += ["--compat-profile", job["persona"], "--compat-admin-url", target["root_url"]]
    return args


def _forget_suite_modules() -> None:
    """Drop the suites' test modules and conftests, so that the next run imports its own."""
    for name, module in list(sys.modules.items()):
        path = getattr(module, "__file__", None) or ""
        if path.startswith(str(SUITES_DIR)) or Path(path).name == "conftest.py":
            del sys.modules[name]


def run_job(job: dict[str, Any]) -> dict[str, Any]:
    out = Path(job["out"])
    out.mkdir(parents=True, exist_ok=True)
    log = out / "pytest.log"
    started = time.monotonic()
    returncode: int | None = None
    server = child_process_server if job.get("child_server") else in_process_server
    try:
        with server(job["faults"], job["persona"]) as target:
            os.environ["COMPAT_API_KEY"] = target["api_key"]  # keys not on the command line
            os.environ["COMPAT_ADMIN_KEY"] = target["admin_key"]
            with log.open("w", encoding="utf-8") as sink, contextlib.redirect_stdout(sink):
                returncode = int(pytest.main(pytest_args(job, target)))
    except Exception as exc:  # the job fails, the worker goes on; the test reports it with this text
        with log.open("a", encoding="utf-8") as sink:
            sink.write(f"\nthe self-test worker could not run the job: {type(exc).__name__}: {exc}\n")
    finally:
        os.environ.pop("COMPAT_API_KEY", None)
        os.environ.pop("COMPAT_ADMIN_KEY", None)
        _forget_suite_modules()
    output = log.read_text(encoding="utf-8", errors="replace") if log.is_file() else ""
    return {
        "label": job["label"],
        "returncode": returncode,
        "seconds": time.monotonic() - started,
        "output": output[-20_000:],
    }


def main() -> int:
    os.chdir(REPO_ROOT)
    # pytest's fd capture swaps fd 1 while tests run; replies go out on a copy of it.
    replies = os.fdopen(os.dup(sys.stdout.fileno()), "w", encoding="utf-8", buffering=1)
    for line in sys.stdin:
        if line.strip():
            replies.write(json.dumps(run_job(json.loads(line))) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
