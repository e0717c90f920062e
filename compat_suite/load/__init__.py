"""Load testing on locust: LLM latency metrics (TTFT, TPOT, ITL, E2E, goodput), load shapes, budgets.

`main(argv)` is `compat-suite load`; it never imports locust in this process (locust patches the
standard library), it runs it in child processes. load.json's format: compat_suite/load/README.md.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import argparse

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    from ._runner import build_parser as _build

    return _build()


def main(argv: Sequence[str] | None = None) -> int:
    """Run `compat-suite load` with `argv` (default: sys.argv[1:]); return the exit code."""
    from ._runner import main as _main

    return _main(argv)
