"""The `Gateway` facade: the seam the reference server's routes call before and after serving.

    grant = await gateway.authorize(request, endpoint, model)     # raises APIError to refuse
    ...serve, with grant.model (a bound key's model) and grant.headers on the response...
    await gateway.settle(grant, usage=usage, status=200, latency_ms=elapsed)  # before the last byte

Database work runs on one dedicated thread (the store's single writer), so the event loop stays free.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from starlette.requests import Request
from starlette.routing import BaseRoute

from ..errors import APIError
from . import _allowlist, _keys, _traces
from ._coldstart import ModelStates
from ._config import GatewayConfig
from ._credits import require_funds
from ._ratelimit import RateLimiter, parse_limit, refuse
from ._records import KeyRecord, UsageEntry
from ._reservations import Reservation
from ._store import Store, new_id
from ._usage import TokenUsage

T = TypeVar("T")
INTERRUPTED_STATUS = 499  # logged for a request whose process died before it answered
Shape = Callable[[str, dict[str, Any], dict[str, Any]], dict[str, Any]]  # (endpoint, payload, request)


@dataclass
class Grant:
    """Permission to serve one request, and what settling it needs."""

    request_id: str
    key_id: str
    account_id: str
    endpoint: str
    model: str | None  # the model to serve: a bound key's own model when the request said "default"
    headers: dict[str, str] = field(default_factory=dict)  # add these to the response (rate limit, ids)
    trace_id: str | None = None
    started: float = field(default_factory=time.perf_counter)
    trace: dict[str, Any] | None = None


class Gateway:
    """Keys, credits, usage, rate limits, allowlists, cold start and traces over one SQLite file."""

    def __init__(self, db_path: str | Path, config: GatewayConfig | None = None) -> None:
        self.config = config or GatewayConfig()
        self.store = Store(db_path, synchronous=self.config.sqlite_synchronous)
        self.models = ModelStates()
        self.limiter = RateLimiter(self.config.default_rate_limit, self.config.ratelimit_storage_uri)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gateway-db")
        self.recovered = self._settle_orphans()  # requests a killed process left running

    async def run_in_db(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run a store call on the database thread and await its result."""
        future = asyncio.get_running_loop().run_in_executor(self._executor, partial(fn, *args, **kwargs))
        # Shielded: a client that disconnects must not leave a half-known write behind; it completes.
        return await asyncio.shield(future)

    async def aclose(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._executor, self.store.close)
        self._executor.shutdown(wait=True)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.store.close()

    # -- the serving seam ---------------------------------------------------------------------
    async def authenticate(self, request: Request) -> tuple[KeyRecord, str]:
        """The caller's live key (and the raw key, for redaction), or the refusal as an APIError."""
        raw = _keys.bearer_token(
            request.headers.get("authorization"),
            request.headers.get("api-key") or request.headers.get("x-api-key"),
        )
        if raw is None:
            raise APIError(
                401,
                "You didn't provide an API key. Pass it as 'Authorization: Bearer YOUR_KEY'.",
                code="missing_api_key",
            )
        key = await self.run_in_db(self.store.find_key_by_hash, _keys.hash_key(raw))
        if key is None or not _keys.matches(raw, key.key_hash):
            raise APIError(401, "Incorrect API key provided.", code="invalid_api_key")
        if key.revoked_at is not None:
            raise APIError(
                self.config.revoked_status, "This API key has been revoked.", code="api_key_revoked"
            )
        if not key.account_active:
            raise APIError(403, "This account has been deactivated.", code="account_deactivated")
        address = _allowlist.client_address(request, trust_forwarded_for=self.config.trust_forwarded_for)
        if not _allowlist.is_allowed(address, key.allowed_ips):
            raise APIError(
                403, "Requests from this IP address are not allowed for this key.", code="ip_not_allowed"
            )
        return key, raw

    async def authorize(
        self, request: Request, endpoint: str, model: str | None, *, prompt_tokens: int | None = None
    ) -> Grant:
        """Admit one inference request or raise the APIError that refuses it.

        Order: key (401), revoked (401/403), account (403), allowlist (403), rate limit (429),
        model binding, then for billable endpoints cold start (502/503) and credit (402).
        `prompt_tokens`, when known, lets the credit check refuse a request whose prompt alone
        costs more than the balance.
        """
        key, raw = await self.authenticate(request)
        decision = await self.limiter.hit(key.id, key.rate_limit)
        if not decision.allowed:
            raise refuse(decision)
        served_model = self._bound_model(key, model)
        billable = endpoint in self.config.billable_endpoints
        if billable and served_model is not None:
            self.models.require_ready(
                served_model,
                status_code=self.config.cold_start_status,
                default_retry_s=self.config.cold_start_retry_after_s,
            )
        if billable and self.config.credits_enforced:
            require_funds(key.balance_micros, self.config.pricing.cost(prompt_tokens or 0))
        grant = Grant(
            request_id=new_id("req"),
            key_id=key.id,
            account_id=key.account_id,
            endpoint=endpoint,
            model=served_model,
            headers=decision.headers(),
        )
        grant.headers[self.config.request_id_header] = grant.request_id
        if _traces.wants_trace(request, self.config.trace_header):
            grant.trace_id = _traces.new_trace_id()
            grant.trace = _traces.request_metadata(request, endpoint, served_model, secrets=(raw,))
            grant.headers[self.config.trace_id_header] = grant.trace_id
        return grant

    def _bound_model(self, key: KeyRecord, requested: str | None) -> str | None:
        if key.model is None:
            return requested
        if requested is None or requested == key.model or requested in self.config.bound_model_aliases:
            return key.model
        raise APIError(
            self.config.model_mismatch_status,
            f"This API key is bound to one model; '{requested}' is not it.",
            param="model",
            code="model_not_found" if self.config.model_mismatch_status == 404 else "model_not_allowed",
        )

    async def settle(
        self,
        grant: Grant,
        usage: Mapping[str, Any] | None = None,
        status: int = 200,
        latency_ms: float | None = None,
    ) -> int | None:
        """Debit and log the request in one transaction; its cost in micros, None if already settled."""
        tokens = TokenUsage.of(usage)
        latency = latency_ms if latency_ms is not None else (time.perf_counter() - grant.started) * 1000
        entry = self._entry(grant, tokens.prompt_tokens, tokens.completion_tokens, latency, status)
        cost = entry.cost_micros
        trace = None
        if grant.trace_id is not None and grant.trace is not None:
            trace = (
                grant.trace_id,
                {
                    "id": grant.trace_id,
                    "object": "trace",
                    "request_id": grant.request_id,
                    "key_id": grant.key_id,
                    **grant.trace,
                    "status": int(status),
                    "usage": {
                        "prompt_tokens": tokens.prompt_tokens,
                        "completion_tokens": tokens.completion_tokens,
                        "total_tokens": tokens.total_tokens,
                    },
                    "cost_micros": cost,
                    "latency_ms": round(float(latency), 3),
                },
            )
        # Submitted to the database thread before the first await: even a cancelled caller is settled.
        settled = await self.run_in_db(self.store.settle, entry, trace)
        return cost if settled else None

    async def reserve(self, grant: Grant, prompt_tokens: int, completion_tokens: int) -> None:
        """Hold the most the request can cost (`prompt_tokens` and up to `completion_tokens`
        generated, at the price), or refuse it with a 402. Settling releases the hold."""
        if grant.endpoint not in self.config.billable_endpoints or not self.config.credits_enforced:
            return
        amount = self.config.pricing.cost(prompt_tokens, completion_tokens)
        reservation = Reservation(
            grant.request_id, grant.account_id, grant.key_id, grant.endpoint, grant.model, amount
        )
        if not await self.run_in_db(self.store.reserve, reservation):
            raise APIError(
                402,
                f"You exceeded your current quota: this request may cost up to {amount} micro-units "
                f"({prompt_tokens} prompt tokens and up to {completion_tokens} generated), more than the "
                "credit not already held by running requests. Lower max_tokens or n, or top up your account.",
                type="insufficient_quota",
                code="insufficient_quota",
            )

    async def progress(self, grant: Grant, usage: Mapping[str, Any] | None) -> None:
        """Record what a stream has sent so far: what it is billed if the process dies before settling."""
        tokens = TokenUsage.of(usage)
        await self.run_in_db(
            self.store.record_progress, grant.request_id, tokens.prompt_tokens, tokens.completion_tokens
        )

    def _settle_orphans(self) -> int:
        """Settle the reservations of a process that died: what a stream had recorded as sent is
        billed (status 200: the client had it); a request that had sent nothing costs nothing."""
        orphans = self.store.orphaned_reservations()
        for orphan in orphans:
            held = orphan.reservation
            prompt, completion = (orphan.prompt_tokens, orphan.completion_tokens) if orphan.sent else (0, 0)
            status = 200 if orphan.sent else INTERRUPTED_STATUS
            self.store.settle(self._entry(held, prompt, completion, orphan.age_s * 1000.0, status))
        return len(orphans)

    def _entry(
        self, request: Grant | Reservation, prompt: int, completion: int, latency_ms: float, status: int
    ) -> UsageEntry:
        """The usage row (and debit, at the price) of one request."""
        return UsageEntry(
            request_id=request.request_id,
            account_id=request.account_id,
            key_id=request.key_id,
            endpoint=request.endpoint,
            model=request.model,
            prompt_tokens=prompt,
            completion_tokens=completion,
            total_tokens=prompt + completion,
            cost_micros=self.config.pricing.cost(prompt, completion),
            latency_ms=float(latency_ms),
            status=int(status),
        )

    # -- cold start ---------------------------------------------------------------------------
    def model_status(self, model: str) -> str | None:
        """`ready`, `loading` or `unavailable` as the admin set it; None: the gateway has no say."""
        return self.models.status(model)

    def set_model_status(self, model: str, status: str, *, ready_after_s: float | None = None) -> None:
        self.models.set(model, status, ready_after_s=ready_after_s)

    # -- provisioning (sync: callable before the server runs; async twins below) --------------
    def issue_key(
        self,
        account_id: str | None = None,
        *,
        credit_micros: int = 0,
        name: str | None = None,
        model: str | None = None,
        rate_limit: str | None = None,
        allowed_ips: Sequence[str] = (),
        prefix: str | None = None,
    ) -> tuple[str, KeyRecord]:
        """A new key (raw, record). With no account, a new account funded with `credit_micros`."""
        if rate_limit is not None:
            parse_limit(rate_limit)
        networks = _allowlist.normalize(allowed_ips)
        new_account = account_id is None
        if account_id is None:
            account_id = self.store.create_account(credit_micros)
        minted = _keys.mint(prefix if prefix is not None else self.config.key_prefix)
        record = self.store.create_key(
            account_id,
            key_hash=minted.digest,
            display_prefix=minted.display_prefix,
            last4=minted.last4,
            name=name,
            model=model,
            rate_limit=rate_limit,
            allowed_ips=networks,
        )
        if credit_micros and not new_account:  # after the key exists: a refused key grants nothing
            self.store.grant(account_id, credit_micros, key_id=record.id, note="credit with new key")
        return minted.raw, record

    async def create_key(self, account_id: str | None = None, **options: Any) -> tuple[str, KeyRecord]:
        return await self.run_in_db(self.issue_key, account_id, **options)

    def routes(self, prefix: str | None = None, *, shape: Shape | None = None) -> list[BaseRoute]:
        """The key, credit, usage and trace endpoints under `prefix` (default: the config's), plus
        `/admin/*` when an admin key is configured. `shape(endpoint, payload, request_body)` rewrites
        each JSON answer of the key, credit and usage endpoints (the app's fault hook)."""
        from ._admin import admin_routes
        from ._public import public_routes

        routes = public_routes(self, self.config.public_prefix if prefix is None else prefix, shape=shape)
        if self.config.admin_key:
            routes += admin_routes(self)
        return routes
