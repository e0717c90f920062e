"""The suites' fixtures and hooks, from compat_suite.fixtures: imported here so that they apply to the
suites alone (the installed pytest plugin only adds the --compat-* options)."""

from compat_suite.fixtures import (  # noqa: F401  (fixtures and hooks, found by name)
    embedded_server,
    explore,
    pytest_configure,
    pytest_runtest_call,
    pytest_runtest_makereport,
    pytest_sessionfinish,
    results,
    run_scenario,
    scenario_context,
    skip_checks,
    target,
    verify,
)
