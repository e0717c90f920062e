"""The official SDKs make the suite's calls against the target and must parse every answer the suite
accepted for the same request: openai-python (sync and async, `max_retries=0`, strict validation)
and the official Node SDK (npm `openai`, driven by compat_suite/node/driver.mjs).

Each SDK makes all its calls once per session; each raw exchange is sent once per session and
shared by the three SDKs. A call whose raw answer the suite did not accept is not held against an
SDK: the sync SDK's scenario reports the raw answer's failure instead (once per call), the others
skip.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from .. import checks
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
from ..target import NotApplicable, RequestBudgetExhausted, Target
from ._context import Context
from ._registry import Proofs, proof, scenario

_STREAM = (
    "transport.complete",
    "stream.content-type",
    "stream.sse.json-data",
    "stream.sse.complete",
    "stream.done-terminator",
    "stream.chunk.schema",
)
# What the suite must accept of a raw exchange before an SDK is held to parsing it.
ACCEPTANCE: dict[str, tuple[str, ...]] = {
    "chat": ("transport.complete", "transport.json-body", "chat.response.schema"),
    "chat_stream": _STREAM,
    "completions": ("transport.complete", "transport.json-body", "completions.response.schema"),
    "completions_stream": _STREAM,
    "embeddings": ("transport.complete", "transport.json-body", "embeddings.response.schema"),
    "models": ("transport.complete", "transport.json-body", "models.list.schema"),
    "model": ("transport.complete", "transport.json-body", "models.retrieve.schema"),
}
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
    path = target.profile.endpoint_path("model").replace("{model}", quote(call.body["model"], safe="/"))
    return target.get("model", path)


def _calls(ctx: Context) -> dict[str, ClientCall]:
    return ctx.once("client-calls", lambda: {call.id: call for call in standard_calls(ctx.target)})


def raw_exchange(ctx: Context) -> tuple[ClientCall, Exchange]:
    """The case's call and its raw exchange (sent once per session); NotApplicable when the target
    cannot take the call."""
    call_id = ctx.case or ""
    call = _calls(ctx).get(call_id)
    if call is None:
        raise NotApplicable(
            f"the target cannot take the {call_id} call (endpoint, model or streaming missing)"
        )
    return call, ctx.once(f"client-raw:{call_id}", lambda: _raw(ctx.target, call))


def accepted(ctx: Context) -> tuple[ClientCall, Exchange]:
    """The case's call and the raw exchange the suite accepted for it; NotApplicable when the target
    cannot take the call or the suite did not accept its raw answer."""
    call, exchange = raw_exchange(ctx)
    refused = refusal(call, exchange)
    if refused:
        check_id, message = refused
        raise NotApplicable(f"the suite did not accept the raw {call.id} answer ({check_id}: {message})")
    return call, exchange


def refusal(call: ClientCall, exchange: Exchange) -> tuple[str, str] | None:
    """The first acceptance check the raw answer to `call` fails, with its message; None if accepted."""
    for check_id in ACCEPTANCE[call.kind]:
        outcome = checks.run(check_id, exchange)
        if not outcome.passed:
            return check_id, outcome.message
    return None


def records(ctx: Context, sdk: str, runner: Runner) -> dict[str, ClientRecord]:
    """Every call made through one SDK, once per session; NotApplicable when it cannot run here."""

    def make() -> dict[str, ClientRecord] | str:
        try:
            return {r.call.id: r for r in runner(ctx.target, list(_calls(ctx).values()))}
        except (RequestBudgetExhausted, ClientUnavailable) as exc:
            return str(exc)

    made = ctx.once(f"client-records:{sdk}", make)
    if isinstance(made, str):
        raise NotApplicable(made)
    return made


@scenario("clients.python-sdk", cases=STANDARD_CALL_IDS, proves=("clients.python-sdk.parse",))
def python_sdk(ctx: Context) -> Proofs:
    """The sync SDK parses the live answer to the call, and the accepted raw answer replayed into it.

    A raw answer the suite does not accept is this suite's one finding for the call (so that the
    clients suite run alone against a broken target still says what broke); the SDK is not held to it."""
    call, exchange = raw_exchange(ctx)
    refused = refusal(call, exchange)
    if refused:
        yield proof(refused[0], exchange)  # one root cause, one finding
        return
    yield proof("clients.python-sdk.parse", exchange, record=records(ctx, "python", run_python)[call.id])


@scenario("clients.python-async-sdk", cases=STANDARD_CALL_IDS, proves=("clients.python-async-sdk.parse",))
def python_async_sdk(ctx: Context) -> Proofs:
    """The async SDK parses the live answer to the call, and the accepted raw answer replayed into it."""
    call, exchange = accepted(ctx)
    record = records(ctx, "python-async", run_python_async)[call.id]
    yield proof("clients.python-async-sdk.parse", exchange, record=record)


@scenario("clients.node-sdk", cases=STANDARD_CALL_IDS, proves=("clients.node-sdk.parse",))
def node_sdk(ctx: Context) -> Proofs:
    """The Node SDK parses the live answer to the call, and the accepted raw answer replayed into it."""
    why = node_sdk_unavailable()
    if why:
        raise NotApplicable(f"Node SDK: {why}")
    call, exchange = accepted(ctx)
    yield proof("clients.node-sdk.parse", exchange, record=records(ctx, "node", run_node)[call.id])
