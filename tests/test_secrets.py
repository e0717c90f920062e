"""No key and no `--header` value ever leaves the process: a whole `compat-suite run`, with a distinctive
key, admin key and header, against a target that echoes every header it gets back into its answers and
error messages (as servers do: "Incorrect API key provided: sk-..."), so that checks fail and scenarios
break with the secrets in hand. stdout, stderr and every file the run writes are searched for them.
A header named with `--header-public` is the one value that may be shown.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

API_KEY = "sk-grepme-api-key-7f3a9c1e5b"
ADMIN_KEY = "adm-grepme-admin-key-41d8e2"
HEADER_SECRET = "grepme-goog-header-value-9b7e"
HEADER_PUBLIC = "grepme-public-trace-value-2c"
SECRETS = (API_KEY, ADMIN_KEY, HEADER_SECRET)
RUN_TIMEOUT_S = 300


class _Echo(BaseHTTPRequestHandler):
    """Every answer carries the request's headers: GETs as a 200 JSON body, other methods in a 400
    error envelope's message, admin calls as a 500."""

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        if length:
            self.rfile.read(min(length, 10 * 1024 * 1024))
        echoed = dict(self.headers.items())
        if self.path.startswith("/admin"):
            status, body = 500, {"error": {"message": f"admin refused: {echoed}", "type": "server_error"}}
        elif self.command == "GET":
            status, body = 200, {"object": "list", "data": [], "echo": echoed}
        else:
            message = f"Incorrect request, headers were {echoed}"
            status, body = (
                400,
                {"error": {"message": message, "type": "invalid_request_error", "param": None}},
            )
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


@pytest.mark.slow
def test_no_secret_reaches_output_or_any_file_a_run_writes(echo_server: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COMPAT_", "OPENAI_"))}
    env["COMPAT_API_KEY"] = API_KEY  # the documented way to pass a key: never on a command line
    command = [sys.executable, "-m", "compat_suite", "run", "--base-url", echo_server + "/v1"]
    command += ["--model", "grep-model", "--embedding-model", "grep-embed", "--timeout", "10"]
    command += ["--header", f"X-Goog-Api-Key: {HEADER_SECRET}", "--header", f"X-Trace: {HEADER_PUBLIC}"]
    command += ["--header-public", "X-Trace", "--admin-key", ADMIN_KEY, "--admin-url", echo_server]
    command += ["--report-dir", str(tmp_path / "run"), "--suite", "conformance", "--suite", "errors"]
    command += ["--suite", "governance", "--suite", "clients", "-k", "not properties and not schemathesis"]
    done = subprocess.run(
        command, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=RUN_TIMEOUT_S, check=False
    )
    assert done.returncode == 1, done.stdout[-3000:] + done.stderr[-3000:]  # checks failed; nothing crashed
    results = json.loads((tmp_path / "run" / "results.json").read_text())
    assert results["summary"]["fail"] > 0 and results["summary"]["errors"] > 0, results["summary"]
    places = {"stdout": done.stdout, "stderr": done.stderr}
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert any(p.name == "junit.xml" for p in files) and any(p.name == "index.html" for p in files)
    places |= {str(p.relative_to(tmp_path)): p.read_text(encoding="utf-8", errors="replace") for p in files}
    leaks = {where: [s for s in SECRETS if s in text] for where, text in places.items()}
    leaks = {where: found for where, found in leaks.items() if found}
    assert not leaks, f"secrets leaked into: {leaks}"
    # The public header is shown (it is not redacted away with the rest).
    assert any(HEADER_PUBLIC in (p.read_text(errors="replace")) for p in files if p.name == "results.json")


def test_no_secret_in_the_argv_or_repr_of_the_load_runner(tmp_path: Path) -> None:
    """`compat-suite load` hands the target to its locust processes in their environment: the key and
    header values are in no command line and no repr."""
    from compat_suite.load._runner import locust_commands
    from compat_suite.load._target import LoadTarget
    from schemas import LoadShape

    values = {
        "base_url": "http://127.0.0.1:9/v1",
        "api_key": API_KEY,
        "header": [f"X-Goog-Api-Key: {HEADER_SECRET}"],
    }
    target = LoadTarget(values)
    shape = LoadShape(name="s", duration_s=1.0, users=1, workers=2)
    master, workers = locust_commands(
        base_url=target.base_url, locustfile=tmp_path / "locustfile.py", shape=shape, rate=None,
        options={"max_tokens": 4}, raw_path=tmp_path / "raw.json", port=5557,
    )  # fmt: skip
    argv = " ".join([*master, *(arg for worker in workers for arg in worker)])
    assert not [s for s in SECRETS if s in argv or s in repr(target)]
    carried = " ".join(target.environment().values())
    assert API_KEY in carried and HEADER_SECRET in carried  # the children still get them
