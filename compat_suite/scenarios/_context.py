"""What a scenario runs with: the target, the run's options, and what a session shares.

`Context.once` keeps session-wide work (each SDK's calls, a raw exchange several scenarios judge)
to one run. `AdminAPI` and `Context.state_key` give the governance scenarios keys in the states they
need: from the options (a real provider) or made through a reference server's admin API.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

import httpx

from ..target import NotApplicable, Target

T = TypeVar("T")
ADMIN_TIMEOUT_S = 10.0
KEY_STATES = ("exhausted-key", "revoked-key", "ip-blocked-key", "disabled-key", "rate-limited-key")


class AdminAPI:
    """A reference server's `/admin/*` API: the states a real provider's options stand in for."""

    def __init__(self, root_url: str, admin_key: str) -> None:
        self._client = httpx.Client(
            base_url=root_url, headers={"X-Admin-Key": admin_key}, timeout=ADMIN_TIMEOUT_S
        )

    def __repr__(self) -> str:  # never the key
        return f"AdminAPI({self._client.base_url!s})"

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self._client.request(method, path, json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"admin {method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def key(self, **options: Any) -> dict[str, Any]:
        return self.call("POST", "/admin/keys", options)

    def close(self) -> None:
        self._client.close()


@dataclass
class Context:
    target: Target
    # resolved options (schemas/options.yaml); never in a repr: they hold the key and header values
    options: Mapping[str, Any] = field(default_factory=dict, repr=False)
    admin: AdminAPI | None = None
    add_secret: Callable[[str], None] = field(
        default=lambda secret: None, repr=False
    )  # keys found in a run: redact
    case: str | None = None  # the case of a scenario that runs once per case
    memo: dict[str, Any] = field(default_factory=dict, repr=False)  # shared by every run of a session

    def with_case(self, case: str | None) -> Context:
        """The same context (and memo) for one case."""
        return replace(self, case=case)

    def once(self, key: str, make: Callable[[], T]) -> T:
        """`make()` the first time `key` is asked for in this session; the same value after."""
        if key not in self.memo:
            self.memo[key] = make()
        return self.memo[key]

    def secret(self, value: str) -> str:
        """Remember `value` as a secret (never in evidence or a report) and return it."""
        if value:
            self.add_secret(value)
        return value

    def state_key(self, state: str) -> str:
        """The raw key for `state` (one of KEY_STATES): the option's, else one the admin API makes;
        NotApplicable, naming the option, when neither source has one."""
        given = self.options.get(state.replace("-", "_"))
        if given:
            return self.secret(given)
        if self.admin is None:
            raise NotApplicable(f"no --{state} given, and no admin API (--admin-key) to make one")
        return self.once(f"state-key:{state}", lambda: self.secret(self._make_key(state)))

    def _key_options(self, **extra: Any) -> dict[str, Any]:
        options: dict[str, Any] = {"credit_micros": 10**9, **extra}
        if self.target.profile.model_rule == "bound" and self.target.model:
            options["model"] = self.target.model
        return options

    def _make_key(self, state: str) -> str:
        assert self.admin is not None
        if state == "exhausted-key":
            return self.admin.key(**{**self._key_options(), "credit_micros": 0})["key"]
        if state == "ip-blocked-key":
            return self.admin.key(**self._key_options(allowed_ips=["192.0.2.1/32"]))["key"]  # TEST-NET-1
        if state == "rate-limited-key":
            return self.admin.key(**self._key_options(rate_limit="2/minute"))["key"]
        created = self.admin.key(**self._key_options())
        if state == "revoked-key":
            self.admin.call("POST", f"/admin/keys/{created['id']}/revoke")
        elif state == "disabled-key":
            self.admin.call("POST", f"/admin/accounts/{created['account_id']}/deactivate")
        else:
            raise ValueError(f"unknown key state {state!r} (known: {', '.join(KEY_STATES)})")
        return created["key"]
