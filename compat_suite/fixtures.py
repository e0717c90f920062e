"""The suites' fixtures and hooks: the target (or the embedded reference server), the run's results,
scenario runs, `verify`, and results.json at the end.

suites/conftest.py imports this module, so that it applies to the suites alone: a pytest run that
collects no suite never meets these fixtures (see compat_suite.plugin for the options).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from schemas import ProfileError, load_profile, parse_headers, redact_text, secret_values

from .discovery import discover
from .embedded import EMBEDDED_MODELS, EmbeddedServer, EmbeddedServerError
from .explore import Exploration
from .plugin import compat_options
from .results import JUNIT_FILE, Results, write_junit
from .scenarios import AdminAPI, Context, Measurement, Scenario, for_suite
from .target import NotApplicable, RequestBudgetExhausted, Target
from .verify import ProofFailed, Verifier

RUN_KEY_RATE_LIMIT = "1000000/minute"  # the run's own key: the documented limits are tested by their row
RUN_KEY_CREDIT_MICROS = 10**12
_results_key = pytest.StashKey[Results]()
_embedded_key = pytest.StashKey[EmbeddedServer]()
_options_key = pytest.StashKey[dict[str, Any]]()
_target_key = pytest.StashKey[Target]()


def options(config: pytest.Config) -> dict[str, Any]:
    """The run's resolved options (once per session)."""
    if _options_key not in config.stash:
        config.stash[_options_key] = compat_options(config)
    return config.stash[_options_key]


def session_results(config: pytest.Config) -> Results:
    if _results_key not in config.stash:
        config.stash[_results_key] = Results(target={}, profile=options(config)["profile"])
    return config.stash[_results_key]


@pytest.fixture(scope="session")
def target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The endpoint under test, built once from the options (or the embedded server)."""
    config = request.config
    opt = options(config)
    try:
        profile = load_profile(opt["profile"])
        headers = parse_headers(opt["header"])
    except (ProfileError, ValueError) as exc:
        raise pytest.UsageError(str(exc)) from None
    results = session_results(config)
    results.secrets = (*results.secrets, *secret_values(opt, "pytest"))
    base_url, api_key = opt["base_url"], opt["api_key"]
    model, embedding_model = opt["model"], opt["embedding_model"]
    server: EmbeddedServer | None = None
    if not base_url:
        engine, persona = opt["engine"], opt["persona"]
        server = EmbeddedServer(engine=engine, faults=opt["fault"], persona=persona)
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
        results.secrets = (*results.secrets, server.api_key, server.admin_key, api_key)
        base_url = server.base_url
        model, embedding_model = model or default_chat, embedding_model or default_embed
    tgt = Target(
        base_url=base_url,
        api_key=api_key,
        profile=profile,
        model=model,
        embedding_model=embedding_model,
        headers=headers,
        public_headers=tuple(opt["header_public"] or ()),
        timeout_s=opt["timeout"],
        max_requests=opt["max_requests"],
        # The documented limit paces a target given by URL; the embedded server's run key has none.
        rate_limit_rpm=opt["rate_limit"] or (None if server else profile.rate_limit_per_minute),
    )
    discovered = None
    if server is None and not (model or embedding_model):
        discovered = discover(tgt)  # no model given: ask the target, and say what was picked
        tgt.model, tgt.embedding_model = model, embedding_model = discovered.model, discovered.embedding_model
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(discovered.summary())
    results.target = {
        "base_url": base_url,
        "model": model,
        "embedding_model": embedding_model,
        "discovery": discovered.as_json() if discovered else None,
        "profile": profile.name,
        "embedded": server is not None,
        "persona": server.persona if server is not None else None,
    }
    results.secrets = (*results.secrets, *tgt.secrets)
    config.stash[_target_key] = tgt
    try:
        yield tgt
    finally:
        tgt.close()
        if server is not None:
            server.stop()


def _persona_run_key(server: EmbeddedServer, persona: str, chat_model: str) -> str:
    """The run's key: funded, unthrottled, and bound to the chat model where the persona binds keys."""
    options: dict[str, Any] = {"credit_micros": RUN_KEY_CREDIT_MICROS, "rate_limit": RUN_KEY_RATE_LIMIT}
    if load_profile(persona).binds_keys_to_model:
        options["model"] = chat_model
    return server.issue_key(**options)["key"]


@pytest.fixture(scope="session")
def embedded_server(target: Target, request: pytest.FixtureRequest) -> EmbeddedServer | None:
    """The embedded reference server behind `target`, or None for a target given by URL."""
    return request.config.stash.get(_embedded_key, None)


@pytest.fixture(scope="session")
def results(request: pytest.FixtureRequest) -> Results:
    """The run's results, written to the report directory at the end."""
    return session_results(request.config)


@pytest.fixture(scope="session")
def scenario_context(
    target: Target, embedded_server: EmbeddedServer | None, request: pytest.FixtureRequest, results: Results
) -> Iterator[Context]:
    """What every scenario of the session runs with: the target, the options, the admin API (the
    embedded persona's, or the target's with `--compat-admin-key`), and what they share."""
    opt = options(request.config)
    admin: AdminAPI | None = None
    if embedded_server is not None and embedded_server.persona:
        admin = AdminAPI(embedded_server.root_url, embedded_server.admin_key)
    elif opt["admin_key"]:
        parts = urlsplit(target.base_url)
        admin = AdminAPI(opt["admin_url"] or f"{parts.scheme}://{parts.netloc}", opt["admin_key"])

    def add_secret(secret: str) -> None:
        if secret not in results.secrets:
            results.secrets = (*results.secrets, secret)

    yield Context(target, opt, admin, add_secret)
    if admin is not None:
        admin.close()


