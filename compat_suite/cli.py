"""`compat-suite run | serve | load | report | faults`."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

from ._paths import REPORTS_DIR, SUITES_DIR
from .plugin import GOVERNANCE_KEY_OPTIONS

# The suites `compat-suite run` runs (performance needs a budget and runs with `compat-suite load`).
RUN_SUITES = ("conformance", "streaming", "errors", "clients", "governance")
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2


class UsageError(Exception):
    """A mistake in how the command was called: a clear message, exit code 2, no traceback."""


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """The options that name a target, shared by `run` and `load` (same names as the pytest plugin)."""
    parser.add_argument("--base-url", help="base URL of the target (default: the embedded reference server)")
    parser.add_argument("--api-key", help="API key (default: $OPENAI_API_KEY or $COMPAT_API_KEY)")
    parser.add_argument("--model", help="chat/completions model name")
    parser.add_argument("--embedding-model", help="embeddings model name")
    parser.add_argument("--profile", default="openai", help="provider profile (default: openai)")
    parser.add_argument("--header", action="append", default=[], metavar="'NAME: VALUE'", help="extra header")
    parser.add_argument(
        "--report-dir", type=Path, help="where results land (default: reports/runs/<UTC time>/)"
    )


def default_report_dir() -> Path:
    return REPORTS_DIR / "runs" / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def check_base_url(url: str, timeout_s: float = 10.0) -> None:
    """Raise UsageError unless `url` is an http(s) URL that answers at all."""
    import httpx

    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--base-url must be an http(s) URL, got {url!r}")
    try:
        httpx.get(url.rstrip("/") + "/models", timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise UsageError(f"target {url} is unreachable: {type(exc).__name__}: {exc}") from None


def publish_latest(run_dir: Path) -> None:
    latest = REPORTS_DIR / "latest"
    if run_dir.resolve() == latest.resolve():
        return
    if latest.exists():
        shutil.rmtree(latest)
    shutil.copytree(run_dir, latest)


# -- run ---------------------------------------------------------------------------------------
def build_run_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the conformance suites and write results.json, junit.xml, index.html")
    add_target_options(p)
    p.add_argument("--timeout", type=float, default=60.0, help="seconds per exchange (default 60)")
    p.add_argument("--max-requests", type=int, help="cap on requests sent to the target")
    p.add_argument("--embedded-engine", choices=("transformers", "scripted"), default="transformers")
    p.add_argument("--embedded-fault", action="append", default=[], metavar="ID")
    p.add_argument("--embedded-persona", metavar="NAME", help="the embedded server stands in for a provider")
    governance = p.add_argument_group("governance", "keys in the states the governance rows need")
    governance.add_argument("--admin-key", help="the target's admin key (a reference server's /admin API)")
    governance.add_argument("--admin-url", help="where /admin lives (default: the base URL's origin)")
    for state, help_text in GOVERNANCE_KEY_OPTIONS.items():
        governance.add_argument(f"--{state}", metavar="KEY", help=help_text)
    governance.add_argument("--loading-model", metavar="NAME", help="a model that is cold starting")
    p.add_argument("--suite", action="append", choices=RUN_SUITES, help="run only these suites (repeatable)")
    p.add_argument("-k", dest="keyword", help="pytest -k expression")
    p.add_argument("-q", "--quiet", action="store_true")
    p.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    import pytest

    from .profiles import ProfileError, load_profile

    try:
        load_profile(args.profile)
    except ProfileError as exc:
        raise UsageError(str(exc)) from None
    if args.base_url:
        check_base_url(args.base_url)
    run_dir: Path = args.report_dir or default_report_dir()
    run_dir.mkdir(parents=True, exist_ok=True)
    suites = [SUITES_DIR / name for name in (args.suite or RUN_SUITES) if (SUITES_DIR / name).is_dir()]
    pytest_args = [*map(str, suites), "-p", "no:cacheprovider", "-p", "no:locust", "--profile", args.profile]
    pytest_args += ["--report-dir", str(run_dir), "--timeout", str(args.timeout)]
    passed_through = (
        "base_url",
        "api_key",
        "model",
        "embedding_model",
        "max_requests",
        "admin_key",
        "admin_url",
    )
    passed_through += ("loading_model", *(state.replace("-", "_") for state in GOVERNANCE_KEY_OPTIONS))
    for flag in passed_through:
        value = getattr(args, flag)
        if value is not None:
            pytest_args += ["--" + flag.replace("_", "-"), str(value)]
    for header in args.header:
        pytest_args += ["--header", header]
    if not args.base_url:
        pytest_args += ["--embedded-engine", args.embedded_engine]
        if args.embedded_persona:
            pytest_args += ["--embedded-persona", args.embedded_persona]
        for fault_id in args.embedded_fault:
            pytest_args += ["--embedded-fault", fault_id]
    if args.keyword:
        pytest_args += ["-k", args.keyword]
    pytest_args += ["-q"] if args.quiet else ["-rfEs"]
    rc = pytest.main(pytest_args)
    results_path = run_dir / "results.json"
    if rc in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR, pytest.ExitCode.INTERRUPTED):
        print(f"compat-suite run: pytest stopped (exit {int(rc)}); see the output above", file=sys.stderr)
        return EXIT_USAGE
    if rc == pytest.ExitCode.NO_TESTS_COLLECTED or not results_path.exists():
        print("compat-suite run: no checks ran (nothing collected or selected)", file=sys.stderr)
        return EXIT_USAGE
    return finish_run(run_dir, tests_failed=rc == pytest.ExitCode.TESTS_FAILED)


def finish_run(run_dir: Path, *, tests_failed: bool = False) -> int:
    """Build the report for a run directory, publish it as latest, and return the exit code."""
    import json

    from reports import build_report

    index = build_report(run_dir)
    publish_latest(run_dir)
    summary = json.loads((run_dir / "results.json").read_text(encoding="utf-8"))["summary"]
    counts = ", ".join(f"{summary.get(v, 0)} {v}" for v in ("pass", "fail", "deviation", "drift", "skip"))
    print(f"compat-suite: {summary['verdict'].upper()} ({counts})")
    print(f"report: {index}")
    if summary["verdict"] != "pass":
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


# -- serve / load / report / faults: each delegates to its own module ---------------------------
def cmd_serve(argv: list[str]) -> int:
    from reference_server.serve import main as serve_main

    return serve_main(argv)


def cmd_load(argv: list[str]) -> int:
    from .load import main as load_main

    return load_main(argv)


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


DELEGATED = {"serve": cmd_serve, "load": cmd_load, "report": cmd_report, "faults": cmd_faults}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in DELEGATED:
        try:
            return DELEGATED[argv[0]](argv[1:])
        except UsageError as exc:
            print(f"compat-suite {argv[0]}: {exc}", file=sys.stderr)
            return EXIT_USAGE
    parser = argparse.ArgumentParser(
        prog="compat-suite",
        description="Conformance and load testing for OpenAI-compatible APIs.",
        epilog="Also: serve (reference server), load (locust load test), report (HTML, compare, diff), faults.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{run,serve,load,report,faults}")
    build_run_parser(sub)
    for name, help_text in (
        ("serve", "start the reference server"),
        ("load", "run a load test"),
        ("report", "build, compare or diff reports"),
        ("faults", "print the fault-to-check table"),
    ):
        sub.add_parser(name, help=help_text, add_help=False)
    args = parser.parse_args(argv)
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
