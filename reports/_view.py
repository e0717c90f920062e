"""What the templates show of the findings: the check x endpoint matrix, finding cards with their
evidence, the error matrix, and several runs' verdicts side by side (the load section: `_load_view`).

Every value that reaches a template is plain data (strings, numbers, lists); the templates escape it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._diff import VERDICT_RANK, verdicts_by_check, worst_verdict
from ._load_view import sweep_value as sweep_value  # its old home: callers still import it from here
from ._runs import Run
from ._text import as_text
from ._text import printable as printable  # likewise

ENDPOINT_ORDER = ("chat", "completions", "embeddings", "models", "model")


def _endpoint_key(endpoint: str) -> tuple[int, str]:
    return (ENDPOINT_ORDER.index(endpoint) if endpoint in ENDPOINT_ORDER else len(ENDPOINT_ORDER), endpoint)


# --- conformance ------------------------------------------------------------------------------------


@dataclass
class Cell:
    verdict: str
    count: int
    tip: str
    failed: int = 0  # findings that failed or warned, out of `count`

    @property
    def text(self) -> str:
        """ "2 of 11 fail" where some failed, else the verdict (with ×count for several)."""
        if self.failed:
            word = "warn" if self.verdict == "warn" else "fail"
            return f"{self.failed} of {self.count} {word}"
        return self.verdict + (f" ×{self.count}" if self.count > 1 else "")


@dataclass
class MatrixRow:
    check: str
    severity: str
    description: str
    cells: dict[str, Cell]


@dataclass
class Matrix:
    endpoints: list[str]
    rows: list[MatrixRow]


def matrix(run: Run) -> Matrix:
    """Check x endpoint; each cell the worst verdict of that check's findings there, messages on hover."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for finding in run.findings:
        check = str(finding.get("check", "?"))
        grouped.setdefault(check, {}).setdefault(str(finding.get("endpoint") or "-"), []).append(finding)
    endpoints = sorted({e for cells in grouped.values() for e in cells}, key=_endpoint_key)
    rows = []
    for check in sorted(grouped):
        by_endpoint = grouped[check]
        sample = next(iter(by_endpoint.values()))[0]
        description = str(sample.get("description") or "")
        cells = {}
        for endpoint, findings in by_endpoint.items():
            verdict = worst_verdict([str(f.get("verdict", "skip")) for f in findings])
            lines = [f"{check} [{endpoint}] — {verdict}", description]
            for finding in findings[:5]:
                if finding.get("message"):
                    lines.append(f"{finding.get('verdict')}: {finding['message']}")
            if len(findings) > 5:
                lines.append(f"… and {len(findings) - 5} more")
            failed = sum(1 for f in findings if f.get("verdict") in ("fail", "drift", "warn"))
            tip = printable("\n".join(x for x in lines if x), 2000)
            cells[endpoint] = Cell(verdict, len(findings), tip, failed)
        rows.append(MatrixRow(check, str(sample.get("severity") or "").upper(), description, cells))
    return Matrix(endpoints, rows)


@dataclass
class EvidenceView:
    request_line: str = ""
    request_headers: list[tuple[str, str]] = field(default_factory=list)
    request_body: str = ""
    status: str = ""
    response_headers: list[tuple[str, str]] = field(default_factory=list)
    response_body: str = ""
    other: str = ""


def _headers(value: Any) -> list[tuple[str, str]]:
    if isinstance(value, dict):
        return [(printable(str(k), 500), printable(str(v), 4000)) for k, v in value.items()]
    if isinstance(value, list):
        return [(printable(str(p[0]), 500), printable(str(p[1]), 4000)) for p in value if len(p) == 2]
    return []


