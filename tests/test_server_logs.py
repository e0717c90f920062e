"""Keys never reach the server's log, wherever a client puts them, and the admin key need not be
on a command line: `compat-suite serve --persona ... --admin-key-file F`, then keys in headers,
query strings and paths, then the whole log (and the process's argv) searched for them."""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

import httpx
import pytest
from test_server_serve import READY_PREFIX, read_until_ready, start_cli

from reference_server.serve import redact_log_text

ADMIN_KEY = "operator-chosen-admin-secret-42"


def _serve_with_admin_file(tmp_path: Path) -> tuple[subprocess.Popen[str], str]:
    key_file = tmp_path / "admin.key"
    key_file.write_text(ADMIN_KEY + "\n")
    process = start_cli("--persona", "openai", "--admin-key-file", str(key_file), "--log-level", "info")
    lines = read_until_ready(process)
    return process, lines[-1].removeprefix(READY_PREFIX).removesuffix("/v1")


def test_keys_are_redacted_from_the_access_log(tmp_path: Path) -> None:
    process, root = _serve_with_admin_file(tmp_path)
    try:
        assert ADMIN_KEY not in " ".join(process.args)  # not in argv, so not in `ps`
        admin = {"X-Admin-Key": ADMIN_KEY}
        created = httpx.post(
            f"{root}/admin/keys", json={"prefix": "zz-custom_", "credit_micros": 10**9}, headers=admin
        )
        assert created.status_code == 201, created.text  # the admin key from the file is the admin key
        minted = created.json()["key"]
        assert minted.startswith("zz-custom_")
        for key in (minted, ADMIN_KEY):
            httpx.get(f"{root}/v1/models?api_key={key}")
            httpx.get(f"{root}/v1/models?x={key}&limit=2")
            httpx.get(f"{root}/v1/keys/{key}")
            httpx.get(f"{root}/v1/models/{key}", headers={"Authorization": f"Bearer {key}"})
            httpx.get(f"{root}/admin/keys/{key}", headers=admin)
    finally:
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=15)
    log = stdout + stderr  # uvicorn's access log goes to stdout, the rest to stderr
    assert "GET /v1/models" in log, log[-2000:]  # the access log is on
    assert "[REDACTED]" in log
    for secret in (minted, minted.removeprefix("zz-custom_"), ADMIN_KEY):
        assert secret not in log, f"a key reached the log: {log[-2000:]}"


def test_admin_key_file_and_flag_are_exclusive(tmp_path: Path) -> None:
    key_file = tmp_path / "admin.key"
    key_file.write_text(ADMIN_KEY)
    process = start_cli(
        "--persona", "openai", "--admin-key-file", str(key_file), env={"COMPAT_ADMIN_KEY": "x" * 20}
    )
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 2 and "--admin-key-file" in stderr


@pytest.mark.parametrize(
    ("line", "kept"),
    [
        ("GET /v1/models/SmolLM2-135M-Instruct/health HTTP/1.1", True),
        ("GET /admin/keys/key_0123456789abcdef HTTP/1.1", True),
        ("GET /v1/models?limit=5 HTTP/1.1", True),
        ("GET /v1/models?token=abc HTTP/1.1", False),
        ("GET /v1/models?access_key=abc&limit=1 HTTP/1.1", False),
    ],
)
def test_redaction_keeps_what_is_not_a_key(line: str, kept: bool) -> None:
    assert (redact_log_text(line) == line) is kept
