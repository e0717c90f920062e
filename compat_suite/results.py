"""The results of one run: every finding, as one JSON document written once.

JUnit XML and the HTML report are both built from this JSON, never from a second source.
"""

from __future__ import annotations

import json
import math
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from schemas import FAILING, VERDICTS, WARNING, Profile, redact_text

from . import checks
from ._root_causes import root_causes
from .checks import SHOULD, Outcome

RESULTS_FILE = "results.json"
JUNIT_FILE = "junit.xml"
WILSON_Z = 1.96  # a 95% interval


def wilson(k: int, n: int, z: float = WILSON_Z) -> tuple[float, float]:
    """The Wilson score interval of a proportion k/n (sound at small n and at 0 or n, unlike k/n +- z*se)."""
    if n == 0:
        return 0.0, 1.0
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class FindingRecord:
    check: str
    verdict: str
    severity: str
    endpoint: str
    message: str
    description: str
    test: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    cite: str | None = None
    expected: str | None = None
    root_cause: str | None = None  # blocked: the check whose finding explains it
    group: dict[str, int] | None = None  # a property's failures of one cause: {"failed": k, "sent": n}


@dataclass
class Results:
    target: dict[str, Any]
    profile: str
    started: str = field(default_factory=utc_now)
    finished: str | None = None
    findings: list[FindingRecord] = field(default_factory=list)
    error_matrix: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)  # scenarios that broke outside any check
    behaviour: list[dict[str, Any]] = field(default_factory=list)  # model behaviour, k of n: never a verdict
    failed_tests: set[str] = field(default_factory=set, repr=False)  # node ids failed by a check
    requests: int = 0  # requests sent to the target (set at the end of a run)
    secrets: tuple[str, ...] = field(default=(), repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(
        self,
        outcome: Outcome,
        profile: Profile,
        test: str | None = None,
        *,
        error_response: bool = False,
        request: Any = None,
    ) -> FindingRecord:
        """Judge an outcome under the profile and keep it.

        `error_response`: the check judged an error answer (the error matrix), where only the
        profile's `errors.*` entries apply. `request`: the request body the check judged, for
        entries scoped to a situation (`when`); None where it is not known.
        """
        judged = {"error_response": error_response, "request": request}
        if outcome.unjudged:
            verdict = outcome.unjudged
        else:
            verdict = profile.verdict(outcome.check.id, outcome.passed, outcome.endpoint, **judged)
        if verdict == "fail" and outcome.check.severity is SHOULD:
            verdict = "warn"  # a SHOULD that broke: listed and counted, fails only a --strict run
        exp = profile.expectation(outcome.check.id, outcome.endpoint, **judged)
        message = outcome.message
        if verdict == "drift" and exp is not None:
            message = (
                f"profile drift: {profile.name} documents a deviation here ({exp.observed or exp.reason}) "
                f"but the check passed; remove expectations.{outcome.check.id} from the profile"
            )
        record = FindingRecord(
            check=outcome.check.id,
            verdict=verdict,
            severity=str(outcome.check.severity),
            endpoint=outcome.endpoint,
            message=message,
            description=outcome.check.description,
            test=test,
            evidence=_scrub(outcome.evidence, self.secrets),
            cite=exp.cite if exp else None,
            expected=(exp.observed or exp.reason) if exp else None,
        )
        return self.add(record)

    def add(self, record: FindingRecord) -> FindingRecord:
        """Keep a finding made elsewhere (a grouped property failure), its evidence scrubbed."""
        record.evidence = _scrub(record.evidence, self.secrets)
        record.message = redact_text(record.message, self.secrets)
        with self._lock:
            self.findings.append(record)
            if record.verdict in FAILING and record.test:
                self.failed_tests.add(record.test)
        return record

    def blocked(self, check_id: str, endpoint: str, cause: FindingRecord, test: str | None) -> FindingRecord:
        """`check_id` could not judge: `cause` (the root cause's finding) explains why."""
        chk = checks.get(check_id)
        message = f"not judged: {cause.check} failed first ({cause.message})"
        record = FindingRecord(
            check_id, "blocked", str(chk.severity), endpoint, message, chk.description, test,
            root_cause=cause.check,
        )  # fmt: skip
        return self.add(record)

    def measure(
        self,
        measurement_id: str,
        description: str,
        k: int,
        n: int,
        *,
        endpoint: str,
        note: str,
        test: str | None,
    ) -> dict[str, Any]:
        """Keep one behaviour measurement: k of n, with its 95% Wilson interval."""
        low, high = wilson(k, n)
        row = {
            "id": measurement_id,
            "description": description,
            "endpoint": endpoint,
            "k": k,
            "n": n,
            "rate": k / n if n else None,
            "wilson_low": round(low, 4),
            "wilson_high": round(high, 4),
            "note": redact_text(note, self.secrets),
            "test": test,
        }
        with self._lock:
            self.behaviour.append(row)
        return row

    def test_error(self, test: str, phase: str, text: str) -> None:
        """A scenario that failed outside any check: the run cannot pass."""
        with self._lock:
            self.errors.append(
                {"test": test, "phase": phase, "message": redact_text(text[-4000:], self.secrets)}
            )

    def skip(
        self, check_id: str, reason: str, test: str | None, endpoint: str | None = None
    ) -> FindingRecord:
        """`check_id` was not run here, and why (a skipped scenario's checks each get one)."""
        chk = checks.registry().get(check_id)
        severity, description = (str(chk.severity), chk.description) if chk else ("must", "")
        where = endpoint or (chk.endpoints[0] if chk else "run")
        return self.add(FindingRecord(check_id, "skip", severity, where, reason, description, test))

    def judged_in(self, test: str) -> set[str]:
        """The check ids already recorded for one test."""
        with self._lock:
            return {f.check for f in self.findings if f.test == test}

    def summary(self) -> dict[str, Any]:
        counts = {v: 0 for v in VERDICTS}
        for f in self.findings:
            counts[f.verdict] = counts.get(f.verdict, 0) + 1
        failed = sum(counts[v] for v in FAILING) + sum(
            1 for r in self.error_matrix if r.get("verdict") == "fail"
        )
        verdict = "fail" if failed or self.errors else "warn" if sum(counts[v] for v in WARNING) else "pass"
        return {**counts, "errors": len(self.errors), "requests": self.requests, "verdict": verdict}

    def to_json(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "profile": self.profile,
            "started": self.started,
            "finished": self.finished,
            "findings": [asdict(f) for f in self.findings],
            "error_matrix": self.error_matrix,
            "errors": self.errors,
            "root_causes": root_causes([asdict(f) for f in self.findings]),
            "behaviour": self.behaviour,
            "summary": self.summary(),
        }

    def write(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        self.finished = self.finished or utc_now()
        path = directory / RESULTS_FILE
        path.write_text(json.dumps(self.to_json(), indent=2, ensure_ascii=False), encoding="utf-8")
        return path


def _scrub(value: Any, secrets: tuple[str, ...]) -> Any:
    if isinstance(value, str):
        return redact_text(value, secrets)
    if isinstance(value, dict):
        return {k: _scrub(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_scrub(v, secrets) for v in value]
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", errors="backslashreplace"), secrets)
    return value


def write_junit(results_path: Path, out: Path) -> Path:
    """JUnit XML from results.json: one testcase per finding, classname = endpoint. fail and drift are
    failures; skip, not-applicable, blocked and inconclusive are skipped, saying which and why; warn
    passes with its message (a SHOULD: it fails only a --strict run). Each case names its verdict."""
    data = json.loads(results_path.read_text(encoding="utf-8"))
    findings = data.get("findings", [])
    skipped = ("skip", "not-applicable", "blocked", "inconclusive")
    suite = ET.Element(
        "testsuite",
        name=f"compat-suite ({data.get('profile')})",
        tests=str(len(findings)),
        failures=str(sum(1 for f in findings if f["verdict"] in FAILING)),
        skipped=str(sum(1 for f in findings if f["verdict"] in skipped)),
        timestamp=data.get("started") or "",
    )
    for f in findings:
        case = ET.SubElement(suite, "testcase", classname=f["endpoint"], name=f["check"])
        properties = ET.SubElement(case, "properties")
        ET.SubElement(properties, "property", name="verdict", value=f["verdict"])
        if f["verdict"] in FAILING:
            failure = ET.SubElement(case, "failure", message=f["message"][:500], type=f["severity"])
            failure.text = json.dumps(f.get("evidence", {}), indent=2)[:20000]
        elif f["verdict"] in skipped:
            ET.SubElement(case, "skipped", message=f"{f['verdict']}: {f['message']}"[:500])
        elif f["verdict"] in WARNING:
            ET.SubElement(case, "system-out").text = f"warning (SHOULD): {f['message']}"
        elif f["verdict"] == "deviation":
            ET.SubElement(case, "system-out").text = f"documented deviation: {f.get('cite') or ''}"
        elif f["verdict"] == "undocumented":
            ET.SubElement(case, "system-out").text = f"undocumented by the provider; observed: {f['message']}"
    out.parent.mkdir(parents=True, exist_ok=True)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.ElementTree(root).write(out, encoding="utf-8", xml_declaration=True)
    return out