def evidence(raw: Any) -> EvidenceView:
    """The parts of a finding's evidence that have a known place; the rest as JSON under `other`."""
    if not isinstance(raw, dict):
        return EvidenceView(other=as_text(raw))
    rest = dict(raw)
    view = EvidenceView()
    request = rest.pop("request", None)
    if isinstance(request, dict):
        request = dict(request)
        view.request_line = printable(f"{request.pop('method', '')} {request.pop('url', '')}".strip(), 4000)
        view.request_headers = _headers(request.pop("headers", None))
        view.request_body = as_text(request.pop("body", None))
        if request:
            rest["request (more)"] = request
    elif request is not None:
        view.request_body = as_text(request)
    if "status" in rest:
        view.status = printable(str(rest.pop("status")), 200)
    view.response_headers = _headers(rest.pop("headers", None))
    view.response_body = as_text(rest.pop("body", None))
    view.other = as_text(rest) if rest else ""
    return view


@dataclass
class FindingView:
    check: str
    endpoint: str
    verdict: str
    severity: str
    message: str
    description: str
    test: str
    cite: str
    expected: str
    evidence: EvidenceView
    root_cause: str = ""


def _finding_view(finding: dict[str, Any]) -> FindingView:
    return FindingView(
        check=printable(str(finding.get("check", "?")), 300),
        endpoint=printable(str(finding.get("endpoint") or "-"), 100),
        verdict=str(finding.get("verdict", "")),
        severity=str(finding.get("severity") or "").upper(),
        message=printable(str(finding.get("message") or ""), 4000),
        description=printable(str(finding.get("description") or ""), 1000),
        test=printable(str(finding.get("test") or ""), 1000),
        cite=printable(str(finding.get("cite") or ""), 4000),
        expected=as_text(finding.get("expected")),
        evidence=evidence(finding.get("evidence")),
        root_cause=printable(str(finding.get("root_cause") or ""), 300),
    )


def findings_with(run: Run, *verdicts: str) -> list[FindingView]:
    """The run's findings with one of `verdicts`, MUST before SHOULD, then by check id."""
    chosen = [f for f in run.findings if f.get("verdict") in verdicts]
    chosen.sort(key=lambda f: (f.get("severity") != "must", str(f.get("check")), str(f.get("endpoint"))))
    return [_finding_view(f) for f in chosen]


@dataclass
class ErrorRow:
    endpoint: str
    condition: str
    expected_status: str
    status: str
    envelope: str
    sdk_exception: str
    verdict: str
    status_ok: bool
    cite: str = ""  # where the provider documents the expected status (empty: OpenAI's default)


def error_matrix(run: Run) -> list[ErrorRow]:
    rows = run.results.get("error_matrix")
    out = []
    for row in rows if isinstance(rows, list) else []:
        if not isinstance(row, dict):
            continue
        expected, status = row.get("expected_status"), row.get("status")
        envelope = row.get("envelope")
        out.append(
            ErrorRow(
                endpoint=printable(str(row.get("endpoint", "")), 100),
                condition=printable(str(row.get("condition", "")), 300),
                expected_status="" if expected is None else printable(str(expected), 50),
                status="no response" if status is None else printable(str(status), 50),
                envelope={True: "yes", False: "no"}.get(envelope, "–"),  # type: ignore[arg-type]
                sdk_exception=printable(str(row.get("sdk_exception") or "–"), 200),
                verdict=str(row.get("verdict", "")),
                status_ok=status == expected,
                cite=printable(str(row.get("cite") or ""), 4000),
            )
        )
    return out


# --- several runs -----------------------------------------------------------------------------------


@dataclass
class CompareRow:
    check: str
    endpoint: str
    verdicts: list[str]
    differs: bool


def compare_rows(runs: list[Run]) -> list[CompareRow]:
    """Per (check, endpoint) the verdict in each run ("" where a run has no such finding)."""
    per_run = [verdicts_by_check(run) for run in runs]
    keys = sorted(
        {key for verdicts in per_run for key in verdicts}, key=lambda k: (k[0], _endpoint_key(k[1]))
    )
    rows = []
    for check, endpoint in keys:
        verdicts = [verdicts.get((check, endpoint), "") for verdicts in per_run]
        rows.append(CompareRow(check, endpoint, verdicts, len(set(verdicts)) > 1))
    # Rows that differ first: they are what a side-by-side view is for.
    rows.sort(key=lambda r: (not r.differs, -max(VERDICT_RANK.get(v, 0) for v in r.verdicts)))
    return rows
