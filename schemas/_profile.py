"""Provider profiles as data: what a target documents, and so what a check may expect of it.

A profile (schemas/profiles/<name>.yaml, format in schemas/profiles/README.md) lists only what
differs from OpenAI's default expectation, each entry with its reason and its citation, the way
web-platform-tests keeps per-browser expectation files beside the tests. `_profile_loader` reads
and validates the files; this module is the model they load into.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from ._citations import Citation, doc_lines, resolve_doc, walk_cites

Verdict = Literal["pass", "fail", "deviation", "not-applicable", "drift", "undocumented"]
Basis = Literal["documented", "inferred", "convention", "undocumented", "not-applicable"]

ENDPOINTS: tuple[str, ...] = (
    "chat",
    "completions",
    "embeddings",
    "models",
    "model",
    "health",
    "keys",
    "key",
    "credits",
    "credit_transactions",
    "usage",
    "responses",
)

# OpenAI's statuses for the error-matrix conditions, used where a profile says nothing. The first
# nine are client mistakes; the rest are gateway states. schemas/profiles/openai.yaml says, per
# condition, where each comes from (a test keeps the two equal).
DEFAULT_STATUSES: dict[str, int] = {
    "no-key": 401,
    "bad-key": 401,
    "unknown-model": 404,
    "malformed-json": 400,
    "wrong-content-type": 415,
    "invalid-param": 400,
    "unknown-path": 404,
    "wrong-method": 405,
    "oversized-body": 413,
    "no-credit": 429,
    "revoked-key": 401,
    "ip-blocked": 403,
    "account-disabled": 403,
    "rate-limited": 429,
    "conflict": 409,
    "cold-start": 503,
}
CONDITIONS: tuple[str, ...] = tuple(DEFAULT_STATUSES)
# The client's own mistakes (the error matrix); the rest are gateway states (the governance suite).
CLIENT_MISTAKES: tuple[str, ...] = CONDITIONS[: CONDITIONS.index("oversized-body") + 1]

# Conditions about the API key itself: they do not arise on an endpoint that needs no key.
_KEY_CONDITIONS = ("no-key", "bad-key", "revoked-key")


class ProfileError(ValueError):
    """A profile that cannot be loaded: names the file and the field."""


@dataclass(frozen=True)
class Expectation:
    """What a check may expect of this target instead of OpenAI's behaviour."""

    check: str
    expected: Literal["deviation", "not-applicable"]
    observed: str | None = None
    reason: str | None = None
    cite: str | None = None
    endpoints: tuple[str, ...] = ()  # empty: every endpoint the check runs on
    note: str | None = None
    # The situation the doc describes, as request-body fields (dotted paths) and their values;
    # empty: every request.
    when_request: tuple[tuple[str, Any], ...] = ()
    when_sets_any: tuple[str, ...] = ()  # the request sets at least one of these, whatever its value

    def applies_to(self, endpoint: str | None, request: Any = None) -> bool:
        """Whether the entry covers `endpoint` and the request body `request` (None: not known, so
        a request condition is taken to hold)."""
        if self.endpoints and (endpoint is None or endpoint not in self.endpoints):
            return False
        if not (self.when_request or self.when_sets_any) or request is None:
            return True
        if self.when_sets_any and all(_field_at(request, path) is _MISSING for path in self.when_sets_any):
            return False
        return all(_field_at(request, path) == value for path, value in self.when_request)


_MISSING = object()


def _field_at(body: Any, path: str) -> Any:
    """The value at a dotted path of a JSON body, or a sentinel equal to nothing when it is absent."""
    for part in path.split("."):
        if not isinstance(body, dict) or part not in body:
            return _MISSING
        body = body[part]
    return body


@dataclass(frozen=True)
class Endpoint:
    """One endpoint the provider documents, relative to the base path."""

    name: str
    path: str
    methods: tuple[str, ...] = ()
    auth_required: bool = True
    aliases: tuple[str, ...] = ()  # absolute paths that take the same request
    cite: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Absence:
    """An OpenAI endpoint the provider does not offer, and how that is known."""

    endpoint: str
    reason: str
    cite: str | None = None


