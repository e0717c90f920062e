"""The scenario registry: a scenario is a named function that sends requests through the `Target`
and yields the exchanges together with the check ids they prove.

One call signature: `scenario(ctx: Context) -> Iterator[Proof]`. A scenario declares what it needs
(the endpoint, streaming) and which checks it proves; the registry answers "which scenarios prove
this check" for the suites, the fault self-test and the fault-catalogue test. A scenario that finds
the target lacks what it needs raises `NotApplicable` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._areas import first_doc_line, import_areas
from ..target import NotApplicable

if TYPE_CHECKING:
    from ._context import Context

# The suite (a folder of suites/) that runs each area's scenarios.
SUITE_OF_AREA = {
    "chat": "conformance",
    "completions": "conformance",
    "embeddings": "conformance",
    "models": "conformance",
    "request": "conformance",
    "stream": "streaming",
    "errors": "errors",
    "clients": "clients",
    "governance": "governance",
    "tools": "tools",
    "responses": "responses",
}


@dataclass(frozen=True)
class MatrixRow:
    """One error-matrix row a proof fills in: the condition, the status the profile expects, and
    what came back. `status_checked`: an `errors.status.*` check judges the status; otherwise (the
    gateway's conditions) the row compares it itself."""

    endpoint: str
    condition: str
    expected_status: int | None
    cite: str | None
    status: int | None = None
    sdk_exception: str | None = None
    status_checked: bool = True
    skipped: bool = False


@dataclass(frozen=True)
class Proof:
    """Exchanges and the checks they prove, with the keyword context those checks take."""

    checks: tuple[str, ...]
    exchanges: tuple[Any, ...]
    context: dict[str, Any] = field(default_factory=dict)  # keyword context every check takes
    endpoint: str | None = None
    error_response: bool = False  # the checks judge an error answer (only the profile's errors.* apply)
    row: MatrixRow | None = None
    per_check: dict[str, dict[str, Any]] = field(default_factory=dict)  # context one check alone takes
    # What the checks need of each answer (compat_suite._needs): inferred from the exchanges unless given.
    needs: str | tuple[str, ...] | None = None

    def context_of(self, check_id: str) -> dict[str, Any]:
        return {**self.context, **self.per_check.get(check_id, {})}


def proof(
    checks: str | tuple[str, ...] | list[str],
    *exchanges: Any,
    endpoint: str | None = None,
    error_response: bool = False,
    row: MatrixRow | None = None,
    per_check: dict[str, dict[str, Any]] | None = None,
    needs: str | tuple[str, ...] | None = None,
    **context: Any,
) -> Proof:
    """`proof(check_ids, *exchanges, **context)`: what a scenario yields. `needs` only where inference
    from the exchanges is wrong (see compat_suite._needs): "json", "event-stream", "refusal" or
    "none", for all exchanges or one per exchange."""
    ids = (checks,) if isinstance(checks, str) else tuple(checks)
    return Proof(ids, exchanges, context, endpoint, error_response, row, per_check or {}, needs)


@dataclass(frozen=True)
class Measurement:
    """Model behaviour, measured k of n (does the model call a tool under `auto`, does its answer use
    the tool's result): reported as behaviour with a Wilson interval, never as a check's verdict."""

    id: str  # `<area>.<what>`, like a check id
    description: str
    k: int
    n: int
    endpoint: str = "chat"
    note: str = ""
    checks: tuple[str, ...] = ()  # a measurement proves no check


def measured(measurement_id: str, description: str, k: int, n: int, **extra: Any) -> Measurement:
    """What a scenario yields for behaviour: `k` of `n` tries showed it."""
    if not 0 <= k <= n:
        raise ValueError(f"{measurement_id}: k={k} is not between 0 and n={n}")
    return Measurement(measurement_id, description, k, n, **extra)


Proofs = Iterator["Proof | Measurement"]
ScenarioFunc = Callable[["Context"], Proofs]


@dataclass(frozen=True)
class Scenario:
    id: str
    func: ScenarioFunc
    proves: tuple[str, ...]
    endpoint: str | None  # the profile endpoint it needs (None: it checks for itself)
    stream: bool  # it needs the target to stream
    cases: tuple[str, ...]  # one run per case (ctx.case); empty: one run
    description: str

    @property
    def area(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def suite(self) -> str:
        return SUITE_OF_AREA[self.area]

    def runs(self) -> list[tuple[Scenario, str | None]]:
        """(scenario, case) for each run: one per case, or one."""
        return [(self, case) for case in self.cases] if self.cases else [(self, None)]

    def run_id(self, case: str | None) -> str:
        """`chat.basic`, or `errors.matrix:chat-no-key` for a case: the pytest id of one run."""
        return self.id if case is None else f"{self.id}:{case}"

    def check_needs(self, ctx: Context) -> None:
        """Raise NotApplicable, with the reason, when the target lacks what this scenario needs."""
        if self.endpoint is not None:
            ctx.target.require(self.endpoint)
        if self.stream and not ctx.target.profile.streaming_supported:
            raise NotApplicable(f"profile {ctx.target.profile.name!r} documents no streaming")

    def __call__(self, ctx: Context) -> Proofs:
        self.check_needs(ctx)
        yield from self.func(ctx)


_REGISTRY: dict[str, Scenario] = {}


def scenario(
    scenario_id: str,
    *,
    proves: tuple[str, ...] | list[str],
    endpoint: str | None = None,
    stream: bool = False,
    cases: tuple[str, ...] | list[str] = (),
) -> Callable[[ScenarioFunc], Scenario]:
    """Register a scenario under `scenario_id` (`<area>.<what>`); registering an id twice is an error."""

    def register(func: ScenarioFunc) -> Scenario:
        description = first_doc_line("scenario", scenario_id, func, _REGISTRY)
        if scenario_id.split(".", 1)[0] not in SUITE_OF_AREA:
            raise ValueError(f"scenario {scenario_id}: unknown area (known: {', '.join(SUITE_OF_AREA)})")
        registered = Scenario(scenario_id, func, tuple(proves), endpoint, stream, tuple(cases), description)
        _REGISTRY[scenario_id] = registered
        return registered

    return register


def registry() -> dict[str, Scenario]:
    """Every registered scenario by id, in registration order (imports every scenario module first)."""
    import_areas(__package__)

    return dict(_REGISTRY)


def proving(check_id: str) -> list[Scenario]:
    """The scenarios that prove `check_id`, in registration order."""
    return [s for s in registry().values() if check_id in s.proves]


def for_suite(suite: str) -> list[tuple[Scenario, str | None]]:
    """Every (scenario, case) run of one suite, in registration order."""
    return [run for s in registry().values() if s.suite == suite for run in s.runs()]
