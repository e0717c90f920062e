"""The options of `compat-suite load` beyond the shared ones (schemas/options.yaml): the load's shape.

Kept apart from the runner so that building the command line imports nothing of the load machinery.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ._client import KINDS

SCENARIOS = (*KINDS, "mix")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of `compat-suite load` beyond the shared ones (schemas/options.yaml)."""
    p = parser.add_argument_group("load shape")
    shape = p.add_mutually_exclusive_group()
    shape.add_argument("--users", type=int, help="closed loop: concurrent users")
    shape.add_argument("--rate", type=float, help="open loop: requests per second")
    shape.add_argument("--ramp", help="closed loop ramp: 'users:seconds,users:seconds,...'")
    shape.add_argument(
        "--sweep",
        help="open loop rates to run, e.g. '1,2,4,8', then bisect for the highest meeting the budget",
    )
    p.add_argument("--arrival", choices=("constant", "poisson"), default=None, help="open loop arrivals")
    p.add_argument("--duration", type=float, help="seconds of load (per sweep step)")
    p.add_argument("--scenario", choices=SCENARIOS, default=None, help="request kind, or the weighted mix")
    p.add_argument("--max-tokens", type=int, default=None, help="max_tokens per request (default 32)")
    p.add_argument("--max-inflight", type=int, default=None, help="open loop: cap on requests in flight")
    p.add_argument(
        "--lag-threshold-ms",
        type=float,
        default=None,
        help="open loop: p99 schedule lag past which the run is invalid (default 50)",
    )
    p.add_argument("--drain-s", type=float, default=5.0, help="open loop: time for the last requests to end")
    p.add_argument(
        "--dataset",
        type=Path,
        help="prompts to send: JSON lines of {prompt}, or a ShareGPT-format file (default: the built-in set)",
    )
    p.add_argument(
        "--turns",
        default=None,
        help="first (default): each conversation's first user turn; all: every turn, the history growing "
        "with the target's answers; N: at most N turns (a prompt file: N prompts per conversation)",
    )
    p.add_argument(
        "--warmup",
        type=float,
        default=None,
        help="seconds of warm-up left out of the percentiles (default: each closed-loop user's first request)",
    )
    p.add_argument(
        "--tokenizer",
        type=Path,
        help="the target's tokenizer.json (or its folder): per-token ITL where events carry several tokens",
    )
    p.add_argument(
        "--rate-tolerance",
        type=float,
        default=0.05,
        help="open loop: the achieved rate may fall this far below the configured one (default 0.05)",
    )
    p.add_argument(
        "--judge-mb",
        type=float,
        default=None,
        help="answers kept per load process for the conformance checks, in MiB (default 64; past it a "
        "uniform sample is judged; 0 judges none)",
    )
    p.add_argument(
        "--bisect",
        type=int,
        default=3,
        help="sweep: bisection steps between the highest passing and the next failing rate (default 3)",
    )
    p.add_argument(
        "--no-calibration",
        action="store_true",
        help="skip measuring the client's own overhead at the start of the run",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of Poisson arrivals and prompt order")
    p.add_argument(
        "--calibrate",
        action="store_true",
        help="measure the client's own overhead against an in-process instant SSE server",
    )
    p.add_argument("--from-raw", type=Path, help="build load.json from the raw file a hand-run master wrote")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress line")
