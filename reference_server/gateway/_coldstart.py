"""Per-model readiness (ready / loading / unavailable), settable by the admin API.

Held in memory: it describes this process's models, and a restart starts them afresh.
"""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass

from ..errors import APIError

STATUSES = ("ready", "loading", "unavailable")


@dataclass(frozen=True)
class _State:
    status: str
    ready_at: float | None  # monotonic time at which `loading` turns `ready`; None: until told


class ModelStates:
    def __init__(self) -> None:
        self._states: dict[str, _State] = {}
        self._lock = threading.Lock()

    def set(self, model: str, status: str, *, ready_after_s: float | None = None) -> None:
        if status not in STATUSES:
            raise APIError(400, f"status must be one of {', '.join(STATUSES)}", param="status")
        if ready_after_s is not None and (status != "loading" or ready_after_s < 0):
            raise APIError(
                400, "ready_after_s applies to status 'loading' and must be >= 0", param="ready_after_s"
            )
        ready_at = None if ready_after_s is None else time.monotonic() + ready_after_s
        with self._lock:
            self._states[model] = _State(status, ready_at)

    def status(self, model: str) -> str | None:
        """The model's status, or None when the gateway was never told about it."""
        with self._lock:
            state = self._states.get(model)
            if state is None:
                return None
            if (
                state.status == "loading"
                and state.ready_at is not None
                and time.monotonic() >= state.ready_at
            ):
                self._states[model] = state = _State("ready", None)
            return state.status

    def retry_after_s(self, model: str, default: int) -> int:
        with self._lock:
            state = self._states.get(model)
        if state and state.ready_at is not None:
            return max(1, math.ceil(state.ready_at - time.monotonic()))
        return default

    def require_ready(self, model: str, *, status_code: int, default_retry_s: int) -> None:
        """Refuse (502/503 with Retry-After) while the model is loading or unavailable."""
        status = self.status(model)
        if status in (None, "ready"):
            return
        retry = self.retry_after_s(model, default_retry_s)
        if status == "loading":
            message = f"The model '{model}' is loading (cold start). Retry in {retry}s."
        else:
            message = f"The model '{model}' is temporarily unavailable. Retry in {retry}s."
        raise APIError(status_code, message, code=f"model_{status}", headers={"retry-after": str(retry)})
