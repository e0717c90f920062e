"""The official SDKs make the suite's calls against the target and must parse every answer the suite
accepted for the same request: openai-python (sync and async, `max_retries=0`, strict validation)
and the official Node SDK (npm `openai`, driven by compat_suite/node/driver.mjs).

Each SDK makes all its calls once per session; each raw exchange is sent once per session and
shared by the three SDKs. The SDKs are judged whatever the raw checks found, so that a user learns
whether the official SDKs still work against a target that fails some checks.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from ..checks.clients import ClientUnavailable, node_sdk_unavailable
from ..clients import (
    STANDARD_CALL_IDS,
    ClientCall,
    ClientRecord,
    run_node,
    run_python,
    run_python_async,
    standard_calls,
)
from ..exchange import Exchange
from ..sdk_helpers import raw_request, run_node_helpers, run_python_helpers
from ..target import NotApplicable, RequestBudgetExhausted, Target
from ._context import Context
from ._registry import Proofs, proof, scenario

Runner = Callable[[Target, list[ClientCall]], list[ClientRecord]]


def _raw(target: Target, call: ClientCall) -> Exchange:
    if call.kind == "chat":
        return target.chat(call.body)
    if call.kind == "chat_stream":
        return target.chat_stream(call.body)
    if call.kind == "completions":
        return target.completions(call.body)
    if call.kind == "completions_stream":
        return target.completions_stream(call.body)
    if call.kind == "embeddings":
        return target.embeddings(call.body)
    if call.kind == "models":
        return target.get("models")
    if call.endpoint == "responses":
        return _raw_responses(target, call)
    path = target.profile.endpoint_path("model").replace("{model}", quote(call.body["model"], safe="/"))
    return target.get("model", path)


def _raw_responses(target: Target, call: ClientCall) -> Exchange:
    """The raw exchange of a Responses call: the create itself, or what is done with the stored
    response it created (which is deleted again, unless the call deletes it)."""
    if call.kind == "responses_stream":
        return target.responses_stream(call.body)
    created = target.responses(call.body)
    response_id = created.json.get("id") if isinstance(created.json, dict) else None
    if call.kind in ("responses", "responses_parse") or not isinstance(response_id, str):
        return created
    if call.kind == "responses_delete":
        return target.stored_response("DELETE", response_id)
    suffix = "/input_items?order=asc" if call.kind == "responses_input_items" else ""
    used = target.stored_response("GET", response_id, suffix)
    target.stored_response("DELETE", response_id)
    return used


def _calls(ctx: Context) -> dict[str, ClientCall]:
    return ctx.once("client-calls", lambda: {call.id: call for call in standard_calls(ctx.target)})


def answered(ctx: Context) -> tuple[ClientCall, Exchange]:
    """The case's call and the raw exchange made for it (once per session); NotApplicable when the
    target cannot take the call. The SDKs are judged whatever the raw answer was: a raw answer that
    failed checks is still one the SDKs must read (or refuse with their API error)."""
    call_id = ctx.case or ""
    call = _calls(ctx).get(call_id)
    if call is None:
        raise NotApplicable(
            f"the target cannot take the {call_id} call (endpoint, model or streaming missing)"
        )
    return call, ctx.once(f"client-raw:{call_id}", lambda: _raw(ctx.target, call))


def records(ctx: Context, sdk: str, runner: Runner) -> dict[str, ClientRecord] | str:
    """Every call made through one SDK, once per session; NotApplicable when it cannot run here (not
    installed, or the request budget spent); the driver's error, as text, when it broke."""

    def make() -> dict[str, ClientRecord] | tuple[str, str]:
        calls = list(_calls(ctx).values())
        try:
            ctx.target.pace(len(calls))  # the SDKs' calls count against the target's rate limit too
            return {r.call.id: r for r in runner(ctx.target, calls)}
        except RequestBudgetExhausted as exc:
            return ("skip", str(exc))
        except ClientUnavailable as exc:
            return ("skip", str(exc)) if sdk != "node" or node_sdk_unavailable() else ("broke", str(exc))

    made = ctx.once(f"client-records:{sdk}", make)
    if isinstance(made, tuple):
        kind, why = made
        if kind == "skip":
            raise NotApplicable(why)
        return why
    return made


def _python_parsed(ctx: Context, sdk: str, runner: Runner) -> tuple[Exchange, ClientRecord | None]:
    """The case's raw exchange, and what one Python SDK made of the same call."""
    call, exchange = answered(ctx)
    made = records(ctx, sdk, runner)
    return exchange, made[call.id] if isinstance(made, dict) else None


@scenario("clients.python-sdk", cases=STANDARD_CALL_IDS, proves=("clients.python-sdk.parse",))
def python_sdk(ctx: Context) -> Proofs:
    """The sync SDK parses the live answer to the call, and the raw answer replayed into it."""
    exchange, record = _python_parsed(ctx, "python", run_python)
    yield proof("clients.python-sdk.parse", exchange, record=record, needs="none")


@scenario("clients.python-async-sdk", cases=STANDARD_CALL_IDS, proves=("clients.python-async-sdk.parse",))
def python_async_sdk(ctx: Context) -> Proofs:
    """The async SDK parses the live answer to the call, and the raw answer replayed into it."""
    exchange, record = _python_parsed(ctx, "python-async", run_python_async)
    yield proof("clients.python-async-sdk.parse", exchange, record=record, needs="none")


@scenario("clients.node-sdk", cases=STANDARD_CALL_IDS, proves=("clients.node-sdk.parse",))
def node_sdk(ctx: Context) -> Proofs:
    """The Node SDK parses the live answer to the call, and the raw answer replayed into it; a driver
    that breaks is a finding, not a skip."""
    why = node_sdk_unavailable()
    if why:
        raise NotApplicable(f"Node SDK: {why}")
    call, exchange = answered(ctx)
    made = records(ctx, "node", run_node)
    if isinstance(made, str):
        yield proof("clients.node-sdk.parse", exchange, driver_error=made, needs="none")
        return
    yield proof("clients.node-sdk.parse", exchange, record=made[call.id], needs="none")


def _helpers(
    ctx: Context, sdk: str, runner: Callable[[Target], ClientRecord]
) -> tuple[Exchange, ClientRecord]:
    """The raw strict json_schema exchange (once per session) and one SDK's helpers' record."""
    ctx.target.require("chat")
    exchange = ctx.once("helpers-raw", lambda: ctx.target.chat(raw_request()))

    def make() -> ClientRecord | str:
        try:
            return runner(ctx.target)
        except (RequestBudgetExhausted, ClientUnavailable) as exc:
            return str(exc)

    record = ctx.once(f"helpers:{sdk}", make)
    if isinstance(record, str):
        raise NotApplicable(record)
    return exchange, record


@scenario("clients.python-sdk-helpers", endpoint="chat", proves=("clients.python-sdk.helpers",))
def python_sdk_helpers(ctx: Context) -> Proofs:
    """openai-python's parse (pydantic response_format, pydantic_function_tool) and stream() helpers."""
    exchange, record = _helpers(ctx, "python", run_python_helpers)
    yield proof("clients.python-sdk.helpers", exchange, record=record)


@scenario("clients.node-sdk-helpers", endpoint="chat", proves=("clients.node-sdk.helpers",))
def node_sdk_helpers(ctx: Context) -> Proofs:
    """openai-node's parse, stream() and runTools helpers."""
    why = node_sdk_unavailable()
    if why:
        raise NotApplicable(f"Node SDK: {why}")
    exchange, record = _helpers(ctx, "node", run_node_helpers)
    yield proof("clients.node-sdk.helpers", exchange, record=record)
