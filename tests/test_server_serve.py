"""`compat-suite serve` / `python -m reference_server`: keys, the ready line, clean signals; the engine factory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from starlette.requests import Request

from reference_server.auth import GENERATED_PREFIX, KEYS_ENV, KeyAuth, resolve_keys
from reference_server.engines import load_engine
from reference_server.engines.scripted import ScriptedEngine
from reference_server.errors import APIError
from reference_server.serve import KEY_PREFIX, READY_PREFIX, build_parser

REPO = Path(__file__).resolve().parent.parent


def start_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "reference_server", "--engine", "scripted", "--port", "0", *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def read_until_ready(process: subprocess.Popen[str], timeout: float = 30.0) -> list[str]:
    """stdout lines up to and including the ready line (bounded in time)."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    assert process.stdout is not None
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line.rstrip("\n"))
        if line.startswith(READY_PREFIX):
            return lines
    process.kill()
    pytest.fail(f"no ready line; stdout={lines} stderr={process.stderr.read() if process.stderr else ''}")


def stop(process: subprocess.Popen[str], sig: signal.Signals) -> tuple[int, str]:
    process.send_signal(sig)
    try:
        _, stderr = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_prints_generated_key_and_ready_url_and_stops_cleanly(sig: signal.Signals) -> None:
    process = start_cli()
    lines = read_until_ready(process)
    key_line = next(line for line in lines if line.startswith(KEY_PREFIX))
    key = key_line.removeprefix(KEY_PREFIX)
    assert key.startswith(GENERATED_PREFIX)
    base_url = lines[-1].removeprefix(READY_PREFIX)
    assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
    ok = httpx.get(f"{base_url}/models", headers={"Authorization": f"Bearer {key}"})
    assert ok.status_code == 200
    denied = httpx.get(f"{base_url}/models", headers={"Authorization": "Bearer sk-nope-123456"})
    assert denied.status_code == 401
    code, stderr = stop(process, sig)
    assert code == 0, stderr
    assert key not in stderr  # logs never hold the key


def test_cli_takes_keys_from_flags_file_and_env(tmp_path: Path) -> None:
    key_file = tmp_path / "keys.txt"
    key_file.write_text("# team keys\nsk-from-file-aaaa\n\n")
    process = start_cli(
        "--api-key",
        "sk-from-flag-bbbb",
        "--api-key-file",
        str(key_file),
        env={KEYS_ENV: "sk-from-env-cccc, "},
    )
    lines = read_until_ready(process)
    assert not any(line.startswith(KEY_PREFIX) for line in lines)
    base_url = lines[-1].removeprefix(READY_PREFIX)
    for key in ("sk-from-flag-bbbb", "sk-from-file-aaaa", "sk-from-env-cccc"):
        response = httpx.get(f"{base_url}/models", headers={"Authorization": f"Bearer {key}"})
        assert response.status_code == 200, key
    code, stderr = stop(process, signal.SIGTERM)
    assert code == 0
    assert "sk-from-flag-bbbb" not in stderr


def test_cli_refuses_bad_usage() -> None:
    for args in (["--fault", "no-such-fault"], ["--api-key-file", "/nonexistent/keys"]):
        process = start_cli(*args)
        _, stderr = process.communicate(timeout=30)
        assert process.returncode == 2, stderr
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--engine", "nope"])
    process = subprocess.run(
        [sys.executable, "-m", "reference_server", "--engine", "transformers", "--token-delay-ms", "5"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert process.returncode == 2 and "--token-delay-ms" in process.stderr


def test_resolve_keys_generates_one_only_when_none_is_configured() -> None:
    generated = resolve_keys([], None, environ={})
    assert generated.generated and generated.keys[0].startswith(GENERATED_PREFIX)
    assert resolve_keys([], None, environ={}).keys != generated.keys
    configured = resolve_keys(["a-key", "a-key"], None, environ={KEYS_ENV: "b-key,,c-key"})
    assert configured == type(configured)(("a-key", "b-key", "c-key"), generated=False)


def _request(authorization: str | None) -> Request:
    headers = [] if authorization is None else [(b"authorization", authorization.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


def test_key_auth_accepts_only_configured_bearer_keys() -> None:
    auth = KeyAuth(["sk-one-1111", "sk-two-2222"])
    auth.check(_request("Bearer sk-two-2222"))
    auth.check(_request("bearer sk-one-1111"))
    for header in (None, "sk-one-1111", "Bearer sk-one-111", "Bearer sk-one-11111", "Token sk-one-1111"):
        with pytest.raises(APIError) as caught:
            auth.check(_request(header))
        assert caught.value.status == 401 and caught.value.code == "invalid_api_key"
    with pytest.raises(ValueError):
        KeyAuth([])


def test_load_engine_builds_scripted_without_torch_and_refuses_unknowns() -> None:
    engine = load_engine("scripted", model_name="m", embedding_model_name=None, token_delay_s=0.01)
    assert isinstance(engine, ScriptedEngine)
    assert (engine.model_name, engine.embedding_model_name, engine.token_delay_s) == (
        "m",
        "scripted-embed",
        0.01,
    )
    with pytest.raises(ValueError, match="unknown engine"):
        load_engine("nope")
    with pytest.raises(TypeError, match="device"):
        load_engine("scripted", device="cpu")
    probe = (
        "import sys, reference_server.engines as e; e.load_engine('scripted'); print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
