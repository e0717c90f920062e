"""Fixtures of the governance suite: the admin API (embedded server or `--admin-key`), keys in the
states the error-matrix rows need, and `expect`, which records a scenario's assertion in results."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from compat_suite.checks._registry import MUST, Check, Outcome
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


class Expect:
    """`expect(check_id, passed, message, evidence)`: record one governance assertion as a finding
    (judged by the profile like any check) and fail the test when it failed."""

    def __init__(self, target: Target, results: Results, node_id: str) -> None:
        self.target, self.results, self.node_id = target, results, node_id

    def __call__(
        self,
        check_id: str,
        passed: bool,
        message: str,
        evidence: dict[str, Any] | None = None,
        *,
        endpoint: str,
    ) -> None:
        check = Check(check_id, MUST, (endpoint,), _no_op, message)
        outcome = Outcome(check, endpoint, passed, "" if passed else message, evidence or {})
        record = self.results.record(outcome, self.target.profile, self.node_id)
        if record.verdict in ("fail", "drift"):
            pytest.fail(f"{check_id}: {record.message}", pytrace=False)


def _no_op(*args: Any, **kwargs: Any) -> None:
    """A governance assertion, judged in the scenario."""


@pytest.fixture
def expect(target: Target, results: Results, request: pytest.FixtureRequest) -> Expect:
    return Expect(target, results, request.node.nodeid)
