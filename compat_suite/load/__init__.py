"""Load testing on locust: LLM latency metrics (TTFT, TPOT, ITL, E2E, goodput), load shapes, budgets.

`compat-suite load` parses its options (the shared ones of schemas/options.yaml, and
`add_arguments`'s), then calls `run`. This process never imports locust (locust patches the standard
library): it runs locust in child processes. load.json's format: compat_suite/load/README.md.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse
    from pathlib import Path

__all__ = ["add_arguments", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the options of `compat-suite load` beyond the shared target options."""
    from ._options import add_arguments as _add

    _add(parser)


def run(args: argparse.Namespace, *, run_dir: Path, locustfile: Path) -> int:
    """Run the load `args` describe against their target; write load.json into `run_dir`; the exit code."""
    try:
        from ._runner import run as _run
    except ModuleNotFoundError as exc:  # the [load] extra is not installed
        print(
            f"compat-suite load: {exc.name} is missing: install the load extra (pip install 'compat-suite[load]')",
            file=sys.stderr,
        )
        return 2
    return _run(args, run_dir=run_dir, locustfile=locustfile)
