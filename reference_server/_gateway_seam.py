"""The app's gateway seam: permission before serving, an account after.

Without a gateway, a fixed set of bearer keys is checked first thing. With one, the gateway
authorizes once the model is known, may reserve what a request can cost before the model works,
records a stream's progress (billed after a crash) and settles when the answer has ended.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.requests import Request

from .auth import KeyAuth

Json = dict[str, Any]
logger = logging.getLogger("reference_server")


class Gateway(Protocol):
    """What the app needs from a gateway: permission before serving, an account after. A grant
    with a `headers` dict has those headers added to the response."""

    async def authorize(
        self, request: Request, endpoint: str, model: str | None, *, prompt_tokens: int | None = None
    ) -> Any:
        """Return a grant, or raise `APIError` (401, 402, 403, 429, ...). A grant with a `model`
        names the model to serve (a key bound to one model)."""
        ...

    async def settle(self, grant: Any, usage: Json | None, status: int, latency_ms: float) -> None: ...


@dataclass
class Call:
    """One request's bookkeeping for the gateway."""

    endpoint: str
    started: float
    grant: Any = None
    authorized: bool = False
    deferred: bool = False  # a stream settles when it ends, not when the route returns
    usage: Json | None = None


class GatewaySeam:
    """The key check or the gateway's calls, for the app's server (which is one)."""

    def __init__(
        self,
        keys: KeyAuth | None,
        gateway: Gateway | None,
        *,
        authenticate_first: bool = False,
        open_endpoints: Collection[str] = (),
    ) -> None:
        self.keys = keys
        self.gateway = gateway
        self.authenticate_first = authenticate_first
        self.open_endpoints = frozenset(open_endpoints)
        self._background: set[asyncio.Task[None]] = set()  # settles that outlive a cancelled stream

    async def authorize(
        self,
        request: Request,
        call: Call,
        model: str | None,
        *,
        early: bool = False,
        prompt_tokens: int | None = None,
    ) -> None:
        """Without a gateway: the key check, first thing. With one: its authorize, once the model is
        known (generation routes call this again after parsing); with `authenticate_first`, the key is
        also checked before the body is read (a 401 before a 400, as OpenAI answers)."""
        if call.endpoint in self.open_endpoints:
            return  # served without a key (e.g. a public model list)
        if self.gateway is None:
            if early and self.keys is not None:
                self.keys.check(request)
            return
        if early:
            authenticate = getattr(self.gateway, "authenticate", None)
            if self.authenticate_first and authenticate is not None:
                await authenticate(request)
            return  # each route asks the gateway itself, once it knows the model
        call.grant = await self.gateway.authorize(request, call.endpoint, model, prompt_tokens=prompt_tokens)
        call.authorized = True

    async def settle(self, call: Call, status: int) -> None:
        if self.gateway is None or not call.authorized:
            return
        latency_ms = (time.perf_counter() - call.started) * 1000.0
        try:
            await self.gateway.settle(call.grant, call.usage, status, latency_ms)
        except Exception:  # the response is already decided; a bookkeeping failure must not change it
            logger.exception("gateway settle failed for %s", call.endpoint)

    async def reserve(self, call: Call, prompt_tokens: int, completion_tokens: int = 0) -> None:
        """Hold the most a request can cost (its prompt and every token it may generate) before any
        model work, with a gateway that reserves; its settle releases what was not spent."""
        reserve = getattr(self.gateway, "reserve", None)
        if reserve is not None and call.authorized:
            await reserve(call.grant, prompt_tokens, completion_tokens)

    def report_progress(self, call: Call) -> None:
        """Record how much a stream has sent so far (with a gateway that records it), so that a
        stream cut by a crash is still billed for it. Submitted, not awaited: it never slows a stream."""
        progress = getattr(self.gateway, "progress", None)
        if progress is None or not call.authorized or call.usage is None:
            return
        task = asyncio.get_running_loop().create_task(progress(call.grant, call.usage))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def settle_soon(self, call: Call, status: int) -> None:
        """Settle in a task of its own, so that a cancelled stream (client gone) still settles."""
        task = asyncio.get_running_loop().create_task(self.settle(call, status))
        self._background.add(task)
        task.add_done_callback(self._background.discard)
