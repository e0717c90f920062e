"""Replaying a recorded answer into the official Node SDK: where the SDK is looked for, why it cannot
run here, and one run of the `_node_replay.cjs` harness in a `node` child process fed over stdin."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..exchange import Exchange
from . import _common as c
from ._registry import Finding
from ._replay import REPLAY_BASE_URL, path_of, replay_headers, wants_stream

NODE_TIMEOUT_S = 30.0
NODE_HARNESS = Path(__file__).with_name("_node_replay.cjs")
NODE_DIR = Path(__file__).resolve().parent.parent / "node"  # driver.mjs, package.json, node_modules


def node_modules_dirs() -> list[Path]:
    """Where the Node SDK is looked for: $COMPAT_NODE_MODULES, then beside the driver (`npm ci` in
    compat_suite/node, as scripts/bootstrap does)."""
    dirs = [Path(p) for p in os.environ.get("COMPAT_NODE_MODULES", "").split(os.pathsep) if p]
    return [*dirs, NODE_DIR / "node_modules"]


def node_sdk_unavailable() -> str | None:
    """Why the Node SDK check cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not any((d / "openai" / "package.json").is_file() for d in node_modules_dirs()):
        return "the `openai` npm package is not installed (npm install openai, or set COMPAT_NODE_MODULES)"
    return None


def replay_in_node(exchange: Exchange) -> dict[str, Any]:
    """The harness's verdict on the recorded answer (`_node_replay.cjs` says what it holds), or a
    Finding when the SDK did not finish in time or the harness printed none."""
    job = {
        "path": path_of(exchange),
        "method": exchange.request.method,
        "query": dict(parse_qsl(urlsplit(exchange.request.url).query)),
        "body": c.request_body(exchange),
        "stream": wants_stream(exchange),
        "status": exchange.status or 599,
        "headers": replay_headers(exchange),
        "response_b64": base64.b64encode(exchange.body).decode(),
        "base_url": REPLAY_BASE_URL,
    }
    env = {**os.environ, "NODE_PATH": os.pathsep.join(str(d) for d in node_modules_dirs())}
    try:
        proc = subprocess.run(
            ["node", str(NODE_HARNESS)],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_S,
            env=env,
            cwd=NODE_DIR,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise Finding(
            f"the Node SDK did not finish parsing within {NODE_TIMEOUT_S:g} s", c.evidence(exchange)
        ) from None
    try:
        return json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise Finding(
            f"the Node SDK harness failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}",
            c.evidence(exchange),
        ) from None
