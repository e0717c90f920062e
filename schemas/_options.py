"""The options every entry point shares (options.yaml), and how each front end spells and reads them.

One declaration serves the command line (`--NAME`), pytest (`--compat-NAME`, ini `compat_NAME`), the
environment (`COMPAT_NAME`, then the option's own `env`) and pyproject.toml (`[tool.compat-suite]`).
A value is taken from the first source that sets it: command line, environment, ini key, project table.
"""

from __future__ import annotations

import argparse
import os
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

OPTIONS_FILE = Path(__file__).with_name("options.yaml")
COMMANDS = ("run", "load", "serve", "pytest")
PROJECT_TABLE = "compat-suite"
PYTEST_PREFIX = "compat-"


def _flag(text: str) -> bool:
    """A flag's value as the environment or a file writes it."""
    lowered = str(text).strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(f"{text!r} is not a yes/no value (1, true, yes, on / 0, false, no, off)")


_CONVERT: dict[str, Callable[[str], Any]] = {
    "str": str,
    "int": int,
    "float": float,
    "path": Path,
    "bool": _flag,
}
_GROUP_TITLES = {
    "target": "target",
    "embedded": "embedded reference server (used when no base URL is given)",
    "governance": "governance: keys and states the error-matrix rows need",
    "load": "load and budgets",
}


@dataclass(frozen=True)
class Option:
    name: str
    help: str
    commands: tuple[str, ...]
    type: str = "str"
    default: Any = None
    multiple: bool = False
    separator: str = ","
    choices: tuple[str, ...] = ()
    metavar: str | None = None
    env: tuple[str, ...] = ()
    secret: bool = False
    group: str = "target"

    @property
    def dest(self) -> str:
        """The attribute name: `base_url` for `base-url`."""
        return self.name.replace("-", "_")

    @property
    def is_flag(self) -> bool:
        """A yes/no option: `--NAME` alone on a command line sets it."""
        return self.type == "bool"

    def argparse_kwargs(self) -> dict[str, Any]:
        """How argparse (and pytest's parser) takes it: a flag takes no value."""
        if self.is_flag:
            return {"action": "store_const", "const": True}
        return {"type": self.convert, "action": "append" if self.multiple else "store"}

    @property
    def env_names(self) -> tuple[str, ...]:
        return ("COMPAT_" + self.dest.upper(), *self.env)

    @property
    def ini_key(self) -> str:
        return "compat_" + self.dest

    def flag(self, command: str) -> str:
        return f"--{PYTEST_PREFIX if command == 'pytest' else ''}{self.name}"

    def convert(self, text: str) -> Any:
        value = _CONVERT[self.type](text)
        if self.choices and value not in self.choices:
            raise ValueError(f"{self.name}: {value!r} is not one of {', '.join(self.choices)}")
        return value

    def parse(self, text: str) -> Any:
        """A value as the environment or an ini file writes it (several, for a repeatable option)."""
        if not self.multiple:
            return self.convert(text.strip())
        return [self.convert(part.strip()) for part in text.split(self.separator) if part.strip()]

    def from_environment(self, environ: Mapping[str, str]) -> Any:
        """The value the environment sets, or None."""
        for name in self.env_names:
            text = environ.get(name)
            if text:
                return self.parse(text)
        return None

    def from_table(self, table: Mapping[str, Any]) -> Any:
        """The value `[tool.compat-suite]` sets (its keys may use dashes or underscores), or None."""
        value = table.get(self.name, table.get(self.dest))
        if value is None:
            return None
        if self.multiple:
            return [self.convert(str(v)) for v in (value if isinstance(value, list) else [value])]
        return self.convert(str(value))


@cache
def options() -> tuple[Option, ...]:
    """Every declared option, as options.yaml has them (without per-command changes)."""
    data = yaml.safe_load(OPTIONS_FILE.read_text(encoding="utf-8"))
    out = []
    for name, entry in data.items():
        fields = {k: v for k, v in entry.items() if k != "per_command"}
        for key in ("commands", "choices", "env"):
            if key in fields:
                fields[key] = tuple(fields[key])
        unknown = set(fields["commands"]) - set(COMMANDS)
        if unknown:
            raise ValueError(f"{OPTIONS_FILE.name}: {name}: unknown commands {sorted(unknown)}")
        out.append(Option(name=name, **fields))
    return tuple(out)


