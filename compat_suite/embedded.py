"""The embedded default target: the reference server in a child process on a free loopback port.

With a `persona`, the server stands in for that provider (its paths, key format, shapes, statuses)
over a gateway on a temporary database, and the admin API makes the keys and states a run needs.
"""

from __future__ import annotations

import os
import queue
import re
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from schemas import ProfileError, load_profile, redact_text

from ._children import spawn_with_output, stop_process

KEYS_ENV = "COMPAT_SERVER_API_KEYS"  # the keys `compat-suite serve` accepts
ADMIN_KEY_ENV = "COMPAT_ADMIN_KEY"  # its admin key (the declared environment variable of --admin-key)
_READY = re.compile(r"ready at (http://\S+)")
# The model names each engine of the embedded server serves, (chat, embeddings).
EMBEDDED_MODELS = {
    "transformers": ("SmolLM2-135M-Instruct", "all-MiniLM-L6-v2"),
    "scripted": ("scripted-chat", "scripted-embed"),
}
DEFAULT_START_TIMEOUT_S = 600.0  # the transformers engine loads two models on a slow CPU


def _key_prefix(persona: str) -> str:
    """The key format the persona's server accepts: its profile's (ValueError for an unknown name)."""
    try:
        return load_profile(persona).key_prefix or ""
    except ProfileError as exc:
        raise ValueError(str(exc)) from None


class EmbeddedServerError(RuntimeError):
    """The reference server did not start; carries its last output lines."""


@dataclass
class EmbeddedServer:
    """`python -m reference_server` as a child process; `base_url` is set once it answers."""

    engine: str = "transformers"
    faults: Sequence[str] = ()
    extra_args: Sequence[str] = ()
    api_key: str = field(default_factory=lambda: "sk-embedded-" + secrets.token_urlsafe(18), repr=False)
    persona: str | None = None
    admin_key: str = field(default_factory=lambda: "adm_embedded_" + secrets.token_urlsafe(18), repr=False)
    start_timeout_s: float = DEFAULT_START_TIMEOUT_S
    base_url: str | None = None
    _proc: subprocess.Popen | None = None
    _lines: list[str] = field(default_factory=list)
    _state_dir: str | None = None

    def start(self) -> EmbeddedServer:
        cmd = [sys.executable, "-m", "reference_server", "--host", "127.0.0.1", "--port", "0"]
        if self.persona:
            prefix = _key_prefix(self.persona)
            if not self.api_key.startswith(prefix):
                self.api_key = prefix + "embedded_" + secrets.token_urlsafe(18)
            self._state_dir = tempfile.mkdtemp(prefix="compat-suite-persona-")
            cmd += ["--persona", self.persona]
            cmd += ["--gateway-db", os.path.join(self._state_dir, "gateway.db")]
        cmd += ["--engine", self.engine]
        for fault_id in self.faults:
            cmd += ["--fault", fault_id]
        cmd += list(self.extra_args)
        # Keys go in through the environment: a command line is visible to every user of the machine.
        env = {**os.environ, "PYTHONUNBUFFERED": "1", KEYS_ENV: self.api_key, ADMIN_KEY_ENV: self.admin_key}
        env.pop("COMPAT_API_KEY", None)  # the suite's own key for a remote target is not the server's
        self._proc = spawn_with_output(cmd, env)
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
        tail = redact_text("\n".join(self._lines[-20:]), (self.api_key, self.admin_key))
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

    @property
    def root_url(self) -> str:
        """scheme://host:port, where `/admin/*` lives."""
        assert self.base_url is not None, "the server is not started"
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def admin(self, method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        """Call the persona's admin API; raises EmbeddedServerError on a refusal."""
        import httpx

        response = httpx.request(
            method,
            self.root_url + path,
            json=body,
            headers={"X-Admin-Key": self.admin_key},
            timeout=10.0,
        )
        if response.status_code >= 400:
            raise EmbeddedServerError(f"admin {method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def issue_key(self, **options: Any) -> dict[str, Any]:
        """A new key through the admin API (options: credit_micros, model, rate_limit, allowed_ips,
        name); the answer holds the raw `key` and its `id`."""
        return self.admin("POST", "/admin/keys", options)

    def stop(self) -> None:
        if self._state_dir is not None:
            state_dir, self._state_dir = self._state_dir, None
            self._stop_process()
            shutil.rmtree(state_dir, ignore_errors=True)
            return
        self._stop_process()

    def _stop_process(self) -> None:
        if self._proc is not None:
            stop_process(self._proc, signal.SIGTERM)

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
