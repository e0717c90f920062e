"""Loading provider profiles: read, validate against profile.schema.yaml, build a `Profile`.

A bad profile raises `ProfileError` naming the file and the field. Citations are checked against the
provider docs by `verify_citations`.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from ._citations import Citation, resolve_doc, walk_cites
from ._profile import (
    Absence,
    DocumentedStatus,
    Endpoint,
    Example,
    Expectation,
    Profile,
    ProfileError,
    StatusRule,
    StreamClaim,
    Streaming,
)

PROFILES_DIR = Path(__file__).with_name("profiles")
SCHEMA_FILE = PROFILES_DIR / "profile.schema.yaml"
_LINES = re.compile(r"^(?P<file>[A-Za-z0-9_./-]+):(?P<start>[1-9][0-9]*)-(?P<end>[1-9][0-9]*)$")
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml where built in: faster, as safe


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
    for where, text in walk_cites(data):
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
                when_sets_any=tuple((entry.get("when") or {}).get("sets_any") or ()),
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
        undocumented={area: entry["reason"] for area, entry in (data.get("undocumented") or {}).items()},
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
