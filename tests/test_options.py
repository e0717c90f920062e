"""The one declaration of options (schemas/options.yaml) and how each entry point reads it."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from reference_server.engines import ENGINE_NAMES
from reference_server.serve import build_parser as serve_parser
from schemas import Option, add_arguments, options, options_for, parse_headers, resolved, secret_values

BASE_URL = next(o for o in options() if o.name == "base-url")
HEADER = next(o for o in options() if o.name == "header")


def test_every_option_has_one_name_per_front_end() -> None:
    names = [o.name for o in options()]
    assert len(names) == len(set(names))
    for option in options():
        assert option.flag("pytest") == f"--compat-{option.name}"
        assert option.ini_key == "compat_" + option.name.replace("-", "_")
        assert option.env_names[0] == "COMPAT_" + option.name.replace("-", "_").upper()


def test_the_engine_choices_are_the_servers_engines() -> None:
    engine = next(o for o in options() if o.name == "engine")
    assert set(engine.choices) == set(ENGINE_NAMES)


def test_the_server_shares_the_options_it_has_in_common_with_run() -> None:
    """`compat-suite serve` and `compat-suite run` spell the engine, persona, faults, models and keys alike."""
    shared = {o.name for o in options_for("serve")} & {o.name for o in options_for("run")}
    assert {"engine", "persona", "fault", "model", "embedding-model", "api-key", "admin-key"} <= shared
    args = serve_parser().parse_args(["--engine", "scripted", "--model", "m", "--fault", "chat-id-missing"])
    assert (args.engine, args.model, args.fault) == ("scripted", "m", ["chat-id-missing"])


@pytest.mark.parametrize(
    ("given", "env", "ini", "table", "expected"),
    [
        (
            "http://cli",
            {"COMPAT_BASE_URL": "http://env"},
            "http://ini",
            {"base-url": "http://t"},
            "http://cli",
        ),
        (None, {"COMPAT_BASE_URL": "http://env"}, "http://ini", {"base-url": "http://t"}, "http://env"),
        (None, {}, "http://ini", {"base_url": "http://t"}, "http://ini"),
        (None, {}, None, {"base_url": "http://t"}, "http://t"),
        (None, {"COMPAT_BASE_URL": ""}, None, {}, None),  # an empty variable is unset
    ],
)
def test_the_first_source_that_sets_a_value_wins(given, env, ini, table, expected) -> None:
    assert resolved(BASE_URL, given, env, ini, table) == expected


def test_a_repeatable_option_from_the_environment() -> None:
    env = {"COMPAT_HEADER": "X-One: 1\nX-Two: a:b"}
    assert parse_headers(resolved(HEADER, None, env, None, {})) == {"X-One": "1", "X-Two": "a:b"}
    assert resolved(HEADER, None, {}, None, {}) == []


def test_header_values_are_secrets_and_bad_headers_are_not_echoed() -> None:
    assert secret_values({"header": ["X-Api-Key: s3cret-value"], "api_key": "sk-x"}, "run") == (
        "sk-x",
        "s3cret-value",
    )
    with pytest.raises(ValueError) as caught:
        parse_headers(["s3cret-without-colon"])
    assert "s3cret" not in str(caught.value)


def test_the_command_line_reads_the_environment_and_the_project_table(monkeypatch) -> None:
    monkeypatch.setenv("COMPAT_MODEL", "from-env")
    parser = argparse.ArgumentParser()
    add_arguments(parser, "run", project={"profile": "karta", "model": "from-table", "timeout": 5})
    args = parser.parse_args([])
    assert (args.model, args.profile, args.timeout) == ("from-env", "karta", 5.0)
    assert parser.parse_args(["--model", "cli"]).model == "cli"


def test_a_bad_value_from_the_environment_names_its_variable(monkeypatch) -> None:
    monkeypatch.setenv("COMPAT_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="COMPAT_TIMEOUT"):
        add_arguments(argparse.ArgumentParser(), "run")


def test_pytest_reads_ini_keys_environment_and_project_table(tmp_path: Path) -> None:
    """The plugin's options come from pytest.ini's `compat_*` keys, COMPAT_* and [tool.compat-suite]."""
    (tmp_path / "pytest.ini").write_text("[pytest]\ncompat_model = from-ini\ncompat_timeout = 7\n")
    (tmp_path / "pyproject.toml").write_text('[tool.compat-suite]\nembedding-model = "from-table"\n')
    (tmp_path / "test_values.py").write_text(
        "from compat_suite.plugin import compat_options\n\n"
        "def test_values(request):\n"
        "    values = compat_options(request.config)\n"
        "    assert values['model'] == 'from-ini' and values['timeout'] == 7.0, values\n"
        "    assert values['embedding_model'] == 'from-table', values\n"
        "    assert values['profile'] == 'from-env', values\n"
        "    assert values['base_url'] == 'http://cli', values\n"
    )
    env = {"PATH": "/usr/bin:/bin", "COMPAT_PROFILE": "from-env"}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--compat-base-url", "http://cli"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def test_options_are_typed_dataclasses() -> None:
    assert all(isinstance(o, Option) and o.commands for o in options())
