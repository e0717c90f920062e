"""Provider profiles: what a target documents, and so what a check may expect of it.

A profile (schemas/profiles/<name>.yaml, format in schemas/profiles/README.md) lists only what
differs from OpenAI's default expectation, each entry with its reason and its citation, the way
web-platform-tests keeps per-browser expectation files beside the tests. Profiles are validated on
load against schemas/profiles/profile.schema.yaml; a bad one raises `ProfileError` naming the file
and the field. Citations are checked against the provider docs by `verify_citations` (the docs
live beside a checkout, in ../shared, so loading never needs them).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ._paths import PROFILES_DIR, REPO_ROOT

Verdict = Literal["pass", "fail", "deviation", "not-applicable", "drift"]
Basis = Literal["documented", "inferred", "convention", "undocumented", "not-applicable"]

SCHEMA_FILE = PROFILES_DIR / "profile.schema.yaml"
SHARED_DIR_ENV = "COMPAT_SUITE_SHARED_DIR"

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

_CITE = re.compile(r'^(?P<file>[A-Za-z0-9_./-]+):(?P<line>[1-9][0-9]*) "(?P<quote>.+)"$')
_LINES = re.compile(r"^(?P<file>[A-Za-z0-9_./-]+):(?P<start>[1-9][0-9]*)-(?P<end>[1-9][0-9]*)$")
# Conditions about the API key itself: they do not arise on an endpoint that needs no key.
_KEY_CONDITIONS = ("no-key", "bad-key", "revoked-key")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where built in: faster, as safe


class ProfileError(ValueError):
    """A profile that cannot be loaded: names the file and the field."""


@dataclass(frozen=True)
class Citation:
    """`<doc file>:<line> "<text on that line>"`: where a profile entry's claim is written."""

    file: str
    line: int
    quote: str

    @classmethod
    def parse(cls, text: str) -> Citation:
        match = _CITE.match(text)
        if match is None:
            raise ValueError(f'not a citation (want <file>:<line> "<quoted text>"): {text!r}')
        return cls(match["file"], int(match["line"]), match["quote"])

    def __str__(self) -> str:
        return f'{self.file}:{self.line} "{self.quote}"'

    def problem(self, docs_root: Path) -> str | None:
        """Why this citation does not hold in the docs under `docs_root`, or None when it does."""
        path = resolve_doc(self.file, docs_root)
        if not path.is_file():
            return f"{self.file}: no such document under {docs_root}"
        lines = _doc_lines(path)
        if self.line > len(lines):
            return f"{self.file}:{self.line}: the document has {len(lines)} lines"
        if self.quote not in lines[self.line - 1]:
            return f"{self}: not on that line, which reads {lines[self.line - 1]!r}"
        return None


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

    def applies_to(self, endpoint: str | None, request: Any = None) -> bool:
        """Whether the entry covers `endpoint` and the request body `request` (None: not known, so
        a request condition is taken to hold)."""
        if self.endpoints and (endpoint is None or endpoint not in self.endpoints):
            return False
        if not self.when_request or request is None:
            return True
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
        lines = _doc_lines(resolve_doc(self.file, docs_root))
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

    def verdict(
        self,
        check_id: str,
        passed: bool,
        endpoint: str | None = None,
        *,
        error_response: bool = False,
        request: Any = None,
    ) -> Verdict:
        """How a check's outcome counts under this profile (`drift`: a documented deviation did not happen)."""
        exp = self.expectation(check_id, endpoint, error_response=error_response, request=request)
        if exp is None:
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
    def rate_limit_per_minute(self) -> int | None:
        return self.limits.get("requests_per_minute")

    def citations(self) -> list[tuple[str, Citation]]:
        """Every citation in the profile, with the field it sits in."""
        return [(where, Citation.parse(text)) for where, text in _walk_cites(self.raw)]


# -- loading ---------------------------------------------------------------------------------------
def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml") if not p.stem.endswith(".schema"))


