"""Options of the performance suite: which budget file and shape to hold the target to."""

from __future__ import annotations

import pytest

from compat_suite.load._budgets import BudgetError, load_budget


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("compat-suite performance")
    group.addoption(
        "--load-budget", default="default", help="budget file: a name in schemas/budgets/ or a path"
    )
    group.addoption("--load-shape", default=None, help="shape in the budget file (default: its first)")
    group.addoption(
        "--load-workers", type=int, default=None, help="local locust workers (default: the shape's)"
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per budget metric of the chosen shape, so a missed budget fails the test that names it."""
    if "budget_metric" not in metafunc.fixturenames:
        return
    try:
        shape = load_budget(metafunc.config.getoption("load_budget")).shape(
            metafunc.config.getoption("load_shape")
        )
    except BudgetError as exc:
        raise pytest.UsageError(str(exc)) from exc
    metafunc.parametrize("budget_metric", sorted(shape.budget), ids=sorted(shape.budget))
