"""schemathesis against the reference server, positive and negative, thousands of cases: no 5xx.

    python benchmarks/bench_server_schemathesis.py [--examples 350] [--engine scripted]

Starts `python -m reference_server` on a free port, then runs the schemathesis CLI over
schemas/openapi.yaml in every generation mode (positive and negative, with its coverage, fuzzing
and stateful phases), judged by `not_a_server_error` alone: whatever the request, the answer must
not be a 5xx. A hook gives string `model` fields the served model's name half of the time, so that
positive cases reach generation instead of stopping at the unknown-model 404. Prints the number of
cases, the failures, and the server's answers by status (from its access log).
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
KEY = "sk-bench-schemathesis-0123456789"
READY = "compat-suite reference server ready at "
HOOKS = '''
import zlib
import schemathesis

CHAT, EMBED = {chat!r}, {embed!r}


@schemathesis.hook
def map_body(ctx, body):
    """Half of the string model names become the served model (deterministically)."""
    if isinstance(body, dict) and isinstance(body.get("model"), str):
        if zlib.crc32(body["model"].encode("utf-8", "replace")) % 2 == 0:
            embeddings = ctx.operation.path.endswith("/embeddings")
            body["model"] = EMBED if embeddings else CHAT
    return body
'''


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=350, help="schemathesis --max-examples per operation")
    parser.add_argument("--engine", default="scripted", choices=("scripted", "transformers"))
    args = parser.parse_args()

    server = subprocess.Popen(
        [sys.executable, "-m", "reference_server", "--engine", args.engine, "--port", "0", "--api-key", KEY],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        base_url = _ready(server)
        access_log: list[str] = []  # uvicorn writes it to stdout: drained, so that the server never blocks
        drain = threading.Thread(target=lambda: access_log.extend(server.stdout or []), daemon=True)
        drain.start()
        chat, embed = ("scripted-chat", "scripted-embed") if args.engine == "scripted" else (
            "SmolLM2-135M-Instruct", "all-MiniLM-L6-v2")  # fmt: skip
        with tempfile.TemporaryDirectory() as hooks_dir:
            (Path(hooks_dir) / "bench_hooks.py").write_text(HOOKS.format(chat=chat, embed=embed))
            env = {**os.environ, "PYTHONPATH": hooks_dir, "SCHEMATHESIS_HOOKS": "bench_hooks"}
            command = [str(Path(sys.executable).parent / "schemathesis"), "run", str(REPO / "schemas/openapi.yaml"),
                       "--url", base_url, "--mode", "all", "--max-examples", str(args.examples),
                       "--checks", "not_a_server_error", "--generation-deterministic", "--no-color",
                       "--header", f"Authorization: Bearer {KEY}", "--request-timeout", "60"]  # fmt: skip
            started = time.monotonic()
            # cwd: schemathesis leaves a .schemathesis/ folder where it runs
            run = subprocess.run(command, cwd=hooks_dir, env=env, capture_output=True, text=True, check=False)
            elapsed = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(30)
        drain.join(10)
    output = run.stdout + run.stderr
    cases = re.search(r"(\d+) generated, (\d+) passed(?:, (\d+) failed)?", output)
    statuses = collections.Counter(re.findall(r'HTTP/1\.1" (\d{3})', "".join(access_log)))
    print(f"schemathesis {args.engine}: exit {run.returncode} in {elapsed:.0f} s")
    print("  " + (cases.group(0) if cases else "no case count found"))
    print("  server answers by status: " + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items())))
    print(f"  5xx answers: {sum(n for s, n in statuses.items() if s.startswith('5'))}")
    if run.returncode != 0:
        print(output[-4000:])
    return run.returncode


def _ready(server: subprocess.Popen[str]) -> str:
    assert server.stdout is not None
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        line = server.stdout.readline()
        if not line:
            break
        if line.startswith(READY):
            return line.removeprefix(READY).strip()
    raise RuntimeError("the server did not start")


if __name__ == "__main__":
    sys.exit(main())
