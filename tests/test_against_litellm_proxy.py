"""The suite against LiteLLM's proxy, a second server nobody on this team wrote, in front of the
reference server (scripted engine): what the proxy's translation layer changes is what fails.

LiteLLM runs from its own virtualenv, .peers/litellm/ (`litellm[proxy]` from the package index, made by
scripts/setup-peers; never .venv), with docs/targets/litellm-proxy.config.yaml. The slow test starts the
reference server and the proxy on free loopback ports, runs the conformance, streaming, errors and
clients suites through the proxy, and asserts that the failing check ids equal those
docs/targets/litellm-proxy.yaml lists, both ways. The write-up is docs/targets/litellm-proxy.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from _peers import (
    assert_failing_set_matches,
    check_target_file,
    free_port,
    installed_version,
    load_target_file,
    mismatched_cites,
    peer_python,
    run_suite,
    serving,
    site_packages,
)
from _repo import REPO_ROOT

PEER = "litellm"
TARGETS = REPO_ROOT / "docs" / "targets"
DEVIATIONS_FILE = TARGETS / "litellm-proxy.yaml"
CONFIG_FILE = TARGETS / "litellm-proxy.config.yaml"
# schemathesis's cases are left out: every listed deviation shows without them, and a case the proxy
# times out on under load (a 500) would make the set depend on the machine's load.
SUITES = [
    "suites/conformance",
    "suites/streaming",
    "suites/errors",
    "suites/clients",
    "-k",
    "not test_openapi_operation",
]
UPSTREAM_KEY = "sk-compat-upstream-0000000000"
PROXY_KEY = "sk-compat-litellm-master-0000"
START_TIMEOUT_S = 120
SUITE_TIMEOUT_S = 420


def test_the_target_file_lists_registered_checks_with_their_sources() -> None:
    check_target_file(DEVIATIONS_FILE)
    data = load_target_file(DEVIATIONS_FILE)
    assert data["litellm"] and data["config"] == CONFIG_FILE.name


@pytest.mark.slow
def test_cited_source_lines_say_what_the_file_quotes() -> None:
    peer_python(PEER)  # installs the pinned version the file was written against
    version = installed_version(PEER, "litellm")
    assert version == load_target_file(DEVIATIONS_FILE)["litellm"], f"scripts/setup-peers installed {version}"
    root = site_packages(PEER)
    assert root is not None
    assert not mismatched_cites(DEVIATIONS_FILE, root)


@pytest.mark.slow
def test_the_suite_through_litellm_fails_exactly_the_listed_checks(tmp_path: Path) -> None:
    python = peer_python(PEER)
    upstream_port, proxy_port = free_port(), free_port()
    upstream = [sys.executable, "-m", "reference_server", "--engine", "scripted", "--host", "127.0.0.1"]
    upstream += ["--port", str(upstream_port), "--api-key", UPSTREAM_KEY, "--log-level", "warning"]
    env = {
        **os.environ,
        "COMPAT_UPSTREAM_BASE": f"http://127.0.0.1:{upstream_port}/v1",
        "COMPAT_UPSTREAM_KEY": UPSTREAM_KEY,
        "LITELLM_MASTER_KEY": PROXY_KEY,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch of the cost map from the network
        "LITELLM_TELEMETRY": "False",
    }
    proxy = [str(python.parent / "litellm"), "--config", str(CONFIG_FILE), "--host", "127.0.0.1"]
    proxy += ["--port", str(proxy_port)]
    with (
        serving(upstream, f"http://127.0.0.1:{upstream_port}/v1/models", tmp_path / "upstream.log",
                timeout_s=30, env=env, cwd=REPO_ROOT, any_status=True),
        serving(proxy, f"http://127.0.0.1:{proxy_port}/health/liveliness", tmp_path / "litellm.log",
                timeout_s=START_TIMEOUT_S, env=env, cwd=tmp_path),
    ):  # fmt: skip
        options = ["--compat-api-key", PROXY_KEY, "--compat-model", "scripted-chat"]
        options += ["--compat-embedding-model", "scripted-embed"]
        results = run_suite(
            SUITES,
            f"http://127.0.0.1:{proxy_port}/v1",
            tmp_path / "run",
            options=options,
            timeout_s=SUITE_TIMEOUT_S,
        )
    assert_failing_set_matches(results, DEVIATIONS_FILE)
