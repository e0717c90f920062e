"""action.yml, the composite GitHub Action: its run step, executed as a runner would, against the
reference server (clean: verdict pass; with a fault: verdict fail and a failing job)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from _repo import REPO_ROOT

from reference_server.faults import FaultSet

pytestmark = pytest.mark.slow
ACTION = yaml.safe_load((REPO_ROOT / "action.yml").read_text(encoding="utf-8"))
STEPS = {step.get("name") or step.get("uses"): step for step in ACTION["runs"]["steps"]}


def test_the_action_declares_its_inputs_and_steps() -> None:
    assert ACTION["runs"]["using"] == "composite"
    assert ACTION["inputs"]["base-url"]["required"] is True
    assert {
        "Install compat-suite",
        "Run compat-suite",
        "Upload the report",
        "Fail on a failing verdict",
    } <= set(STEPS)
    run_env = STEPS["Run compat-suite"]["env"]
    # every input that names the target reaches compat-suite through its declared environment variable
    assert run_env["COMPAT_BASE_URL"] == "${{ inputs.base-url }}"
    assert run_env["COMPAT_API_KEY"] == "${{ inputs.api-key }}"
    assert STEPS["Upload the report"]["if"] == "always()"


def run_step(base_url: str, api_key: str, tmp_path: Path) -> dict[str, str]:
    """The "Run compat-suite" step's script under bash, as the runner runs it; its outputs."""
    script = STEPS["Run compat-suite"]["run"]
    output = tmp_path / "github_output"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPAT_", "OPENAI_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        RUNNER_TEMP=str(tmp_path),
        GITHUB_OUTPUT=str(output),
        COMPAT_BASE_URL=base_url,
        COMPAT_API_KEY=api_key,
        COMPAT_MODEL="scripted-chat",
        COMPAT_EMBEDDING_MODEL="scripted-embed",
        COMPAT_PROFILE="openai",
        COMPAT_MAX_REQUESTS="",
        SUITES="conformance",
    )
    done = subprocess.run(
        ["bash", "-e", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]  # the step itself never fails
    return dict(line.split("=", 1) for line in output.read_text(encoding="utf-8").splitlines())


@pytest.fixture
def faulty_server(start_server) -> Iterator:
    yield start_server(faults=FaultSet(["chat-object-wrong"]))


def test_a_conformant_target_passes(scripted_server, tmp_path: Path) -> None:
    outputs = run_step(scripted_server.base_url, scripted_server.api_key, tmp_path)
    assert outputs["verdict"] == "pass" and outputs["rc"] == "0", outputs
    report = Path(outputs["report-dir"])
    assert (report / "index.html").is_file() and (report / "junit.xml").is_file()
    assert scripted_server.api_key not in (report / "results.json").read_text(encoding="utf-8")


def test_a_failing_target_fails_the_job(faulty_server, tmp_path: Path) -> None:
    outputs = run_step(faulty_server.base_url, faulty_server.api_key, tmp_path)
    assert outputs["verdict"] == "fail" and outputs["rc"] == "1", outputs
    results = json.loads((Path(outputs["report-dir"]) / "results.json").read_text(encoding="utf-8"))
    assert "chat.response.object" in {f["check"] for f in results["findings"] if f["verdict"] == "fail"}
    assert STEPS["Fail on a failing verdict"]["if"] == "steps.run.outputs.rc != '0'"
