"""Every persona at its documented defaults passes its own profile, run as a user would run it: the
persona served by `compat-suite serve --persona NAME` (its default request limit in force, no key made
unthrottled for the run) and `compat-suite run --base-url ... --profile NAME` against it. The target
paces itself to the limit the profile documents (Carpathian: 60 requests a minute), so no 429 turns
into a false failure; a persona whose profile documents no limit sets none.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from _peers import free_port, serving
from _repo import REPO_ROOT

from reference_server.personas import load_persona

PERSONAS = ("openai", "carrot", "carpathian", "karta", "inferbase")
ADMIN_KEY = "adm_personas_at_limits_0000"
RUN_TIMEOUT_S = 420


@pytest.mark.slow
@pytest.mark.parametrize("name", PERSONAS)
def test_a_persona_at_its_default_limits_passes_its_own_profile(name: str, tmp_path: Path) -> None:
    persona = load_persona(name)
    key = persona.gateway.key_prefix + "personas-at-their-limits-0000"
    port = free_port()
    serve = [sys.executable, "-m", "reference_server", "--persona", name, "--engine", "scripted"]
    serve += ["--host", "127.0.0.1", "--port", str(port), "--api-key", key, "--admin-key", ADMIN_KEY]
    serve += ["--gateway-db", str(tmp_path / "gateway.db"), "--log-level", "warning"]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPAT_", "OPENAI_"))}
    root = f"http://127.0.0.1:{port}"
    ready = root + persona.base_path + "/chat/completions"  # answers (401 without a key) once it is up
    with serving(serve, ready, tmp_path / "serve.log", timeout_s=60, env=env, cwd=REPO_ROOT, any_status=True):
        run = [
            sys.executable,
            "-m",
            "compat_suite",
            "run",
            "--base-url",
            root + persona.base_path,
            "--profile",
            name,
        ]
        run += ["--model", "scripted-chat", "--embedding-model", "scripted-embed", "--admin-key", ADMIN_KEY]
        run += ["--report-dir", str(tmp_path / "run"), "-q"]
        done = subprocess.run(
            run, cwd=tmp_path, env={**env, "COMPAT_API_KEY": key}, capture_output=True, text=True,
            timeout=RUN_TIMEOUT_S, check=False,
        )  # fmt: skip
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    summary = results["summary"]
    failing = sorted({f["check"] for f in results["findings"] if f["verdict"] in ("fail", "drift")})
    assert done.returncode == 0 and summary["verdict"] != "fail", (
        f"{name}: exit {done.returncode}, {summary}, failing {failing}, errors {results['errors'][:2]}\n"
        + done.stdout[-2000:]
    )
    assert summary["inconclusive"] == 0, f"{name}: requests the rate limit kept from being made: {summary}"
    assert summary["pass"] > 100, summary