@dataclass(frozen=True)
class StatusRule:
    """The status an error-matrix condition gets on this target, and where that comes from."""

    condition: str
    status: int | None  # None: not applicable here
    basis: Basis
    trigger: str | None = None
    cite: str | None = None
    reason: str | None = None
    note: str | None = None

    @property
    def documented(self) -> bool:
        return self.basis in ("documented", "inferred")


@dataclass(frozen=True)
class DocumentedStatus:
    """One row of the provider's own status table."""

    status: int
    meaning: str
    cite: str
    conditions: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True)
class StreamClaim:
    says: Literal["supported", "unsupported"]
    cite: str
    note: str | None = None


@dataclass(frozen=True)
class Streaming:
    """Whether the target streams, how it frames a stream, and, for contradicting docs, both claims."""

    supported: bool | Literal["contradicted"] = True
    framing: str = "openai"
    cite: str | None = None
    claims: tuple[StreamClaim, ...] = ()
    assumed: str | None = None  # for a contradiction: the claim the expectations encode
    observed: str | None = None
    event: str | None = None
    done: str | None = None

    def get(self, key: str, default: Any = None) -> Any:
        """Mapping-style access, kept for callers of the first (dict) version."""
        return getattr(self, key, default)


@dataclass(frozen=True)
class Example:
    """A response body the provider documents, by line range, for tests to run through the checks."""

    name: str
    endpoint: str
    kind: Literal["json", "sse"]
    file: str
    start: int
    end: int
    request: dict[str, Any] = field(default_factory=dict)
    schema: str | None = None

    def read(self, docs_root: Path) -> str:
        """The example's lines, joined as they stand in the document."""
        lines = doc_lines(resolve_doc(self.file, docs_root))
        return "\n".join(lines[self.start - 1 : self.end])


