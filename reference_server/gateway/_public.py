"""The key, credit, usage and trace endpoints a key holder calls (Inferbase's documented surface).

POST   {prefix}/keys                 create a key in the caller's account; the raw key, once
GET    {prefix}/keys                 list the account's keys: prefixes and last characters only
DELETE {prefix}/keys/{key_id}        revoke, irreversibly
GET    {prefix}/credits              the account's balance
GET    {prefix}/credits/transactions the ledger: grants, adjustments, debits
GET    {prefix}/usage                per-request tokens, cost, latency, status (?key_id= filters)
GET    {prefix}/traces/{trace_id}    a trace captured with the trace header
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..errors import APIError
from ._credits import MICROS
from ._http import enveloped, json_object, optional_str, optional_str_list, query_int
from ._records import KeyRecord
from ._store import Conflict

if TYPE_CHECKING:
    from ._gateway import Gateway, Shape


def balance_body(account_id: str, balance_micros: int) -> dict[str, Any]:
    return {
        "object": "credit_balance",
        "account_id": account_id,
        "balance_micros": balance_micros,
        "balance": balance_micros / MICROS,  # for display; the micros are the exact figure
    }


def created_key_body(raw: str, record: KeyRecord) -> dict[str, Any]:
    return {**record.public(), "key": raw}


def public_routes(gateway: Gateway, prefix: str, *, shape: Shape | None = None) -> list[BaseRoute]:
    """The routes; `shape(endpoint, payload, request_body)`, when given, rewrites each JSON answer
    (endpoint names as the profiles name them: keys, key, credits, credit_transactions, usage)."""
    prefix = prefix.rstrip("/")

    def answer(endpoint: str, payload: dict[str, Any], status: int = 200, body: Any = None) -> Response:
        if shape is not None:
            payload = shape(endpoint, payload, body if isinstance(body, dict) else {})
        return JSONResponse(payload, status_code=status)

    @enveloped
    async def create_key(request: Request) -> Response:
        caller, _ = await gateway.authenticate(request)
        body = await json_object(request)
        try:
            raw, record = await gateway.create_key(
                caller.account_id,
                name=optional_str(body, "name"),
                model=optional_str(body, "model"),
                allowed_ips=optional_str_list(body, "allowed_ips"),
            )
        except Conflict as exc:
            raise APIError(409, str(exc), param="name", code="conflict") from exc
        return answer("keys", created_key_body(raw, record), 201, body)

    @enveloped
    async def list_keys(request: Request) -> Response:
        caller, _ = await gateway.authenticate(request)
        keys = await gateway.run_in_db(gateway.store.list_keys, caller.account_id)
        return answer("keys", {"object": "list", "data": [k.public() for k in keys]})

    @enveloped
    async def revoke_key(request: Request) -> Response:
        caller, _ = await gateway.authenticate(request)
        key_id = request.path_params["key_id"]
        key = await gateway.run_in_db(gateway.store.get_key, key_id)
        if key is None or key.account_id != caller.account_id:  # another account's key does not exist here
            raise APIError(404, f"No API key with id '{key_id}'.", param="key_id", code="key_not_found")
        key = await gateway.run_in_db(gateway.store.revoke_key, key_id)
        assert key is not None
        return answer("key", {**key.public(), "revoked": True, "deleted": True})

    @enveloped
    async def credits(request: Request) -> Response:
        caller, _ = await gateway.authenticate(request)
        balance = await gateway.run_in_db(gateway.store.balance, caller.account_id)
        return answer("credits", balance_body(caller.account_id, balance))

    @enveloped
    async def transactions(request: Request) -> Response:
        caller, _ = await gateway.authenticate(request)
        limit = query_int(request, "limit", default=100)
        rows = await gateway.run_in_db(
            gateway.store.transactions,
            caller.account_id,
            key_id=request.query_params.get("key_id"),
            limit=limit + 1,  # one more than asked says whether there is more
            after=query_int(request, "after", default=0, minimum=0, maximum=2**62) or None,
        )
        return answer(
            "credit_transactions", {"object": "list", "data": rows[:limit], "has_more": len(rows) > limit}
        )

    @enveloped
    async def usage(request: Request) -> Response:
        caller, _ = await gateway.authenticate(request)
        key_id = request.query_params.get("key_id")
        limit = query_int(request, "limit", default=100)
        rows = await gateway.run_in_db(gateway.store.usage, caller.account_id, key_id=key_id, limit=limit + 1)
        totals = await gateway.run_in_db(gateway.store.usage_totals, caller.account_id, key_id=key_id)
        data = [
            {"object": "usage_record", **{k: v for k, v in row.items() if k != "account_id"}} for row in rows
        ]
        return answer(
            "usage", {"object": "list", "data": data[:limit], "has_more": len(data) > limit, "totals": totals}
        )

    @enveloped
    async def trace(request: Request) -> Response:
        caller, _ = await gateway.authenticate(request)
        trace_id = request.path_params["trace_id"]
        record = await gateway.run_in_db(gateway.store.get_trace, trace_id, caller.account_id)
        if record is None:
            raise APIError(404, f"No trace with id '{trace_id}'.", param="trace_id", code="trace_not_found")
        return JSONResponse(record)

    return [
        Route(f"{prefix}/keys", create_key, methods=["POST"]),
        Route(f"{prefix}/keys", list_keys, methods=["GET"]),
        Route(f"{prefix}/keys/{{key_id}}", revoke_key, methods=["DELETE"]),
        Route(f"{prefix}/credits", credits, methods=["GET"]),
        Route(f"{prefix}/credits/transactions", transactions, methods=["GET"]),
        Route(f"{prefix}/usage", usage, methods=["GET"]),
        Route(f"{prefix}/traces/{{trace_id}}", trace, methods=["GET"]),
    ]
