"""openai-node running `ClientCall`s: the driver in compat_suite/node, a child process fed over stdin
so the key never reaches a command line."""

from __future__ import annotations

import json
import os
import subprocess
import time

from schemas import redact_text

from ._client_records import MESSAGE_CHARS, SDK_NODE, ClientCall, ClientRecord
from .checks.clients import NODE_DIR, ClientUnavailable, node_modules_dirs, node_sdk_unavailable
from .target import Target

NODE_DRIVER = NODE_DIR / "driver.mjs"
NODE_STARTUP_S = 20.0  # node's own start and the SDK's import, on top of the calls' deadlines


def run_node(target: Target, calls: list[ClientCall]) -> list[ClientRecord]:
    """Each call through the official Node SDK (compat_suite/node/driver.mjs) in one child process.

    Raises `ClientUnavailable` when node or the `openai` package is missing, or the driver breaks.
    """
    why = node_sdk_unavailable()
    if why:
        raise ClientUnavailable(why)
    target.reserve(sum(call.requests for call in calls))
    job = {
        "base_url": target.base_url,
        "api_key": target.api_key or "sk-compat-suite-none",
        "headers": dict(target.headers),
        "timeout_ms": int(target.timeout_s * 1000),
        "max_body_bytes": target.max_body_bytes,
        "calls": [{"id": c.id, "kind": c.kind, "body": c.sdk_body} for c in calls],
    }
    env = {**os.environ, "NODE_PATH": os.pathsep.join(str(d) for d in node_modules_dirs())}
    limit = NODE_STARTUP_S + target.timeout_s * max(1, len(calls))
    started = time.monotonic()
    try:
        proc = subprocess.run(
            ["node", str(NODE_DRIVER)],
            input=json.dumps(job),  # the key travels on stdin only
            capture_output=True,
            text=True,
            timeout=limit,
            env=env,
            cwd=NODE_DRIVER.parent,
            check=False,
        )
    except subprocess.TimeoutExpired:
        elapsed = time.monotonic() - started
        return [
            ClientRecord(
                SDK_NODE,
                "?",
                c,
                False,
                error_class="DeadlineExceeded",
                error_message=f"the node driver did not finish within {limit:g} s",
                elapsed_s=elapsed,
            )
            for c in calls
        ]
    secrets = target.secrets
    try:
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        stderr = redact_text(proc.stderr.strip()[-MESSAGE_CHARS:], secrets)
        raise ClientUnavailable(f"the node driver failed (exit {proc.returncode}): {stderr}") from None
    by_id = {r.get("id"): r for r in report.get("results", []) if isinstance(r, dict)}
    elapsed = (time.monotonic() - started) / max(1, len(calls))  # the driver does not time each call
    records = []
    for c in calls:
        row = by_id.get(
            c.id, {"ok": False, "error": {"class": "Missing", "message": "no result from the driver"}}
        )
        error = row.get("error") or {}
        records.append(
            ClientRecord(
                SDK_NODE,
                str(report.get("version", "?")),
                c,
                bool(row.get("ok")),
                result=row.get("result") if row.get("ok") else None,
                error_class=None if row.get("ok") else str(error.get("class")),
                error_status=error.get("status"),
                error_message=None if row.get("ok") else redact_text(str(error.get("message")), secrets),
                elapsed_s=elapsed,
                strict=False,  # the Node SDK does not validate responses: it parses JSON and types it
            )
        )
    return records
