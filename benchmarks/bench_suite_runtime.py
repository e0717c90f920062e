"""Wall time of a full `compat-suite run` against the embedded reference server, per engine.

Targets (issue 3): at most 60 s against the scripted engine and at most 5 minutes against the
transformers engine on the CPU. Prints the measured seconds and the ratio to each target; asserts
nothing (a benchmark, not a timed test).

    python benchmarks/bench_suite_runtime.py [--engine scripted --engine transformers] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = {"scripted": 60.0, "transformers": 300.0}
REPO = Path(__file__).resolve().parent.parent


def run_once(engine: str) -> tuple[float, dict]:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [
            sys.executable,
            "-m",
            "compat_suite",
            "run",
            "--engine",
            engine,
            "--report-dir",
            tmp,
            "-q",
        ]
        started = time.perf_counter()
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True)
        elapsed = time.perf_counter() - started
        results = Path(tmp) / "results.json"
        summary = (
            json.loads(results.read_text())["summary"] if results.exists() else {"exit": proc.returncode}
        )
        return elapsed, summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", action="append", choices=sorted(TARGET_S))
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    for engine in args.engine or sorted(TARGET_S):
        for _ in range(args.repeat):
            elapsed, summary = run_once(engine)
            counts = ", ".join(f"{k} {v}" for k, v in summary.items() if v)
            print(
                f"{engine:>12}: full run {elapsed:6.1f} s  (target {TARGET_S[engine]:.0f} s: "
                f"{elapsed / TARGET_S[engine]:.2f}x of budget)  [{counts}]",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
