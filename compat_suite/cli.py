"""`compat-suite run | serve | load | report | faults`: the command line, an entry point over the library.

The options every command shares are declared once, in schemas/options.yaml; each may also come from
the environment (COMPAT_BASE_URL, ...) or from `[tool.compat-suite]` in ./pyproject.toml.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from schemas import VERDICTS, ProfileError, add_arguments, load_profile, options_for, project_table

# The suites `compat-suite run` runs (performance needs a budget and runs with `compat-suite load`).
RUN_SUITES = ("conformance", "streaming", "tools", "responses", "errors", "clients", "governance")
REPORTS_DIR = Path("compat-reports")  # in the current folder, wherever the package is installed
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
EXIT_CODES = """exit codes of `compat-suite run`:
  0  every check that ran passed, warned (a SHOULD) or is a documented deviation
  1  a MUST check failed, a documented deviation drifted, a scenario broke, nothing was verified,
     or (with --strict) a SHOULD check warned
  2  usage error: a bad option, profile or URL, an unreachable target, or pytest could not run"""


class UsageError(Exception):
    """A mistake in how the command was called: a clear message, exit code 2, no traceback."""


def suites_dir() -> Path:
    """Where the installed `suites` package lives (found, not imported: the suites import this package)."""
    spec = importlib.util.find_spec("suites")
    if spec is None or not spec.submodule_search_locations:
        raise UsageError("the `suites` package is not installed beside compat_suite; reinstall compat-suite")
    return Path(next(iter(spec.submodule_search_locations)))


def default_report_dir() -> Path:
    return REPORTS_DIR / "runs" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def publish_latest(run_dir: Path) -> None:
    """Copy a run directory to compat-reports/latest/ (beside the default run directories)."""
    latest = REPORTS_DIR / "latest"
    if run_dir.resolve() == latest.resolve():
        return
    if latest.exists():
        shutil.rmtree(latest)
    shutil.copytree(run_dir, latest)


def _project() -> dict[str, Any]:
    try:
        return project_table(Path.cwd())
    except ValueError as exc:
        raise UsageError(str(exc)) from None


def _check_target(args: argparse.Namespace) -> None:
    """The options that name a target, checked before anything starts: a profile that loads, a base
    URL where something accepts connections (a target that then misbehaves is run, and reported)."""
    from .target import TargetUnreachable, probe

    try:
        load_profile(args.profile)
    except ProfileError as exc:
        raise UsageError(str(exc)) from None
    if args.base_url:
        try:
            trouble = probe(args.base_url, timeout_s=min(float(args.timeout), 30.0))
        except TargetUnreachable as exc:
            raise UsageError(str(exc)) from None
        if trouble:  # it connects: the run goes on, and its checks say what is wrong
            print(f"compat-suite run: warning: {trouble}", file=sys.stderr)


# -- run ---------------------------------------------------------------------------------------
def build_run_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="run the conformance suites and write results.json, junit.xml, index.html",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(p, "run", project=_project())
    p.add_argument("--suite", action="append", choices=RUN_SUITES, help="run only these suites (repeatable)")
    p.add_argument("-k", dest="keyword", help="pytest -k expression")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_run)


class _GivenOptions:
    """Hands `compat-suite run`'s resolved options to the pytest plugin in-process: no key, header or
    admin secret is written into pytest's arguments."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.values = {o.dest: getattr(args, o.dest) for o in options_for("run")}

    def pytest_configure(self, config: Any) -> None:
        for dest, value in self.values.items():
            setattr(config.option, "compat_" + dest, value)


def cmd_run(args: argparse.Namespace) -> int:
    import pytest

    _check_target(args)
    suites_root = suites_dir()
    run_dir: Path = args.report_dir or default_report_dir()
    run_dir.mkdir(parents=True, exist_ok=True)
    args.report_dir = run_dir
    suites = [suites_root / name for name in (args.suite or RUN_SUITES)]
    # Our own rootdir and an empty ini: the current folder's pytest settings and conftest are the
    # user's project's, not this run's.
    pytest_args = [*map(str, suites), "--rootdir", str(suites_root.parent), "-c", os.devnull]
    pytest_args += ["-p", "no:cacheprovider", "-p", "no:locust"]
    if os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        pytest_args += ["-p", "compat_suite.plugin"]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    pytest_args += ["-q"] if args.quiet else ["-rfEs"]
    rc = pytest.main(pytest_args, plugins=[_GivenOptions(args)])
    results_path = run_dir / "results.json"
    if rc in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.INTERRUPTED):
        print(f"compat-suite run: pytest stopped (exit {int(rc)}); see the output above", file=sys.stderr)
        return EXIT_USAGE
    if rc == pytest.ExitCode.NO_TESTS_COLLECTED or not results_path.exists():
        print("compat-suite run: no checks ran (nothing collected or selected)", file=sys.stderr)
        return EXIT_USAGE
    return finish_run(run_dir, tests_failed=rc == pytest.ExitCode.TESTS_FAILED, strict=bool(args.strict))


