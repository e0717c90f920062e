"""The pytest plugin (entry point `compat_suite`): the suite's options, namespaced, and nothing else.

Every option of schemas/options.yaml for pytest is `--compat-NAME`, the ini key `compat_NAME`, the
environment variable `COMPAT_NAME`, or the key NAME of `[tool.compat-suite]` in the rootdir's
pyproject.toml, so no flag another plugin owns (pytest-timeout's `--timeout`, pytest-base-url's
`--base-url`) is ever taken. This module adds options only: the fixtures that start servers and send
requests live in `compat_suite.fixtures`, which only the suites' conftest imports, so a pytest run
that collects no suite gets nothing else from us (no fixture, no hook, no import of torch or locust).

    pytest --pyargs suites --compat-base-url https://api.example.com/v1 --compat-model M
"""

from __future__ import annotations

import os
from typing import Any

import pytest

from schemas import options_for, project_table, resolved


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("compat-suite", "OpenAI-compatible conformance (compat-suite)")
    for option in options_for("pytest"):
        group.addoption(
            option.flag("pytest"),
            dest="compat_" + option.dest,
            default=None,
            **option.argparse_kwargs(),
            **({} if option.is_flag else {"metavar": option.metavar}),
            help=f"{option.help} [env {option.env_names[0]}, ini {option.ini_key}]",
        )
        parser.addini(option.ini_key, help=f"compat-suite: {option.help}")


def compat_options(config: pytest.Config) -> dict[str, Any]:
    """Every option's value: command line, else environment, else ini key, else
    `[tool.compat-suite]` in the rootdir's pyproject.toml, else its default."""
    try:
        project = project_table(config.rootpath)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None
    values = {}
    for option in options_for("pytest"):
        ini = config.getini(option.ini_key)
        try:
            values[option.dest] = resolved(
                option, config.getoption("compat_" + option.dest), os.environ, ini or None, project
            )
        except ValueError as exc:
            raise pytest.UsageError(f"{option.flag('pytest')}: {exc}") from None
    return values