@pytest.fixture
def verify(target: Target, results: Results, request: pytest.FixtureRequest) -> Verifier:
    """`verify(check_ids, *exchanges, **context)`: run checks, record findings, fail on failure
    (on a warning too with --compat-strict)."""
    return Verifier(target, results, request.node.nodeid, strict=bool(options(request.config)["strict"]))


@pytest.fixture
def explore(target: Target, results: Results, request: pytest.FixtureRequest) -> Exploration:
    """An exploration of a request space (compat_suite.explore): judge every example, group failures."""
    return Exploration(target, results, request.node.nodeid, strict=bool(options(request.config)["strict"]))


@pytest.fixture
def skip_checks(results: Results, request: pytest.FixtureRequest) -> Any:
    """`skip_checks(check_ids, reason)`: record a skip, with its reason, for each of `check_ids` this
    test has not judged yet, then skip the test. Nothing a run leaves out goes unreported."""

    def skip(check_ids: Any, reason: str) -> None:
        record_skips(results, request.node.nodeid, check_ids, reason)
        pytest.skip(reason)

    return skip


def record_skips(results: Results, test: str, check_ids: Any, reason: str) -> None:
    judged = results.judged_in(test)
    for check_id in dict.fromkeys(check_ids):
        if check_id not in judged:
            results.skip(check_id, reason, test)


@pytest.fixture
def run_scenario(scenario_context: Context, verify: Verifier, results: Results) -> Any:
    """`run_scenario(scenario, case)`: run one scenario, judging each proof as it comes and recording
    each behaviour measurement. A failed proof does not stop the scenario (what its later requests
    show is not hidden behind the first failure; a scenario checks its own preconditions); the test
    fails at the end with every failure. A scenario that finds what it needs missing (or the request
    budget spent) records a skip, with the reason, for each check it did not judge."""

    def run(scenario: Scenario, case: str | None = None) -> None:
        failures: list[str] = []
        try:
            for judged in scenario(scenario_context.with_case(case)):
                if isinstance(judged, Measurement):
                    verify.measure(judged)
                    continue
                try:
                    verify.judge(judged)
                except ProofFailed as failed:
                    failures.append(str(failed))
        except (NotApplicable, RequestBudgetExhausted) as exc:
            record_skips(results, verify.test_id, scenario.proves, str(exc))
            if not failures:
                raise
        if failures:
            raise ProofFailed("\n".join(failures))

    return run


def suite_test(suite: str) -> Any:
    """The test function of one suite: a test per scenario run of `suite`, with its run id as the
    test's id (`test_conformance[chat.basic]`, `test_errors[errors.matrix:chat-no-key]`)."""
    params = [pytest.param(s, case, id=s.run_id(case)) for s, case in for_suite(suite)]

    @pytest.mark.parametrize(("scenario", "case"), params)
    def test(run_scenario: Any, scenario: Scenario, case: str | None) -> None:
        run_scenario(scenario, case)

    test.__doc__ = f"Each scenario of the {suite} suite, its proofs judged as they come."
    return test


# -- hooks (the suites' conftest imports them with the fixtures) ---------------------------------
def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_ScenarioErrors(config), "compat-suite-scenario-errors")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """A failure's text (traceback, arguments' reprs, messages) with every secret of the run redacted,
    before pytest prints it or a plugin (JUnit, a CI log) keeps it."""
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    results = item.config.stash.get(_results_key, None)
    if report.longrepr is None or results is None or not results.secrets:
        return
    text = str(report.longrepr)
    redacted = redact_text(text, results.secrets)
    if redacted != text:
        report.longrepr = redacted
    report.sections = [(name, redact_text(body, results.secrets)) for name, body in report.sections]


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Iterator[None]:
    outcome = yield
    excinfo = outcome.excinfo
    if excinfo is None:
        return
    if isinstance(excinfo[1], RequestBudgetExhausted | NotApplicable):
        outcome.force_exception(pytest.skip.Exception(str(excinfo[1]), _use_item_location=True))
    elif isinstance(excinfo[1], ProofFailed):  # a finding, already recorded: no traceback to show
        outcome.force_exception(pytest.fail.Exception(str(excinfo[1]), pytrace=False))


class _ScenarioErrors:
    """Records tests that failed outside any check: such a run cannot pass."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if not report.failed:
            return
        results = session_results(self.config)
        if report.nodeid not in results.failed_tests:
            results.test_error(report.nodeid, report.when, report.longreprtext)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    report_dir = options(session.config)["report_dir"]
    results = session.config.stash.get(_results_key, None)
    if not report_dir or results is None:
        return
    directory = Path(report_dir)
    target = session.config.stash.get(_target_key, None)
    if target is not None:
        results.requests = target.sent
    path = results.write(directory)
    write_junit(path, directory / JUNIT_FILE)
