"""The pytest plugin: options, the `target` and `verify` fixtures, and the results file.

`pytest suites/ --base-url URL --api-key KEY --model NAME` tests any endpoint; with no
`--base-url` the plugin starts the reference server (the embedded default) and tests that.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from . import checks
from .embedded import EmbeddedServer, EmbeddedServerError
from .profiles import ProfileError, load_profile
from .results import JUNIT_FILE, Results, write_junit
from .target import DEFAULT_TIMEOUT_S, RequestBudgetExhausted, Target

EMBEDDED_MODELS = {
    "transformers": ("SmolLM2-135M-Instruct", "all-MiniLM-L6-v2"),
    "scripted": ("scripted-chat", "scripted-embed"),
}
# Keys in the states the governance suite's error-matrix rows need, for a target it cannot set up.
GOVERNANCE_KEY_OPTIONS = {
    "exhausted-key": "a key whose credit is spent (402 or the profile's status)",
    "revoked-key": "a revoked key (401/403)",
    "ip-blocked-key": "a key whose IP allowlist excludes this machine (403)",
    "disabled-key": "a key of a deactivated account or locked instance (403)",
    "rate-limited-key": "a key with a low request limit, e.g. 2 per minute (429)",
}
RUN_KEY_RATE_LIMIT = "1000000/minute"  # the run's own key: the documented limits are tested by their row
RUN_KEY_CREDIT_MICROS = 10**12
_results_key = pytest.StashKey[Results]()
_embedded_key = pytest.StashKey[EmbeddedServer]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("compat-suite", "OpenAI-compatible conformance")
    group.addoption(
        "--base-url", help="base URL of the target, e.g. https://api.openai.com/v1 (default: embedded)"
    )
    group.addoption("--api-key", help="API key (default: $OPENAI_API_KEY or $COMPAT_API_KEY)")
    group.addoption("--model", help="chat/completions model name")
    group.addoption("--embedding-model", help="embeddings model name")
    group.addoption("--profile", default="openai", help="provider profile (schemas/profiles/NAME.yaml)")
    group.addoption(
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="extra request header (repeatable)",
    )
    group.addoption("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per exchange")
    group.addoption("--max-requests", type=int, default=None, help="cap on requests sent to the target")
    group.addoption("--report-dir", help="write results.json and junit.xml here")
    group.addoption(
        "--embedded-engine",
        default="transformers",
        choices=sorted(EMBEDDED_MODELS),
        help="engine of the embedded reference server (no --base-url)",
    )
    group.addoption(
        "--embedded-fault",
        action="append",
        default=[],
        metavar="ID",
        help="serve the embedded server with a fault",
    )
    group.addoption(
        "--embedded-persona",
        metavar="NAME",
        help="the embedded server stands in for a provider (carrot, carpathian, karta, inferbase, openai)",
    )
    governance = parser.getgroup("compat-suite governance", "keys and states for the governance suite")
    governance.addoption("--admin-key", help="the target's admin key (a reference server's /admin API)")
    governance.addoption("--admin-url", help="where /admin lives (default: the base URL's origin)")
    for state, help_text in GOVERNANCE_KEY_OPTIONS.items():
        governance.addoption(f"--{state}", metavar="KEY", help=help_text)
    governance.addoption(
        "--loading-model", metavar="NAME", help="a model that is cold starting (for 502/503)"
    )


def parse_headers(values: Sequence[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name.strip():
            raise pytest.UsageError(f"--header wants 'NAME: VALUE', got {value!r}")
        headers[name.strip()] = rest.strip()
    return headers


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "endpoint(name): the endpoint a scenario tests")
    config.pluginmanager.register(_ScenarioErrors(config), "compat-suite-scenario-errors")


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The endpoint under test, built once from the command line (or the embedded server)."""
    config = request.config
    opt = config.getoption
    try:
        profile = load_profile(opt("profile"))
    except ProfileError as exc:
        raise pytest.UsageError(str(exc)) from exc
    base_url = opt("base_url")
    api_key = opt("api_key") or os.environ.get("OPENAI_API_KEY") or os.environ.get("COMPAT_API_KEY")
    model, embedding_model = opt("model"), opt("embedding_model")
    server: EmbeddedServer | None = None
    if not base_url:
        engine, persona = opt("embedded_engine"), opt("embedded_persona")
        server = EmbeddedServer(engine=engine, faults=opt("embedded_fault"), persona=persona)
        default_chat, default_embed = EMBEDDED_MODELS[engine]
        try:
            server.start()
            api_key = server.api_key
            if persona:
                api_key = _persona_run_key(server, persona, default_chat)
        except (EmbeddedServerError, ValueError) as exc:
            server.stop()
            pytest.exit(str(exc), returncode=2)
        config.stash[_embedded_key] = server
        base_url = server.base_url
        model, embedding_model = model or default_chat, embedding_model or default_embed
    tgt = Target(
        base_url=base_url,
        api_key=api_key,
        profile=profile,
        model=model,
        embedding_model=embedding_model,
        headers=parse_headers(opt("header")),
        timeout_s=opt("timeout"),
        max_requests=opt("max_requests"),
    )
    results = config.stash.get(_results_key, None)
    if results is not None:
        results.target = {
            "base_url": base_url,
            "model": model,
            "embedding_model": embedding_model,
            "profile": profile.name,
            "embedded": server is not None,
            "persona": server.persona if server is not None else None,
        }
        results.secrets = tgt.secrets
    try:
        yield tgt
    finally:
        tgt.close()
        if server is not None:
            server.stop()


