"""Fixtures of the governance suite: the admin API (embedded server or `--admin-key`) and keys in the
states the error-matrix rows need. Scenarios judge their exchanges with the registered `governance.*`
checks through the plugin's `verify`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from compat_suite.embedded import EmbeddedServer
from compat_suite.results import Results
from compat_suite.target import Target

ADMIN_TIMEOUT_S = 10.0


class AdminAPI:
    """A reference server's `/admin/*` API: the states a real provider's options stand in for."""

    def __init__(self, root_url: str, admin_key: str) -> None:
        self.client = httpx.Client(
            base_url=root_url, headers={"X-Admin-Key": admin_key}, timeout=ADMIN_TIMEOUT_S
        )

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.request(method, path, json=body)
        if response.status_code >= 400:
            raise RuntimeError(f"admin {method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def key(self, **options: Any) -> dict[str, Any]:
        return self.call("POST", "/admin/keys", options)

    def close(self) -> None:
        self.client.close()


@pytest.fixture(scope="session")
def admin(
    request: pytest.FixtureRequest, embedded_server: EmbeddedServer | None, target: Target
) -> Iterator[AdminAPI | None]:
    """The admin API: the embedded persona's, or the target's with `--admin-key`; None otherwise."""
    opt = request.config.getoption
    api: AdminAPI | None = None
    if embedded_server is not None and embedded_server.persona:
        api = AdminAPI(embedded_server.root_url, embedded_server.admin_key)
    elif opt("admin_key"):
        parts = urlsplit(target.base_url)
        api = AdminAPI(opt("admin_url") or f"{parts.scheme}://{parts.netloc}", opt("admin_key"))
    yield api
    if api is not None:
        api.close()


class StateKeys:
    """Keys in error states: from the options (a real provider) or made through the admin API."""

    def __init__(
        self, config: pytest.Config, admin: AdminAPI | None, target: Target, results: Results
    ) -> None:
        self.config, self.admin, self.target, self.results = config, admin, target, results
        self.made: dict[str, str] = {}

    def get(self, state: str) -> str:
        """The raw key for `state` (exhausted-key, revoked-key, ip-blocked-key, disabled-key,
        rate-limited-key); skips the calling test, naming the option, when neither source has one."""
        given = self.config.getoption(state.replace("-", "_"))
        if given:
            return self._secret(given)
        if self.admin is None:
            pytest.skip(f"no --{state} given, and no admin API (--admin-key) to make one")
        if state not in self.made:
            self.made[state] = self._secret(self._make(state))
        return self.made[state]

    def _options(self, **extra: Any) -> dict[str, Any]:
        options: dict[str, Any] = {"credit_micros": 10**9, **extra}
        if self.target.profile.model_rule == "bound" and self.target.model:
            options["model"] = self.target.model
        return options

    def _make(self, state: str) -> str:
        assert self.admin is not None
        if state == "exhausted-key":
            return self.admin.key(**{**self._options(), "credit_micros": 0})["key"]
        if state == "ip-blocked-key":
            return self.admin.key(**self._options(allowed_ips=["192.0.2.1/32"]))["key"]  # TEST-NET-1
        if state == "rate-limited-key":
            return self.admin.key(**self._options(rate_limit="2/minute"))["key"]
        created = self.admin.key(**self._options())
        if state == "revoked-key":
            self.admin.call("POST", f"/admin/keys/{created['id']}/revoke")
        elif state == "disabled-key":
            self.admin.call("POST", f"/admin/accounts/{created['account_id']}/deactivate")
        else:
            raise ValueError(f"unknown key state {state!r}")
        return created["key"]

    def _secret(self, key: str) -> str:
        if key not in self.results.secrets:  # keys never reach evidence or reports
            self.results.secrets = (*self.results.secrets, key)
        return key


@pytest.fixture(scope="session")
def state_keys(
    request: pytest.FixtureRequest, admin: AdminAPI | None, target: Target, results: Results
) -> StateKeys:
    return StateKeys(request.config, admin, target, results)