@cache
def options_for(command: str) -> tuple[Option, ...]:
    """The options of one command, with that command's own help, repeatability and environment."""
    if command not in COMMANDS:
        raise ValueError(f"unknown command {command!r} (known: {', '.join(COMMANDS)})")
    per_command = yaml.safe_load(OPTIONS_FILE.read_text(encoding="utf-8"))
    out = []
    for option in options():
        if command not in option.commands:
            continue
        changes = dict((per_command[option.name].get("per_command") or {}).get(command) or {})
        if "env" in changes:
            changes["env"] = tuple(changes["env"])
        out.append(replace(option, **changes))
    return tuple(out)


def add_arguments(
    parser: argparse.ArgumentParser,
    command: str,
    *,
    project: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> None:
    """Add `command`'s options to an argparse parser; the environment and `project` (the pyproject
    table) give the defaults, so the command line wins over both. `title`: one group for them all.
    ValueError names the variable or key whose value does not convert."""
    groups: dict[str, Any] = {}
    for option in options_for(command):
        group = title or _GROUP_TITLES.get(option.group, option.group)
        if group not in groups:
            groups[group] = parser.add_argument_group(group)
        try:
            default = resolved(option, None, os.environ, None, project or {})
        except ValueError as exc:
            where = " or ".join([*option.env_names, f"[tool.{PROJECT_TABLE}] {option.name}"])
            raise ValueError(f"{where}: {exc}") from None
        metavar = option.metavar or (option.choices and "{" + ",".join(option.choices) + "}") or None
        groups[group].add_argument(
            option.flag(command),
            dest=option.dest,
            default=default,
            # `convert` checks choices, so that the environment's values are checked too
            **option.argparse_kwargs(),
            **({} if option.is_flag else {"metavar": metavar}),
            help=option.help,
        )


def resolved(
    option: Option,
    given: Any,
    environ: Mapping[str, str],
    ini_text: str | None,
    project: Mapping[str, Any],
) -> Any:
    """The option's value: the command line's (`given`), else the environment's, else the ini key's,
    else the project table's, else its default (a fresh list for a repeatable option)."""
    for value in (
        given if given not in (None, []) else None,
        option.from_environment(environ),
        option.parse(ini_text) if ini_text else None,
        option.from_table(project),
    ):
        if value is not None:
            return value
    return [] if option.multiple else option.default


def project_table(directory: Path) -> dict[str, Any]:
    """`[tool.compat-suite]` of `directory`/pyproject.toml ({} when there is none)."""
    path = directory / "pyproject.toml"
    if not path.is_file():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: not valid TOML: {exc}") from None
    table = data.get("tool", {}).get(PROJECT_TABLE, {})
    return table if isinstance(table, dict) else {}


def secret_values(values: Mapping[str, Any], command: str) -> tuple[str, ...]:
    """The secret values among resolved options: a header's value (not its name), unless
    `--header-public NAME` says that header's value may be shown."""
    public = {name.strip().lower() for name in values.get("header_public") or []}
    out: list[str] = []
    for option in options_for(command):
        if not option.secret:
            continue
        value = values.get(option.dest)
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, str) or not item:
                continue
            if option.name == "header":
                name, _, item = item.partition(":")
                if name.strip().lower() in public:
                    continue
            out.append(item.strip())
    return tuple(s for s in out if s)


def parse_headers(values: Sequence[str]) -> dict[str, str]:
    """`['Name: value', ...]` as a dict; ValueError for an entry without a name or a colon."""
    headers: dict[str, str] = {}
    for value in values:
        name, sep, rest = value.partition(":")
        if not sep or not name.strip():
            raise ValueError(
                f"a header wants 'NAME: VALUE', got one without {'a name' if sep else 'a colon'}"
            )
        headers[name.strip()] = rest.strip()
    return headers
