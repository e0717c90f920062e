"""Exploring a request space (the property and schemathesis suites) without stopping at the first
failure, without sending a request twice, and without one finding per failing example.

An `Exploration` judges each example's answer as `verify` does, but keeps failures back: they are
grouped by check, verdict and root cause, and `finish()` records each group once, with its smallest
example as the evidence and how many examples failed so out of how many were sent. Passes are
recorded as they come. `fresh(body)` says whether a request was already sent in this exploration.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from schemas import FAILING, WARNING

from .results import FindingRecord, Results
from .scenarios import proof
from .target import Target
from .verify import ProofFailed, Verifier

KEPT_BACK = FAILING | WARNING | {"blocked"}  # grouped, and recorded once per group


@dataclass
class _Group:
    smallest: FindingRecord
    size: int
    failed: int = 1


@dataclass
class Exploration:
    target: Target
    results: Results
    test_id: str
    strict: bool = False
    sent: int = 0  # distinct requests judged
    _seen: set[str] = field(default_factory=set)
    _groups: dict[tuple[str, str, str], _Group] = field(default_factory=dict)

    def fresh(self, method: str, path: str, body: bytes, content_type: str = "") -> bool:
        """True the first time a request is seen (then it is counted as sent); False for a repeat."""
        key = hashlib.sha256(
            b"\0".join([method.encode(), path.encode(), content_type.encode(), body])
        ).hexdigest()
        if key in self._seen:
            return False
        self._seen.add(key)
        self.sent += 1
        return True

    def judge(self, check_ids: Any, *exchanges: Any, **context: Any) -> None:
        """Judge one example's answer: passes are recorded now, failures kept back for `finish`."""
        scratch = Results(target={}, profile=self.results.profile, secrets=self.results.secrets)
        ids = (check_ids,) if isinstance(check_ids, str) else tuple(check_ids)
        try:
            Verifier(self.target, scratch, self.test_id).judge(proof(ids, *exchanges, **context))
        except ProofFailed:
            pass  # the failures are in `scratch`: grouped below
        size = len(getattr(getattr(exchanges[0], "request", None), "body", b"") or b"") if exchanges else 0
        for record in scratch.findings:
            if record.verdict not in KEPT_BACK:
                self.results.add(record)
                continue
            key = (record.check, record.verdict, record.root_cause or record.check)
            group = self._groups.get(key)
            if group is None:
                self._groups[key] = _Group(record, size)
            else:
                group.failed += 1
                if size < group.size:
                    group.smallest, group.size = record, size

    def finish(self) -> list[str]:
        """Record each group once (its smallest example, `k of n` examples); the lines of those that
        fail the test (warnings too when strict)."""
        failing = FAILING | WARNING if self.strict else FAILING
        lines = []
        for group in self._groups.values():
            record = group.smallest
            record.group = {"failed": group.failed, "sent": max(self.sent, group.failed)}
            record.message = f"{record.message} ({group.failed} of {max(self.sent, group.failed)} examples)"
            self.results.add(record)
            if record.verdict in failing:
                lines.append(f"{record.check}: {record.message}")
        self._groups.clear()
        return lines
