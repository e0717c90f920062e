"""The performance suite: one test per budget metric of the chosen budget shape
(`--compat-budget`, default `default`; `--compat-budget-shape`, default its first)."""

from __future__ import annotations

import pytest

from compat_suite.fixtures import options
from schemas import BudgetError, load_budget

DEFAULT_BUDGET = "default"


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """One test per budget metric of the chosen shape, so a missed budget fails the test that names it."""
    if "budget_metric" not in metafunc.fixturenames:
        return
    opt = options(metafunc.config)
    try:
        shape = load_budget(opt["budget"] or DEFAULT_BUDGET).shape(opt["budget_shape"])
    except BudgetError as exc:
        raise pytest.UsageError(str(exc)) from exc
    metafunc.parametrize("budget_metric", sorted(shape.budget), ids=sorted(shape.budget))
