"""The admin API: makes the states an error matrix needs. Guarded by the admin key (a separate
secret, `X-Admin-Key: ...` or `Authorization: Bearer ...`), never by a customer key.

    POST /admin/keys                          a key: credit, model binding, rate limit, allowlist
    GET  /admin/keys/{key_id}                 a key with its account's balance and state
    POST /admin/keys/{key_id}/revoke          revoke a key
    PUT  /admin/keys/{key_id}/balance         set the key's account balance (0: out of credit)
    POST /admin/keys/{key_id}/credits         grant credit to the key's account
    POST /admin/accounts/{account_id}/deactivate | /activate
    PUT  /admin/models/{model}/status         ready | loading (optionally for ready_after_s) | unavailable
    GET  /admin/models/{model}/status
    GET  /admin/ledger?account_id=|key_id=    transactions, usage and the ledger's audit
"""

from __future__ import annotations

import hmac
import re
from typing import TYPE_CHECKING

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..errors import APIError
from ._http import (
    Handler,
    enveloped,
    json_object,
    optional_int,
    optional_seconds,
    optional_str,
    optional_str_list,
    query_int,
)
from ._keys import bearer_token
from ._public import balance_body
from ._records import KeyRecord
from ._store import BalanceOverflow, Conflict

MAX_READY_AFTER_S = 7 * 24 * 3600.0  # a cold start announced for longer than a week is a typo
_KEY_PREFIX = re.compile(r"[A-Za-z0-9_\-]{1,32}")  # what a key may start with (it travels in headers)

if TYPE_CHECKING:
    from ._gateway import Gateway


