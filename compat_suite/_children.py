"""Child processes the suite starts and stops (the embedded reference server, locust)."""

from __future__ import annotations

import signal
import subprocess
from collections.abc import Mapping


def spawn_with_output(cmd: list[str], env: Mapping[str, str]) -> subprocess.Popen[str]:
    """Start `cmd` with its stdout and stderr merged into one pipe, read as text (bad bytes replaced)."""
    return subprocess.Popen(
        cmd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )


def stop_process(proc: subprocess.Popen, sig: signal.Signals) -> None:
    """Ask a running `proc` to end with `sig`; kill it if it has not ended within 15 s."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)
