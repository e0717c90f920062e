"""Conformance under load: the answers a load run captured, judged by the suite's own checks.

Each successful answer (status 200, body complete) is rebuilt as the `Exchange` or
`StreamExchange` a `compat-suite run` scenario would have recorded (the strict SSE reader replays
the captured bytes, each event stamped with the arrival of the piece that completed it) and given
to the same checks, by the same ids, that one exchange of its kind proves there
(`checks.response_shape`, `checks.stream_checks`); the profile weighs each outcome as it does in
`compat-suite run`. Judging runs after the load, never on the hot path: the timings of a deviating
answer stand, and its deviation becomes a finding with counts.

What a process captured is bounded (`Spool`): past its byte budget, a uniform sample (reservoir)
is kept, and load.json says how many answers were judged of how many.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from schemas import Profile, redact_text

from .. import checks
from ..exchange import Exchange, RecordedRequest, StreamExchange
from ..sse import SSEReader
from ._client import ENDPOINT_OF, STREAMED, Captured

DEFAULT_SPOOL_BYTES = 64 * 1024 * 1024  # ~6,000 streams of 64 events: ~40 s of judging
EXAMPLES_PER_CHECK = 3
EVIDENCE_CHARS = 2000
FAILING = frozenset({"fail"})


class Spool:
    """The captured answers of one process, at most `max_bytes` of them (a uniform sample past that)."""

    def __init__(self, max_bytes: int = DEFAULT_SPOOL_BYTES, seed: int = 0) -> None:
        self.max_bytes = max_bytes
        self.items: list[tuple[int, Captured]] = []
        self.bytes = 0
        self.offered = 0  # answers that could be judged (status 200, complete)
        self._rng = random.Random(seed)

    def offer(self, seq: int, captured: Captured) -> None:
        self.offered += 1
        if self.bytes + captured.size <= self.max_bytes:
            self.items.append((seq, captured))
            self.bytes += captured.size
            return
        # Reservoir sampling (algorithm R) over every answer offered, within the byte budget.
        slot = self._rng.randrange(self.offered)
        if slot < len(self.items):
            self.bytes += captured.size - self.items[slot][1].size
            self.items[slot] = (seq, captured)


def judgeable(captured: Captured | None) -> bool:
    """An answer the checks can judge: it arrived whole with status 200 (failures are errors)."""
    return captured is not None and captured.status == 200 and captured.transport_error is None


def exchange_of(captured: Captured, base_url: str) -> Exchange:
    """The answer as the exchange a scenario would have recorded."""
    endpoint = ENDPOINT_OF[captured.kind]
    request = RecordedRequest("POST", base_url.rstrip("/") + captured.path, {}, captured.request_body)
    body = bytes(captured.body)
    common: dict[str, Any] = {
        "status": captured.status,
        "headers": dict(captured.headers),
        "body": body,
        "transport_error": captured.transport_error,
        "truncated": captured.truncated,
        "started_ns": captured.sent_ns,
        "first_byte_ns": captured.first_byte_ns,
        "finished_ns": captured.end_ns,
    }
    if captured.kind not in STREAMED:
        return Exchange(endpoint, request, **common)
    reader = SSEReader(expect_json=True)
    start = 0
    for end, rx_ns in captured.marks:
        reader.feed(body[start:end], rx_ns)
        start = end
    reader.close(complete=captured.transport_error is None and not captured.truncated)
    return StreamExchange(
        endpoint, request, **common, events=list(reader.events), problems=list(reader.problems)
    )


def check_ids(captured: Captured) -> tuple[str, ...]:
    """The checks one answer of this kind proves in `compat-suite run`."""
    endpoint = ENDPOINT_OF[captured.kind]
    if captured.kind in STREAMED:
        return checks.stream_checks(endpoint)
    return checks.response_shape(endpoint)


@dataclass
class Verdicts:
    """The judged answers of one process: counts by check and verdict, and which answers failed a MUST."""

    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed_must: dict[int, list[str]] = field(default_factory=dict)  # seq -> failed MUST check ids
    judged: int = 0
    offered: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "checks": self.checks,
            "failed_must": {str(k): v for k, v in self.failed_must.items()},
            "judged": self.judged,
            "offered": self.offered,
        }


def judge(
    spool: Spool,
    profile: Profile,
    base_url: str,
    *,
    secrets: tuple[str, ...] = (),
    pause: Callable[[], None] = lambda: None,
) -> Verdicts:
    """Judge every answer in `spool` under `profile`. `pause` runs between answers (a gevent
    process passes `gevent.sleep(0)`, so its heartbeats go on while it judges)."""
    out = Verdicts(offered=spool.offered)
    for seq, captured in spool.items:
        exchange = exchange_of(captured, base_url)
        request = exchange.request.json if isinstance(exchange.request.json, dict) else {}
        for check_id in check_ids(captured):
            outcome = checks.run(check_id, exchange)
            verdict = outcome.unjudged or profile.verdict(
                check_id, outcome.passed, outcome.endpoint, request=request
            )  # an answer the check cannot judge (no error event to judge) is counted, not failed
            entry = out.checks.setdefault(
                check_id,
                {
                    "severity": outcome.check.severity.value,
                    "endpoint": outcome.endpoint,
                    "verdicts": {},
                    "examples": [],
                },
            )
            entry["verdicts"][verdict] = entry["verdicts"].get(verdict, 0) + 1
            if verdict in FAILING:
                if outcome.check.severity == checks.MUST:
                    out.failed_must.setdefault(seq, []).append(check_id)
                if len(entry["examples"]) < EXAMPLES_PER_CHECK:
                    entry["examples"].append(_example(seq, outcome, secrets))
        out.judged += 1
        pause()
    return out


def _example(seq: int, outcome: checks.Outcome, secrets: tuple[str, ...]) -> dict[str, Any]:
    evidence = redact_text(json.dumps(outcome.evidence, default=str)[:EVIDENCE_CHARS], secrets)
    return {"seq": seq, "message": redact_text(outcome.message, secrets), "evidence": evidence}


def merge(verdicts: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Several processes' `Verdicts.to_json()` added up (counts, examples; not `failed_must`)."""
    merged: dict[str, Any] = {"checks": {}, "judged": 0, "offered": 0}
    for part in verdicts:
        merged["judged"] += part.get("judged", 0)
        merged["offered"] += part.get("offered", 0)
        for check_id, entry in part.get("checks", {}).items():
            into = merged["checks"].setdefault(
                check_id,
                {
                    **{k: v for k, v in entry.items() if k not in ("verdicts", "examples")},
                    "verdicts": {},
                    "examples": [],
                },
            )
            for verdict, count in entry["verdicts"].items():
                into["verdicts"][verdict] = into["verdicts"].get(verdict, 0) + count
            room = EXAMPLES_PER_CHECK - len(into["examples"])
            into["examples"] += entry["examples"][: max(0, room)]
    return merged