def admin_routes(gateway: Gateway) -> list[BaseRoute]:
    admin_key = gateway.config.admin_key
    assert admin_key, "admin routes need an admin key"

    def guarded(handler: Handler) -> Handler:
        async def check_admin(request: Request) -> Response:
            given = request.headers.get("x-admin-key") or bearer_token(request.headers.get("authorization"))
            if not given or not hmac.compare_digest(given.encode(), admin_key.encode()):
                raise APIError(401, "A valid admin key is required for /admin.", code="invalid_admin_key")
            return await handler(request)

        return enveloped(check_admin)

    async def key_or_404(key_id: str) -> KeyRecord:
        key = await gateway.run_in_db(gateway.store.get_key, key_id)
        if key is None:
            raise APIError(404, f"No API key with id '{key_id}'.", param="key_id", code="key_not_found")
        return key

    async def describe(key: KeyRecord) -> dict:
        fresh = await key_or_404(key.id)
        return {**fresh.public(), "account_id": fresh.account_id, "account_active": fresh.account_active,
                "balance_micros": fresh.balance_micros}  # fmt: skip

    async def create_key(request: Request) -> Response:
        body = await json_object(request)
        account_id = optional_str(body, "account_id")
        if account_id is not None and not await gateway.run_in_db(gateway.store.account_exists, account_id):
            raise APIError(
                404, f"No account with id '{account_id}'.", param="account_id", code="account_not_found"
            )
        prefix = optional_str(body, "prefix", max_len=32)
        if prefix is not None and not _KEY_PREFIX.fullmatch(prefix):
            raise APIError(400, "prefix may hold only letters, digits, '_' and '-'", param="prefix")
        try:
            raw, record = await gateway.create_key(
                account_id,
                credit_micros=optional_int(body, "credit_micros") or 0,
                name=optional_str(body, "name"),
                model=optional_str(body, "model"),
                rate_limit=optional_str(body, "rate_limit", max_len=64),
                allowed_ips=optional_str_list(body, "allowed_ips"),
                prefix=prefix,
            )
        except Conflict as exc:
            raise APIError(409, str(exc), param="name", code="conflict") from exc
        except BalanceOverflow as exc:
            raise APIError(400, str(exc), param="credit_micros") from exc
        return JSONResponse({**(await describe(record)), "key": raw}, status_code=201)

    async def get_key(request: Request) -> Response:
        return JSONResponse(await describe(await key_or_404(request.path_params["key_id"])))

    async def revoke_key(request: Request) -> Response:
        key = await key_or_404(request.path_params["key_id"])
        await gateway.run_in_db(gateway.store.revoke_key, key.id)
        return JSONResponse(await describe(key))

    async def set_balance(request: Request) -> Response:
        key = await key_or_404(request.path_params["key_id"])
        body = await json_object(request, required=True)
        target = optional_int(body, "balance_micros")
        if target is None:
            raise APIError(400, "balance_micros is required", param="balance_micros")
        try:
            balance = await gateway.run_in_db(
                gateway.store.set_balance, key.account_id, target, key_id=key.id
            )
        except BalanceOverflow as exc:
            raise APIError(400, str(exc), param="balance_micros") from exc
        return JSONResponse(balance_body(key.account_id, balance))

    async def grant(request: Request) -> Response:
        key = await key_or_404(request.path_params["key_id"])
        body = await json_object(request, required=True)
        amount = optional_int(body, "amount_micros", minimum=1)
        if amount is None:
            raise APIError(400, "amount_micros is required", param="amount_micros")
        try:
            balance = await gateway.run_in_db(gateway.store.grant, key.account_id, amount, key_id=key.id)
        except BalanceOverflow as exc:
            raise APIError(400, str(exc), param="amount_micros") from exc
        return JSONResponse(balance_body(key.account_id, balance))

    def account_state(active: bool) -> Handler:
        async def handler(request: Request) -> Response:
            account_id = request.path_params["account_id"]
            try:
                await gateway.run_in_db(gateway.store.set_account_active, account_id, active)
            except KeyError as exc:
                raise APIError(404, f"No account with id '{account_id}'.", code="account_not_found") from exc
            return JSONResponse({"id": account_id, "object": "account", "active": active})

        return handler

    async def set_model_status(request: Request) -> Response:
        model = request.path_params["model"]
        body = await json_object(request, required=True)
        status = body.get("status")
        ready_after_s = optional_seconds(body, "ready_after_s", maximum=MAX_READY_AFTER_S)
        if not isinstance(status, str):
            raise APIError(400, "status is required: ready, loading or unavailable", param="status")
        gateway.set_model_status(model, status, ready_after_s=ready_after_s)
        return JSONResponse({"model": model, "status": gateway.model_status(model)})

    async def get_model_status(request: Request) -> Response:
        model = request.path_params["model"]
        return JSONResponse({"model": model, "status": gateway.model_status(model) or "ready"})

    async def ledger(request: Request) -> Response:
        account_id = request.query_params.get("account_id")
        key_id = request.query_params.get("key_id")
        if key_id:
            account_id = (await key_or_404(key_id)).account_id
        if not account_id or not await gateway.run_in_db(gateway.store.account_exists, account_id):
            raise APIError(
                404, "Give an existing account_id or key_id.", param="account_id", code="account_not_found"
            )
        limit = query_int(request, "limit", default=1000, maximum=100_000)
        store = gateway.store
        return JSONResponse(
            {
                "object": "ledger",
                "account_id": account_id,
                "balance_micros": await gateway.run_in_db(store.balance, account_id),
                "transactions": await gateway.run_in_db(store.transactions, account_id, limit=limit),
                "usage": await gateway.run_in_db(store.usage, account_id, limit=limit),
                "audit": await gateway.run_in_db(store.audit, account_id),
            }
        )

    return [
        Route("/admin/keys", guarded(create_key), methods=["POST"]),
        Route("/admin/keys/{key_id}", guarded(get_key), methods=["GET"]),
        Route("/admin/keys/{key_id}/revoke", guarded(revoke_key), methods=["POST"]),
        Route("/admin/keys/{key_id}/balance", guarded(set_balance), methods=["PUT", "POST"]),
        Route("/admin/keys/{key_id}/credits", guarded(grant), methods=["POST"]),
        Route("/admin/accounts/{account_id}/deactivate", guarded(account_state(False)), methods=["POST"]),
        Route("/admin/accounts/{account_id}/activate", guarded(account_state(True)), methods=["POST"]),
        Route("/admin/models/{model:path}/status", guarded(set_model_status), methods=["PUT", "POST"]),
        Route("/admin/models/{model:path}/status", guarded(get_model_status), methods=["GET"]),
        Route("/admin/ledger", guarded(ledger), methods=["GET"]),
    ]
