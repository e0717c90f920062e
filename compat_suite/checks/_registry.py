"""The check registry: a check is a plain function with a stable id, registered once.

A check receives recorded exchanges (and, where it needs them, keyword context such as the
configured model name) and either returns normally (pass; a string it returns says how, e.g.
"refused with 400 naming tool_choice") or raises `Finding` (fail). It does no I/O. Ids are explicit, never derived from function names, so reports stay stable across renames.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .._areas import first_doc_line, import_areas


class Severity(StrEnum):
    MUST = "must"
    SHOULD = "should"


MUST = Severity.MUST
SHOULD = Severity.SHOULD


class Finding(Exception):
    """Raised by a check that fails: a message and the evidence that shows it."""

    def __init__(self, message: str, evidence: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.evidence = evidence or {}


class Unjudged(Exception):
    """Raised by a check that cannot judge this exchange: `verdict` says how that counts, never as a
    pass or a failure. `not-applicable`: nothing here for it to judge (a stream with no error event);
    `inconclusive`: the request could not be made in budget (a 429 past the retry budget)."""

    def __init__(self, verdict: str, message: str, evidence: dict[str, Any] | None = None) -> None:
        if verdict not in ("not-applicable", "inconclusive"):
            raise ValueError(f"an unjudged check is not-applicable or inconclusive, not {verdict!r}")
        super().__init__(message)
        self.verdict = verdict
        self.message = message
        self.evidence = evidence or {}


@dataclass(frozen=True)
class Check:
    id: str
    severity: Severity
    endpoints: tuple[str, ...]
    func: Callable[..., str | None]
    description: str
    refines: str | None = None  # a root-cause check this one names more precisely (see verify)

    def __call__(self, *args: Any, **kwargs: Any) -> str | None:
        return self.func(*args, **kwargs)


@dataclass(frozen=True)
class Outcome:
    """The result of running one check on one or more exchanges, before the profile judges it."""

    check: Check
    endpoint: str
    passed: bool
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    unjudged: str | None = (
        None  # "not-applicable" or "inconclusive": the check could not judge (see Unjudged)
    )


_REGISTRY: dict[str, Check] = {}


def check(
    check_id: str, *, severity: Severity, endpoints: tuple[str, ...], refines: str | None = None
) -> Callable:
    """Register `func` under `check_id`. Registering an id twice is an error. `refines` names a
    root-cause check (`request.accepted`) that this check, of one exchange, names more precisely in a
    proof that carries both: a refused developer message is `chat.developer-role.accepted`."""

    def register(func: Callable[..., str | None]) -> Check:
        description = first_doc_line("check", check_id, func, _REGISTRY)
        registered = Check(check_id, severity, tuple(endpoints), func, description, refines)
        _REGISTRY[check_id] = registered
        return registered

    return register


def registry() -> dict[str, Check]:
    """All registered checks by id (imports every check module first)."""
    import_areas(__package__)

    return dict(_REGISTRY)


def get(check_id: str) -> Check:
    return registry()[check_id]


def run(check_id: str, *exchanges: Any, endpoint: str | None = None, **context: Any) -> Outcome:
    """Run one check; a `Finding` becomes a failed outcome, anything else propagates."""
    chk = get(check_id)
    ep = endpoint or getattr(exchanges[0], "endpoint", None) or chk.endpoints[0]
    try:
        note = chk.func(*exchanges, **context)
    except Finding as finding:
        return Outcome(chk, ep, False, finding.message, finding.evidence)
    except Unjudged as unjudged:
        return Outcome(chk, ep, False, unjudged.message, unjudged.evidence, unjudged=unjudged.verdict)
    return Outcome(chk, ep, True, note if isinstance(note, str) else "")