def load_profile(name_or_path: str) -> Profile:
    """Load and validate a profile by name (schemas/profiles/<name>.yaml) or by path."""
    path = Path(name_or_path)
    by_name = path.suffix not in (".yaml", ".yml") and "/" not in name_or_path
    if by_name:
        path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise ProfileError(f"no profile {name_or_path!r} (available: {', '.join(available_profiles())})")
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_YAML_LOADER)
    except yaml.YAMLError as exc:
        raise ProfileError(f"{path.name}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ProfileError(f"{path.name}: a profile is a mapping, got {type(data).__name__}")
    if isinstance(data.get("statuses"), dict):  # YAML reads 401: as an int key; the schema wants text
        data["statuses"] = {str(k): v for k, v in data["statuses"].items()}
    _validate(path, data)
    return _build(path, data)


def _validate(path: Path, data: dict[str, Any]) -> None:
    errors = sorted(_schema_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        shown = "; ".join(f"{_field(e)}: {_message(e)}" for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        raise ProfileError(f"{path.name}: invalid profile: {shown}{more}")
    if path.parent.resolve() == PROFILES_DIR.resolve() and data["provider"] != path.stem:
        raise ProfileError(
            f"{path.name}: provider: {data['provider']!r} must match the file name {path.stem!r}"
        )
    endpoints, absent = set(data.get("endpoints") or {}), set(data.get("absent_endpoints") or {})
    if both := endpoints & absent:
        raise ProfileError(f"{path.name}: absent_endpoints: {sorted(both)} are also in endpoints")
    for check_id, entry in (data.get("expectations") or {}).items():
        if undeclared := set(entry.get("endpoints") or ()) - endpoints:
            raise ProfileError(
                f"{path.name}: expectations.{check_id}.endpoints: {sorted(undeclared)} not in endpoints"
            )
    matrix = data.get("error_matrix") or {}
    for code, row in (data.get("statuses") or {}).items():
        for cond in row.get("conditions") or ():
            rule = matrix.get(cond)
            status = rule.get("status") if isinstance(rule, dict) else None
            if status != int(code):
                raise ProfileError(
                    f"{path.name}: statuses.{code}.conditions: {cond} maps to {code}, "
                    f"but error_matrix.{cond} says {status if status is not None else rule!r}"
                )
    docs = set(data.get("docs") or ())
    for where, text in _walk_cites(data):
        cited = Citation.parse(text).file
        if cited not in docs:
            raise ProfileError(f"{path.name}: {where}: cites {cited!r}, which is not listed in docs")


def _build(path: Path, data: dict[str, Any]) -> Profile:
    base = data["base_path"]
    specs = {name: _endpoint(name, entry) for name, entry in (data.get("endpoints") or {}).items()}
    model = data.get("model", "required")
    model = model if isinstance(model, dict) else {"rule": model}
    auth = data.get("auth") or {}
    return Profile(
        name=data["provider"],
        title=data.get("title") or data["provider"],
        docs=tuple(data.get("docs") or ()),
        base_path=base if isinstance(base, str) else base["path"],
        base_path_aliases=tuple(a["path"] for a in data.get("base_path_aliases") or ()),
        endpoints={name: spec.path for name, spec in specs.items()},
        endpoint_specs=specs,
        absent_endpoints={
            name: Absence(name, entry["reason"], entry.get("cite"))
            for name, entry in (data.get("absent_endpoints") or {}).items()
        },
        model_rule=model["rule"],
        model_default_name=model.get("default_name"),
        model_case_sensitive=model.get("case_sensitive"),
        key_prefix=auth.get("key_prefix"),
        streaming=_streaming(data.get("streaming") or {}),
        expectations={
            check_id: Expectation(
                check=check_id,
                expected=entry["expected"],
                observed=entry.get("observed"),
                reason=entry.get("reason"),
                cite=entry.get("cite"),
                endpoints=tuple(entry.get("endpoints") or ()),
                note=entry.get("note"),
                when_request=tuple(((entry.get("when") or {}).get("request") or {}).items()),
            )
            for check_id, entry in (data.get("expectations") or {}).items()
        },
        statuses={
            int(code): DocumentedStatus(
                int(code), row["meaning"], row["cite"], tuple(row.get("conditions") or ()), row.get("note")
            )
            for code, row in (data.get("statuses") or {}).items()
        },
        error_matrix={
            cond: _status_rule(cond, entry) for cond, entry in (data.get("error_matrix") or {}).items()
        },
        limits=dict(data.get("limits") or {}),
        headers=dict(data.get("headers") or {}),
        parameters=dict(data.get("parameters") or {}),
        extensions=tuple(e if isinstance(e, str) else e["name"] for e in data.get("extensions") or ()),
        features=dict(data.get("features") or {}),
        examples=tuple(_example(entry) for entry in data.get("examples") or ()),
        raw=data,
        source=path,
    )


def _endpoint(name: str, entry: str | dict[str, Any]) -> Endpoint:
    if isinstance(entry, str):
        return Endpoint(name, entry)
    return Endpoint(
        name=name,
        path=entry["path"],
        methods=tuple(entry.get("methods") or ()),
        auth_required=entry.get("auth", "required") == "required",
        aliases=tuple(a["path"] for a in entry.get("aliases") or ()),
        cite=entry.get("cite"),
        note=entry.get("note"),
    )


def _status_rule(condition: str, entry: str | dict[str, Any]) -> StatusRule:
    if isinstance(entry, str):  # "undocumented"
        return StatusRule(condition, None, "undocumented")
    status = entry["status"]
    if status == "undocumented":
        return StatusRule(condition, None, "undocumented", note=entry.get("note"))
    if status == "not-applicable":
        return StatusRule(
            condition,
            None,
            "not-applicable",
            cite=entry.get("cite"),
            reason=entry.get("reason"),
            note=entry.get("note"),
        )
    return StatusRule(
        condition,
        status,
        entry["basis"],
        trigger=entry.get("trigger"),
        cite=entry.get("cite"),
        note=entry.get("note"),
    )


def _streaming(entry: dict[str, Any]) -> Streaming:
    if not entry:
        return Streaming()
    return Streaming(
        supported=entry["supported"],
        framing=entry.get("framing", "openai" if entry["supported"] is not False else "none"),
        cite=entry.get("cite"),
        claims=tuple(StreamClaim(c["says"], c["cite"], c.get("note")) for c in entry.get("claims") or ()),
        assumed=entry.get("assumed"),
        observed=entry.get("observed"),
        event=entry.get("event"),
        done=entry.get("done"),
    )


def _example(entry: dict[str, Any]) -> Example:
    match = _LINES.match(entry["lines"])
    assert match is not None  # the schema's pattern
    return Example(
        name=entry["name"],
        endpoint=entry["endpoint"],
        kind=entry["kind"],
        file=match["file"],
        start=int(match["start"]),
        end=int(match["end"]),
        request=dict(entry.get("request") or {}),
        schema=entry.get("schema"),
    )


@functools.cache
def _schema_validator() -> Draft202012Validator:
    schema = yaml.safe_load(SCHEMA_FILE.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _field(error: ValidationError) -> str:
    parts = [str(p) for p in error.absolute_path]
    return ".".join(f"[{p}]" if "." in p else p for p in parts) or "(top level)"


def _message(error: ValidationError) -> str:
    if error.validator in ("oneOf", "anyOf") and error.context:
        # Say why the alternative of the value's own kind failed, not "is not valid under any of ...".
        by_alternative: dict[Any, list[ValidationError]] = {}
        for sub in error.context:
            by_alternative.setdefault(sub.schema_path[0] if sub.schema_path else None, []).append(sub)
        for subs in by_alternative.values():
            mismatched = any(not s.path and s.validator in ("type", "const", "enum") for s in subs)
            if not mismatched:
                return "; ".join(_message(s) for s in subs)
    return error.message


def _walk_cites(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            here = f"{where}.{key}" if where else str(key)
            if str(key) == "cite" or str(key).endswith("_cite"):
                if isinstance(value, str):
                    yield here, value
            else:
                yield from _walk_cites(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _walk_cites(value, f"{where}[{i}]")


# -- the cited documents ---------------------------------------------------------------------------
def shared_docs_dir() -> Path | None:
    """The shared reference folder (../shared beside the checkout, or $COMPAT_SUITE_SHARED_DIR)."""
    configured = os.environ.get(SHARED_DIR_ENV)
    candidate = Path(configured) if configured else REPO_ROOT.parent / "shared"
    return candidate if candidate.is_dir() else None


def resolve_doc(file: str, docs_root: Path) -> Path:
    """A cited file: a bare name is a provider doc; a path is relative to the shared folder."""
    return docs_root / file if "/" in file else docs_root / "provider-docs" / file


def _doc_lines(path: Path) -> tuple[str, ...]:
    return tuple(path.read_text(encoding="utf-8").splitlines())


def verify_citations(profile: Profile, docs_root: Path) -> list[str]:
    """Every citation of `profile` that does not hold in the docs under `docs_root`, as messages."""
    problems = [
        f"{profile.name}: {where}: {problem}"
        for where, citation in profile.citations()
        if (problem := citation.problem(docs_root)) is not None
    ]
    for doc in profile.docs:
        if not resolve_doc(doc, docs_root).is_file():
            problems.append(f"{profile.name}: docs: {doc} not found under {docs_root}")
    return problems