@dataclass(frozen=True)
class Profile:
    name: str
    base_path: str
    endpoints: dict[str, str]
    model_rule: str = "required"
    key_prefix: str | None = None
    streaming: Streaming = field(default_factory=Streaming)
    expectations: dict[str, Expectation] = field(default_factory=dict)
    statuses: dict[int, DocumentedStatus] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    extensions: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    title: str = ""
    docs: tuple[str, ...] = ()
    base_path_aliases: tuple[str, ...] = ()
    endpoint_specs: dict[str, Endpoint] = field(default_factory=dict)
    absent_endpoints: dict[str, Absence] = field(default_factory=dict)
    error_matrix: dict[str, StatusRule] = field(default_factory=dict)
    model_default_name: str | None = None
    model_case_sensitive: bool | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    features: dict[str, Any] = field(default_factory=dict)
    undocumented: dict[str, str] = field(default_factory=dict)  # check area (or id prefix) -> why
    examples: tuple[Example, ...] = ()
    source: Path | None = field(default=None, compare=False)

    # -- endpoints -------------------------------------------------------------------------------
    def declares(self, endpoint: str) -> bool:
        return endpoint in self.endpoints

    def endpoint_path(self, endpoint: str) -> str:
        """The endpoint's path relative to the base path (placeholders such as {model} kept)."""
        return self.endpoints[endpoint]

    def endpoint(self, endpoint: str) -> Endpoint:
        return self.endpoint_specs[endpoint]

    def requires_auth(self, endpoint: str) -> bool:
        spec = self.endpoint_specs.get(endpoint)
        return True if spec is None else spec.auth_required

    @property
    def public_endpoints(self) -> tuple[str, ...]:
        return tuple(name for name, spec in self.endpoint_specs.items() if not spec.auth_required)

    @property
    def base_path_params(self) -> tuple[str, ...]:
        """Placeholders in the base path (e.g. `project_ref`), which a base URL fills in."""
        return tuple(re.findall(r"\{([A-Za-z_][A-Za-z0-9_]*)\}", self.base_path))

    # -- expectations ----------------------------------------------------------------------------
    def expectation(
        self,
        check_id: str,
        endpoint: str | None = None,
        *,
        error_response: bool = False,
        request: Any = None,
    ) -> Expectation | None:
        """What the profile says `check_id` (on `endpoint`) should find instead of OpenAI's behaviour.

        An explicit entry first, where it covers the endpoint and the request body `request` (its
        `when` situation; None: not known); then what follows from the profile's other data: a check
        on an endpoint the provider does not offer, an error condition that does not apply, and a key
        condition on an endpoint that needs no key are not applicable. Explicit entries describe
        successful answers: on an error answer (`error_response`, the error matrix) only those of
        `errors.*` checks apply.
        """
        explicit = self.expectations.get(check_id)
        if explicit is not None and explicit.applies_to(endpoint, request):
            if not error_response or check_id.startswith("errors."):
                return explicit
        if endpoint is not None and endpoint in self.absent_endpoints:
            absence = self.absent_endpoints[endpoint]
            return Expectation(check_id, "not-applicable", reason=absence.reason, cite=absence.cite)
        if check_id.startswith("errors.status."):
            condition = check_id.removeprefix("errors.status.")
            if condition in DEFAULT_STATUSES:
                rule = self.status_rule(condition, endpoint)
                if rule.basis == "not-applicable":
                    return Expectation(check_id, "not-applicable", reason=rule.reason, cite=rule.cite)
        return None

    def silent_on(self, check_id: str) -> str | None:
        """Why the provider's docs say nothing of what `check_id` checks (its area, or a prefix of its
        id, listed under `undocumented`), or None where they do."""
        for prefix, reason in self.undocumented.items():
            if check_id == prefix or check_id.startswith(prefix + "."):
                return reason
        return None

    def verdict(
        self,
        check_id: str,
        passed: bool,
        endpoint: str | None = None,
        *,
        error_response: bool = False,
        request: Any = None,
    ) -> Verdict:
        """How a check's outcome counts under this profile (`drift`: a documented deviation did not happen;
        `undocumented`: a failure where the provider's docs are silent, shown as observed behaviour)."""
        exp = self.expectation(check_id, endpoint, error_response=error_response, request=request)
        if exp is None:
            if not passed and self.silent_on(check_id) is not None:
                return "undocumented"  # observed, reported, not held against the provider
            return "pass" if passed else "fail"
        if exp.expected == "not-applicable":
            return "not-applicable"
        return "drift" if passed else "deviation"

    # -- statuses --------------------------------------------------------------------------------
    def status_rule(self, condition: str, endpoint: str | None = None) -> StatusRule:
        """The rule for one error-matrix condition (on `endpoint`); OpenAI's where the profile is silent."""
        if condition not in DEFAULT_STATUSES:
            raise KeyError(f"unknown error-matrix condition {condition!r} (known: {', '.join(CONDITIONS)})")
        if condition in _KEY_CONDITIONS and endpoint is not None and not self.requires_auth(endpoint):
            spec = self.endpoint_specs[endpoint]
            reason = f"{endpoint} needs no API key on this provider"
            return StatusRule(condition, None, "not-applicable", cite=spec.cite, reason=reason)
        rule = self.error_matrix.get(condition)
        if rule is not None and rule.basis != "undocumented":
            return rule
        note = rule.note if rule is not None else None
        return StatusRule(condition, DEFAULT_STATUSES[condition], "undocumented", note=note)

    def expected_status(self, condition: str, endpoint: str | None = None) -> int | None:
        """The status `condition` should get (on `endpoint`); None where the condition does not apply."""
        if condition not in DEFAULT_STATUSES:
            return None
        return self.status_rule(condition, endpoint).status

    def status_deviations(self) -> dict[str, StatusRule]:
        """Conditions whose documented (or inferred) status differs from OpenAI's."""
        return {
            cond: rule
            for cond in CONDITIONS
            if (rule := self.status_rule(cond)).documented and rule.status != DEFAULT_STATUSES[cond]
        }

    # -- the rest --------------------------------------------------------------------------------
    @property
    def streaming_supported(self) -> bool:
        """False only where the docs say plainly there is no streaming (a contradiction is tested)."""
        return self.streaming.supported is not False

    @property
    def streaming_contradicted(self) -> bool:
        return self.streaming.supported == "contradicted"

    @property
    def binds_keys_to_model(self) -> bool:
        """A key serves one model, which requests may name by the documented default name."""
        return self.model_default_name is not None

    @property
    def rate_limit_per_minute(self) -> int | None:
        return self.limits.get("requests_per_minute")

    def citations(self) -> list[tuple[str, Citation]]:
        """Every citation in the profile, with the field it sits in."""
        return [(where, Citation.parse(text)) for where, text in walk_cites(self.raw)]
