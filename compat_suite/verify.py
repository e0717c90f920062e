"""Judging proofs: run their checks, let the profile weigh each outcome, record every finding.

`Verifier.judge(proof)` first asks whether each answer is of the kind the proof's checks need
(compat_suite._needs): when one is not, the first unmet gate's check is the one finding (the root
cause) and the proof's other checks are recorded `blocked`, naming it. An answer the target still
refused with 429 past the retry budget makes every check `inconclusive`. Otherwise each check is
recorded (with the proof's error-matrix row, if it has one). `ProofFailed` is raised when any finding
is a failure (or, with `strict`, a warning), so a scenario stops where its target first broke.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas import FAILING, WARNING

from . import checks
from ._needs import Gate, first_unmet, needs_of
from .results import FindingRecord, Results
from .scenarios import MatrixRow, Measurement, Proof, proof
from .target import Target


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

    def __init__(self, target: Target, results: Results, test_id: str, *, strict: bool = False) -> None:
        self.target = target
        self.results = results
        self.test_id = test_id
        self.strict = strict
        self._causes: dict[tuple[int, str], FindingRecord] = {}  # (exchange, gate) -> its finding, once

    def __call__(self, check_ids: str | Sequence[str], *exchanges: Any, **context: Any) -> None:
        """`verify(check_ids, *exchanges, endpoint=None, error_response=False, **context)`."""
        self.judge(
            proof(tuple([check_ids] if isinstance(check_ids, str) else check_ids), *exchanges, **context)
        )

    @property
    def failing(self) -> frozenset[str]:
        """The verdicts that fail this test: warnings too under --strict."""
        return FAILING | WARNING if self.strict else FAILING

    def judge(self, judged: Proof) -> list[FindingRecord]:
        """Record a finding per check of `judged` (and its matrix row); ProofFailed on any failure."""
        request = request_body(judged.exchanges[0]) if judged.exchanges else None
        records = self._unjudgeable(judged, request)
        if records is None:
            records = [self._record(judged, check_id, request) for check_id in judged.checks]
        failed = [f"{r.check}: {r.message}" for r in records if r.verdict in self.failing]
        if judged.row is not None:
            envelope = next((r.verdict == "pass" for r in records if r.check == "errors.envelope"), None)
            failed += self._matrix_row(judged.row, [r.verdict for r in records], envelope)
        if failed:
            raise ProofFailed("\n".join(dict.fromkeys(failed)))
        return records

    def _record(self, judged: Proof, check_id: str, request: Any, *exchanges: Any) -> FindingRecord:
        outcome = checks.run(
            check_id,
            *(exchanges or judged.exchanges),
            endpoint=judged.endpoint,
            **judged.context_of(check_id),
        )
        return self.results.record(
            outcome, self.target.profile, self.test_id, error_response=judged.error_response, request=request
        )

    def _unjudgeable(self, judged: Proof, request: Any) -> list[FindingRecord] | None:
        """The findings of a proof whose answers are not what its checks need (inconclusive, or one
        root cause and the rest blocked); None when the checks can judge."""
        exchanges = judged.exchanges
        limited = next((e for e in exchanges if getattr(e, "rate_limited", None)), None)
        if limited is not None:
            return [self._inconclusive(judged, check_id, limited) for check_id in judged.checks]
        for exchange, need in zip(
            exchanges, needs_of(exchanges, judged.error_response, judged.needs), strict=True
        ):
            gate = first_unmet(exchange, need) if need != "none" else None
            if gate is None:
                continue
            for named in (*_refining(gate, judged.checks), gate.check):
                cause = self._cause(judged, named, exchange)
                if cause is not None:
                    break
            else:
                continue  # the gate's check passed after all: let the checks judge
            endpoint = cause.endpoint
            records = [cause] + [
                self.results.blocked(check_id, endpoint, cause, self.test_id)
                for check_id in judged.checks
                if check_id != named
            ]
            return records
        return None

    def _cause(self, judged: Proof, check_id: str, exchange: Any) -> FindingRecord | None:
        """The root cause's finding, recorded once per exchange; None when its check passes."""
        key = (id(exchange), check_id)
        if key not in self._causes:
            outcome = checks.run(check_id, exchange, endpoint=judged.endpoint)
            if outcome.passed:
                return None
            self._causes[key] = self.results.record(
                outcome,
                self.target.profile,
                self.test_id,
                error_response=judged.error_response,
                request=request_body(exchange),
            )
        return self._causes[key]

    def _inconclusive(self, judged: Proof, check_id: str, exchange: Any) -> FindingRecord:
        chk = checks.get(check_id)
        outcome = checks.Outcome(
            chk,
            judged.endpoint or exchange.endpoint,
            False,
            f"inconclusive: {exchange.rate_limited}",
            exchange.evidence(),
            unjudged="inconclusive",
        )
        return self.results.record(outcome, self.target.profile, self.test_id)

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
        elif any(v in ("blocked", "inconclusive") for v in verdicts):
            verdict = next(v for v in verdicts if v in ("blocked", "inconclusive"))
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


def _refining(gate: Gate, proved: tuple[str, ...]) -> list[str]:
    """The proved checks that name the gate's failure more precisely (a refused developer message is
    `chat.developer-role.accepted`, not `request.accepted`): asked first, the gate's own check after."""
    registered = checks.registry()
    return [check_id for check_id in proved if registered[check_id].refines == gate.check]