def _persona_run_key(server: EmbeddedServer, persona: str, chat_model: str) -> str:
    """The run's key: funded, unthrottled, and bound to the chat model where the persona binds keys."""
    from reference_server.personas import load_persona

    options: dict[str, Any] = {"credit_micros": RUN_KEY_CREDIT_MICROS, "rate_limit": RUN_KEY_RATE_LIMIT}
    if load_persona(persona).bind_keys_to_model:
        options["model"] = chat_model
    return server.issue_key(**options)["key"]


@pytest.fixture(scope="session")
def embedded_server(target: Target, request: pytest.FixtureRequest) -> EmbeddedServer | None:
    """The embedded reference server behind `target`, or None for a `--base-url` target."""
    return request.config.stash.get(_embedded_key, None)


@pytest.fixture(scope="session")
def results(request: pytest.FixtureRequest) -> Results:
    """The run's results, written to --report-dir at the end."""
    return _session_results(request.config)


def _session_results(config: pytest.Config) -> Results:
    if _results_key not in config.stash:
        config.stash[_results_key] = Results(target={}, profile=config.getoption("profile"))
    return config.stash[_results_key]


class Verifier:
    """Runs checks on exchanges, records every finding, and fails the test if any failed."""

    def __init__(self, target: Target, results: Results, node_id: str) -> None:
        self.target = target
        self.results = results
        self.node_id = node_id

    def __call__(
        self,
        check_ids: str | Sequence[str],
        *exchanges: Any,
        endpoint: str | None = None,
        error_response: bool = False,
        **ctx: Any,
    ):
        """Run `check_ids` on `exchanges`; `error_response`: they judge an error answer (only the
        profile's `errors.*` entries apply there)."""
        ids = [check_ids] if isinstance(check_ids, str) else list(check_ids)
        request = request_body(exchanges[0]) if exchanges else None
        failed = []
        for check_id in ids:
            outcome = checks.run(check_id, *exchanges, endpoint=endpoint, **ctx)
            record = self.results.record(
                outcome, self.target.profile, self.node_id, error_response=error_response, request=request
            )
            if record.verdict in ("fail", "drift"):
                failed.append(f"{check_id}: {record.message}")
        if failed:
            pytest.fail("\n".join(failed), pytrace=False)


def request_body(exchange: Any) -> Any:
    """The JSON request body an exchange sent ({} for none or not JSON), for the profile's `when`."""
    recorded = getattr(exchange, "request", None)
    if recorded is None:
        return None  # not an exchange: the situation is not known
    body = recorded.json
    return body if isinstance(body, dict) else {}


@pytest.fixture
def verify(target: Target, results: Results, request: pytest.FixtureRequest) -> Verifier:
    """`verify(check_ids, *exchanges, **context)`: run checks, record findings, fail on failure."""
    return Verifier(target, results, request.node.nodeid)


@pytest.fixture(scope="session")
def params() -> dict[str, Any]:
    """Small request defaults: users run this against paid endpoints."""
    return {"max_tokens": 16, "prompt": "Say hello in three words.", "seed": 1234}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    outcome = yield
    excinfo = outcome.excinfo
    if excinfo is not None and isinstance(excinfo[1], RequestBudgetExhausted):
        outcome.force_exception(pytest.skip.Exception(str(excinfo[1]), _use_item_location=True))


class _ScenarioErrors:
    """Records tests that failed outside any check: such a run cannot pass."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.failed:
            return
        results = _session_results(self.config)
        if report.nodeid not in results.failed_tests:
            results.test_error(report.nodeid, report.when, report.longreprtext)


def pytest_sessionstart(session: pytest.Session) -> None:
    _session_results(session.config)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    report_dir = session.config.getoption("report_dir", None)
    results = session.config.stash.get(_results_key, None)
    if not report_dir or results is None:
        return
    directory = Path(report_dir)
    path = results.write(directory)
    write_junit(path, directory / JUNIT_FILE)
