"""`compat-suite run` against every hostile mode of tests/hostile_server.py: time, memory, report.

    python benchmarks/bench_hostile_targets.py [--suites clients] [--modes huge,endless] [--timeout 2]

For each mode (an endless, huge, dripping, resetting, garbage... target), runs `compat-suite run`
(the suites named, default: all of them) with `--timeout`, and prints its exit code, wall time,
the peak resident memory of the run's whole process tree (the suite, pytest and the Node SDK's
driver), whether the report was written, and how many findings failed.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))
KEY = "sk-bench-hostile-0123456789"


def run_mode(base_url: str, suites: list[str], timeout: float) -> dict:
    with tempfile.TemporaryDirectory() as report_dir:
        command = [sys.executable, "-m", "compat_suite", "run", "--base-url", base_url, "--model", "m",
                   "--embedding-model", "e", "--timeout", str(timeout), "--report-dir", report_dir, "-q"]  # fmt: skip
        for suite in suites:
            command += ["--suite", suite]
        env = {**os.environ, "COMPAT_API_KEY": KEY, "OPENAI_API_KEY": ""}
        started = time.monotonic()
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        parent, peak = psutil.Process(process.pid), 0
        while process.poll() is None:
            try:
                peak = max(peak, sum(p.memory_info().rss for p in [parent, *parent.children(recursive=True)]))
            except psutil.Error:
                pass
            time.sleep(0.1)
        results = Path(report_dir) / "results.json"
        failed = 0
        if results.is_file():
            failed = sum(f["verdict"] == "fail" for f in json.loads(results.read_text())["findings"])
        return {
            "rc": process.returncode,
            "seconds": time.monotonic() - started,
            "peak_mb": peak / 2**20,
            "report": (Path(report_dir) / "index.html").is_file(),
            "failed": failed,
        }


def main() -> int:
    from hostile_server import MODES, HostileServer

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--suites", default="", help="comma-separated suites (default: every suite)")
    parser.add_argument("--modes", default=",".join(sorted(MODES)))
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args()
    suites = [s for s in args.suites.split(",") if s]
    print(
        f"compat-suite run --suite {','.join(suites) or 'all'} --timeout {args.timeout:g} against each mode:"
    )
    with HostileServer() as hostile:
        for mode in args.modes.split(","):
            row = run_mode(hostile.base_url(mode), suites, args.timeout)
            print(f"  {mode:15s} exit {row['rc']}  {row['seconds']:6.1f} s  peak {row['peak_mb']:4.0f} MB  "
                  f"report {'yes' if row['report'] else 'NO'}  {row['failed']} failed findings", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
