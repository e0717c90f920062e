"""Provider profiles: what a target documents, and so what a check may expect of it.

A profile (schemas/profiles/<name>.yaml) lists only what differs from OpenAI's default
expectation, each entry with its reason and its citation, the way web-platform-tests keeps
per-browser expectation files beside the tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from ._paths import PROFILES_DIR

Verdict = Literal["pass", "fail", "deviation", "not-applicable", "drift"]

# OpenAI's statuses for the error-matrix conditions, used where a profile says nothing.
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
}


class ProfileError(ValueError):
    """A profile that cannot be loaded: names the file and the field."""


@dataclass(frozen=True)
class Expectation:
    check: str
    expected: Literal["deviation", "not-applicable"]
    observed: str | None = None
    reason: str | None = None
    cite: str | None = None


@dataclass(frozen=True)
class Profile:
    name: str
    base_path: str
    endpoints: dict[str, str]
    model_rule: str = "required"
    key_prefix: str | None = None
    streaming: dict[str, Any] = field(default_factory=dict)
    expectations: dict[str, Expectation] = field(default_factory=dict)
    statuses: dict[str, Any] = field(default_factory=dict)
    limits: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    extensions: tuple[str, ...] = ()
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    def declares(self, endpoint: str) -> bool:
        return endpoint in self.endpoints

    def endpoint_path(self, endpoint: str) -> str:
        return self.endpoints[endpoint]

    def expectation(self, check_id: str) -> Expectation | None:
        return self.expectations.get(check_id)

    def expected_status(self, condition: str) -> int | None:
        entry = self.statuses.get(condition)
        if isinstance(entry, dict):
            return entry.get("status")
        if isinstance(entry, int):
            return entry
        return DEFAULT_STATUSES.get(condition)

    @property
    def streaming_supported(self) -> bool:
        return self.streaming.get("supported", True) is not False

    @property
    def rate_limit_per_minute(self) -> int | None:
        return self.limits.get("requests_per_minute")

    def verdict(self, check_id: str, passed: bool) -> Verdict:
        """How a check's outcome counts under this profile."""
        exp = self.expectation(check_id)
        if exp is None:
            return "pass" if passed else "fail"
        if exp.expected == "not-applicable":
            return "not-applicable"
        return "drift" if passed else "deviation"


def available_profiles() -> list[str]:
    return sorted(p.stem for p in PROFILES_DIR.glob("*.yaml") if not p.stem.endswith(".schema"))


def load_profile(name_or_path: str) -> Profile:
    path = Path(name_or_path)
    if not path.suffix:
        path = PROFILES_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise ProfileError(f"no profile {name_or_path!r} (available: {', '.join(available_profiles())})")
    with path.open(encoding="utf-8") as fh:
        data = yaml.safe_load(fh) or {}
    try:
        expectations = {
            check: Expectation(check=check, **entry)
            for check, entry in (data.get("expectations") or {}).items()
        }
        return Profile(
            name=data.get("provider", path.stem),
            base_path=data["base_path"],
            endpoints=dict(data.get("endpoints") or {}),
            model_rule=data.get("model", "required"),
            key_prefix=(data.get("auth") or {}).get("key_prefix"),
            streaming=dict(data.get("streaming") or {}),
            expectations=expectations,
            statuses=dict(data.get("statuses") or {}),
            limits=dict(data.get("limits") or {}),
            headers=dict(data.get("headers") or {}),
            extensions=tuple(data.get("extensions") or ()),
            raw=data,
        )
    except (KeyError, TypeError) as exc:
        raise ProfileError(f"{path.name}: invalid profile: {exc}") from exc
