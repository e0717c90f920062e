"""The embedded default target: the reference server in a child process on a free loopback port."""

from __future__ import annotations

import os
import queue
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from ._paths import REPO_ROOT

_READY = re.compile(r"ready at (http://\S+)")
DEFAULT_START_TIMEOUT_S = 600.0  # the transformers engine loads two models on a slow CPU


class EmbeddedServerError(RuntimeError):
    """The reference server did not start; carries its last output lines."""


@dataclass
class EmbeddedServer:
    """`python -m reference_server` as a child process; `base_url` is set once it answers."""

    engine: str = "transformers"
    faults: Sequence[str] = ()
    extra_args: Sequence[str] = ()
    api_key: str = field(default_factory=lambda: "sk-embedded-" + secrets.token_urlsafe(18))
    start_timeout_s: float = DEFAULT_START_TIMEOUT_S
    base_url: str | None = None
    _proc: subprocess.Popen | None = None
    _lines: list[str] = field(default_factory=list)

    def start(self) -> EmbeddedServer:
        cmd = [sys.executable, "-m", "reference_server", "--host", "127.0.0.1", "--port", "0"]
        cmd += ["--engine", self.engine, "--api-key", self.api_key]
        for fault_id in self.faults:
            cmd += ["--fault", fault_id]
        cmd += list(self.extra_args)
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self._proc = subprocess.Popen(
            cmd,
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
        )
        lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._pump, args=(lines,), daemon=True).start()
        deadline = time.monotonic() + self.start_timeout_s
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                if self._proc.poll() is not None:
                    break
                continue
            if line is None:
                break
            match = _READY.search(line)
            if match:
                self.base_url = match.group(1).rstrip("/")
                return self
        self.stop()
        tail = "\n".join(self._lines[-20:])
        raise EmbeddedServerError(f"reference server ({self.engine}) did not become ready:\n{tail}")

    def _pump(self, lines: queue.Queue[str | None]) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            line = line.rstrip("\n")
            self._lines.append(line)
            del self._lines[:-200]
            lines.put(line)
        lines.put(None)

    @property
    def output(self) -> list[str]:
        return list(self._lines)

    def stop(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait(timeout=5)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
