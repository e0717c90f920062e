"""Judging proofs: run their checks, let the profile weigh each outcome, record every finding.

`Verifier.judge(proof)` records one finding per check (and the proof's error-matrix row, if it has
one) and raises `ProofFailed` when any finding is a failure, so a scenario stops where its target
first broke, as a failed test stops there.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import checks
from .results import FindingRecord, Results
from .scenarios import MatrixRow, Measurement, Proof, proof
from .target import Target

FAILING = ("fail", "drift")


class ProofFailed(AssertionError):
    """At least one check of a proof failed (or drifted): one line per failure."""


def request_body(exchange: Any) -> Any:
    """The JSON request body an exchange sent ({} for none or not JSON), for the profile's `when`."""
    recorded = getattr(exchange, "request", None)
    if recorded is None:
        return None  # not an exchange: the situation is not known
    body = recorded.json
    return body if isinstance(body, dict) else {}


class Verifier:
    """Judges proofs for one test (`test_id`) against the target's profile, into `results`."""

    def __init__(self, target: Target, results: Results, test_id: str) -> None:
        self.target = target
        self.results = results
        self.test_id = test_id

    def __call__(self, check_ids: str | Sequence[str], *exchanges: Any, **context: Any) -> None:
        """`verify(check_ids, *exchanges, endpoint=None, error_response=False, **context)`."""
        self.judge(
            proof(tuple([check_ids] if isinstance(check_ids, str) else check_ids), *exchanges, **context)
        )

    def judge(self, judged: Proof) -> list[FindingRecord]:
        """Record a finding per check of `judged` (and its matrix row); ProofFailed on any failure."""
        request = request_body(judged.exchanges[0]) if judged.exchanges else None
        records, failed, envelope = [], [], None
        for check_id in judged.checks:
            outcome = checks.run(
                check_id, *judged.exchanges, endpoint=judged.endpoint, **judged.context_of(check_id)
            )
            record = self.results.record(
                outcome,
                self.target.profile,
                self.test_id,
                error_response=judged.error_response,
                request=request,
            )
            records.append(record)
            if check_id == "errors.envelope":
                envelope = outcome.passed
            if record.verdict in FAILING:
                failed.append(f"{check_id}: {record.message}")
        if judged.row is not None:
            failed += self._matrix_row(judged.row, [r.verdict for r in records], envelope)
        if failed:
            raise ProofFailed("\n".join(failed))
        return records

    def measure(self, measurement: Measurement) -> dict[str, Any]:
        """Record model behaviour (k of n): it is reported, never judged pass or fail."""
        return self.results.measure(
            measurement.id,
            measurement.description,
            measurement.k,
            measurement.n,
            endpoint=measurement.endpoint,
            note=measurement.note,
            test=self.test_id,
        )

    def _matrix_row(self, row: MatrixRow, verdicts: list[str], envelope: bool | None) -> list[str]:
        """Append the error-matrix row; return the failures it finds that no check reported (the
        status of a gateway condition, which no `errors.status.*` check judges)."""
        problems = []
        if row.skipped:
            verdict = "skip"
        elif not row.status_checked:
            if row.status != row.expected_status:
                problems.append(f"{row.condition}: status {row.status}, expected {row.expected_status}")
            verdict = "fail" if problems or any(v in FAILING for v in verdicts) else "pass"
        elif any(v in FAILING for v in verdicts):
            verdict = "fail"
        elif any(v == "deviation" for v in verdicts):
            verdict = "deviation"
        elif verdicts and all(v in ("not-applicable", "skip") for v in verdicts):
            verdict = "skip"
        else:
            verdict = "pass"
        self.results.error_matrix.append(
            {
                "endpoint": row.endpoint,
                "condition": row.condition,
                "expected_status": row.expected_status,
                "status": row.status,
                "envelope": envelope,
                "sdk_exception": row.sdk_exception,
                "verdict": verdict,
                "cite": row.cite,
            }
        )
        return problems