def summary_line(summary: dict[str, Any]) -> str:
    """The run in one line: every verdict counted (skip, blocked and inconclusive apart from pass and
    fail), the scenario errors, and the requests sent."""
    counts = ", ".join(f"{summary.get(v, 0)} {v}" for v in VERDICTS)
    errors, requests = summary.get("errors", 0), summary.get("requests", 0)
    return f"compat-suite: {summary['verdict'].upper()} ({counts}; {errors} scenario errors; {requests} requests)"


def finish_run(run_dir: Path, *, tests_failed: bool = False, strict: bool = False) -> int:
    """Build the report for a run directory, publish it as latest, and return the exit code
    (EXIT_CODES says what each means)."""
    import json

    from reports import build_report

    index = build_report(run_dir)
    publish_latest(run_dir)
    results = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))
    summary = results["summary"]
    discovery = (results.get("target") or {}).get("discovery")
    if discovery:
        print(discovery["summary"])
    print(summary_line(summary))
    print(f"report: {index}")
    if summary["verdict"] == "fail" or (strict and summary["verdict"] == "warn"):
        return EXIT_FAIL
    if not any(summary.get(v, 0) for v in ("pass", "deviation")):
        print("compat-suite run: no check passed or deviated: nothing was verified", file=sys.stderr)
        return EXIT_FAIL
    if tests_failed:
        # A scenario broke before its checks could judge (an error in the suite, not a finding).
        print(
            "compat-suite run: some tests errored outside any check; see the pytest output", file=sys.stderr
        )
        return EXIT_FAIL
    return EXIT_OK


# -- load --------------------------------------------------------------------------------------
def build_load_parser(sub: argparse._SubParsersAction) -> None:
    from . import load

    p = sub.add_parser(
        "load",
        help="run a load test",
        description="Load-test an OpenAI-compatible endpoint with locust; write load.json (TTFT, TPOT, "
        "ITL, E2E, throughput, budget verdicts) and the HTML report.",
    )
    add_arguments(p, "load", project=_project())
    load.add_arguments(p)
    p.set_defaults(func=cmd_load)


def cmd_load(args: argparse.Namespace) -> int:
    from reports import RunDirError, build_report

    from . import load

    run_dir: Path = args.report_dir or default_report_dir()
    rc = load.run(args, run_dir=run_dir, locustfile=suites_dir() / "load" / "locustfile.py")
    if (run_dir / "load.json").is_file():
        try:
            print(f"report: {build_report(run_dir)}")
        except RunDirError as exc:  # the report is a view; load.json is the result
            print(f"compat-suite load: no HTML report ({exc})", file=sys.stderr)
    return rc


# -- serve / report / faults: each delegates to its own module ---------------------------------
def cmd_serve(argv: list[str]) -> int:
    from reference_server.serve import main as serve_main

    return serve_main(argv)


def cmd_report(argv: list[str]) -> int:
    from reports import main as report_main

    return report_main(argv)


def cmd_faults(argv: list[str]) -> int:
    from reference_server.faults import table

    parser = argparse.ArgumentParser(prog="compat-suite faults", description="the fault-to-check table")
    parser.parse_args(argv)
    rows = table()
    width = max((len(r[0]) for r in rows), default=5)
    cwidth = max((len(r[1]) for r in rows), default=5)
    print(f"{'fault':<{width}}  {'check':<{cwidth}}  description")
    for fault_id, check_id, description in rows:
        print(f"{fault_id:<{width}}  {check_id:<{cwidth}}  {description}")
    return EXIT_OK


DELEGATED = {"serve": cmd_serve, "report": cmd_report, "faults": cmd_faults}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATED:
        return DELEGATED[argv[0]](argv[1:])
    parser = argparse.ArgumentParser(
        prog="compat-suite",
        description="Conformance and load testing for OpenAI-compatible APIs.",
        epilog="Also: serve (reference server), report (HTML, compare, diff), faults (fault-to-check table).\n\n"
        + EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", metavar="{run,load,serve,report,faults}")
    try:
        build_run_parser(sub)
        build_load_parser(sub)
    except (UsageError, ValueError) as exc:  # ValueError: an environment variable's value does not convert
        print(f"compat-suite: {exc}", file=sys.stderr)
        return EXIT_USAGE
    for name, help_text in (
        ("serve", "start the reference server"),
        ("report", "build, compare or diff reports"),
        ("faults", "print the fault-to-check table"),
    ):
        sub.add_parser(name, help=help_text, add_help=False)
    try:
        args = parser.parse_args(argv)
    except ValueError as exc:  # a value from the environment that does not convert
        print(f"compat-suite: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    try:
        return args.func(args)
    except UsageError as exc:
        print(f"compat-suite {args.command}: {exc}", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    raise SystemExit(main())
