"""Root causes: a run's failures and warnings grouped by what went wrong, most findings first, each
with its smallest reproducing request as a `curl` command a user can file upstream as it stands.

A root cause is one (check, endpoint) that failed or warned; it explains its own findings and every
finding it blocked. Its request is the smallest one that showed it, with the key as
`$OPENAI_API_KEY` and every other redacted header value as a variable named after the header.
"""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from typing import Any

from schemas import FAILING, REDACTED, WARNING

ROOT_VERDICTS = FAILING | WARNING
# Headers the transport sets by itself: a curl command needs none of them.
_TRANSPORT_HEADERS = frozenset(
    {"content-length", "host", "connection", "accept-encoding", "user-agent", "accept"}
)
_EVIDENCE_BYTES = 4096  # what Exchange.evidence keeps of a request body


def root_causes(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The root causes of `findings` (results.json's shape), most findings explained first."""
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for finding in findings:
        if finding.get("verdict") not in ROOT_VERDICTS:
            continue
        key = (finding["check"], finding["endpoint"])
        group = groups.setdefault(
            key,
            {
                "check": finding["check"],
                "endpoint": finding["endpoint"],
                "verdict": finding["verdict"],
                "severity": finding.get("severity", "must"),
                "message": finding["message"],
                "findings": 0,
                "curl": None,
                "_size": None,
            },
        )
        group["findings"] += (finding.get("group") or {}).get("failed", 1)
        if finding["verdict"] in FAILING:
            group["verdict"] = finding["verdict"]
        request = first_request(finding.get("evidence") or {})
        size = len(request.get("body") or "") if request else None
        if request and (group["_size"] is None or size < group["_size"]):
            group["_size"], group["message"], group["curl"] = size, finding["message"], curl(request)
    for finding in findings:
        if finding.get("verdict") == "blocked":
            group = groups.get((str(finding.get("root_cause")), finding["endpoint"]))
            if group is not None:
                group["findings"] += 1
    out = sorted(groups.values(), key=lambda g: (g["verdict"] not in FAILING, -g["findings"], g["check"]))
    for group in out:
        del group["_size"]
    return out


def first_request(evidence: Any) -> dict[str, Any] | None:
    """The first recorded request in a finding's evidence (evidence may nest several exchanges)."""
    for node in _walk(evidence):
        request = node.get("request")
        if isinstance(request, dict) and isinstance(request.get("url"), str) and request.get("method"):
            return request
    return None


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def curl(request: dict[str, Any]) -> str:
    """A copy-paste curl command for a recorded request; no secret is in it (the key is
    `$OPENAI_API_KEY`, another redacted header value `$HEADER_NAME`)."""
    parts = ["curl", "-sS", "-X", str(request["method"]), shlex.quote(str(request["url"]))]
    for name, value in (request.get("headers") or {}).items():
        if name.lower() in _TRANSPORT_HEADERS:
            continue
        if name.lower() == "authorization":
            parts += ["-H", '"Authorization: Bearer $OPENAI_API_KEY"']
        elif REDACTED in str(value):
            variable = re.sub(r"[^A-Z0-9]", "_", name.upper())
            parts += ["-H", f'"{name}: ${variable}"']
        else:
            parts += ["-H", shlex.quote(f"{name}: {value}")]
    body = request.get("body") or ""
    if body:
        parts += ["--data-raw", shlex.quote(_compact(body))]
    command = " ".join(parts)
    if len(body.encode("utf-8")) >= _EVIDENCE_BYTES:
        command += f"  # the body was cut at {_EVIDENCE_BYTES} bytes in the evidence"
    return command


def _compact(body: str) -> str:
    try:
        return json.dumps(json.loads(body), ensure_ascii=False, separators=(",", ":"))
    except ValueError:
        return body
