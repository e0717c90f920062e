"""The real clients as checks: the official SDKs must parse every response the suite accepts.

The recorded response is replayed, byte for byte, into the SDK through an in-memory transport
(no socket is opened), and the SDK's own parsing runs as it would against the live target. The
Python SDK runs with strict response validation, so a body it would silently mis-read fails.
The Node SDK runs in a `node` child process fed over stdin; `node_sdk_unavailable()` says why it
cannot run (no node, no `openai` package), so a suite can skip instead of failing.

Each check also takes `record=`, a live call of the same request through that SDK
(`compat_suite.clients`): the SDK failing where the raw exchange was accepted is a finding too.
"""

from __future__ import annotations

from typing import Any

from ..exchange import Exchange
from . import _common as c
from ._node_sdk import NODE_DIR as NODE_DIR
from ._node_sdk import node_modules_dirs as node_modules_dirs
from ._node_sdk import node_sdk_unavailable, replay_in_node
from ._python_sdk import replay_in_async_python, replay_in_python
from ._registry import MUST, Finding, Unjudged, check
from ._replay import byte_of, has_error_event, wants_stream

ENDPOINTS = ("chat", "completions", "embeddings", "models", "model", "responses")
# What both SDKs' parse helpers raise, as documented, for an answer the token limit or a filter cut.
CUT_ANSWER_ERRORS = ("LengthFinishReasonError", "ContentFilterFinishReasonError")


class ClientUnavailable(RuntimeError):
    """The client a check needs is not installed here; not a finding about the target."""


# -- Python ---------------------------------------------------------------------------------------
def _judge(exchange: Exchange, exc: BaseException | None, sdk: str, *, at: int | None = None) -> None:
    import openai

    status = exchange.status or 0
    if exc is None:
        if status >= 400:
            raise Finding(f"{sdk} accepted an error answer ({status}) as a result", c.evidence(exchange))
        return
    if isinstance(exc, openai.APIStatusError) and status >= 400:
        return  # the SDK's documented way to report an error answer
    if (
        isinstance(exc, openai.APIError)
        and not isinstance(exc, openai.APIStatusError)
        and has_error_event(exchange)
    ):
        return  # an error event inside a stream: the SDK raises it, as documented
    raise _unparsed(exchange, sdk, type(exc).__name__, str(exc), at)


def _unparsed(exchange: Exchange, sdk: str, error: Any, message: str, at: int | None) -> Finding:
    """`sdk` failed to parse the answer with `error`; `at`: the byte it was reading, where known."""
    where = f" at byte {at}" if at is not None else ""
    extra = {"at_byte": at, "around": c.excerpt(exchange.body, at)} if at is not None else {}
    return Finding(
        f"{sdk} could not parse the response{where}: {error}: {message[:300]}",
        c.evidence(exchange, sdk_error=error, **extra),
    )


def _judge_record(exchange: Exchange, record: Any, sdk: str) -> None:
    """A live SDK call (a `compat_suite.clients.ClientRecord`) of the request the raw exchange made.

    The SDK must succeed where the raw exchange got a complete 2xx answer; where the raw answer
    was an error, the SDK must have raised its API error for an HTTP status, not a parse failure.
    """
    status = exchange.status or 0
    accepted = exchange.transport_error is None and 200 <= status < 300
    if record.ok:
        return
    if not accepted and record.error_status is not None and record.error_status >= 400:
        return
    if record.error_status == 429:  # the SDK's own call was rate limited: nothing learnt of its parsing
        raise Unjudged("inconclusive", f"{sdk}'s call was refused with 429 (rate limited)", record.evidence())
    what = f"a complete {status} answer" if accepted else f"the request (raw status {exchange.status})"
    raise Finding(
        f"{sdk} failed on {what}: {record.error_class}: {str(record.error_message)[:300]}",
        c.evidence(exchange, sdk_error=record.error_class, client=record.evidence()),
    )


@check("clients.python-sdk.parse", severity=MUST, endpoints=ENDPOINTS)
def python_sdk_parse(exchange: Exchange, *, record: Any = None) -> None:
    """The official Python SDK (strict validation) parses the response, or raises its API error for an error."""
    if record is not None:  # a live call of the same request (compat_suite.clients.run_python)
        _judge_record(exchange, record, "the Python SDK")
    error, seen = replay_in_python(exchange)
    _judge(exchange, error, "the Python SDK", at=byte_of(exchange, seen) if error is not None else None)


@check("clients.python-async-sdk.parse", severity=MUST, endpoints=ENDPOINTS)
def python_async_sdk_parse(exchange: Exchange, *, record: Any = None) -> None:
    """The official async Python SDK (strict validation) parses the response, or raises its API error."""
    if record is not None:  # a live call of the same request (compat_suite.clients.run_python_async)
        _judge_record(exchange, record, "the async Python SDK")
    _judge(exchange, replay_in_async_python(exchange), "the async Python SDK")


# -- Node ---------------------------------------------------------------------------------------------
@check("clients.node-sdk.parse", severity=MUST, endpoints=ENDPOINTS)
def node_sdk_parse(exchange: Exchange, *, record: Any = None, driver_error: str | None = None) -> None:
    """The official Node SDK parses the response, or raises its API error for an error answer."""
    if driver_error:  # the SDK's live calls broke its driver: a finding, never a silent skip
        raise Finding(f"the Node SDK driver failed: {driver_error[:500]}", c.evidence(exchange))
    if record is not None:  # a live call of the same request (compat_suite.clients.run_node)
        _judge_record(exchange, record, "the Node SDK")
    why = node_sdk_unavailable()
    if why:
        raise ClientUnavailable(why)
    verdict = replay_in_node(exchange)
    status = exchange.status or 0
    if verdict.get("ok"):
        if status >= 400:
            raise Finding(
                f"the Node SDK accepted an error answer ({status}) as a result", c.evidence(exchange)
            )
        _judge_node_result(exchange, verdict)
        return
    if verdict.get("api_status_error") and status >= 400:
        return
    if verdict.get("api_error") and has_error_event(exchange):
        return
    at = (
        byte_of(exchange, verdict["seen"])
        if isinstance(verdict.get("seen"), int) and wants_stream(exchange)
        else None
    )
    raise _unparsed(exchange, "the Node SDK", verdict.get("error"), str(verdict.get("message")), at)


def _judge_node_result(exchange: Exchange, verdict: dict[str, Any]) -> None:
    """What the Node SDK handed back for a success: a unary answer parsed into an object (the SDK
    returns the body as a string where it does not take the Content-Type for JSON), and a list with
    as many items as the body holds."""
    parsed = verdict.get("parsed", "object")
    if not wants_stream(exchange) and parsed != "object":
        raise Finding(
            f"the Node SDK handed back the body unparsed (a {parsed}) for Content-Type"
            f" {exchange.content_type!r}",
            c.evidence(exchange, sdk_result=parsed),
        )
    items = verdict.get("items")
    listed = exchange.json.get("data") if isinstance(exchange.json, dict) else None
    if items is not None and isinstance(listed, list) and items != len(listed):
        raise Finding(
            f"the Node SDK listed {items} item(s) where the body holds {len(listed)}",
            c.evidence(exchange, sdk_items=items),
        )


# -- the structured-output helpers (compat_suite.sdk_helpers) -----------------------------------------
def _judge_helpers(exchange: Exchange, record: Any, sdk: str) -> str:
    """The helpers' record beside the raw strict json_schema exchange of the same request: they must
    work where the raw answer was accepted; a 4xx refusal of the request is the target's (the tools
    checks judge it), not the SDK's."""
    if record is None:
        raise Finding(f"{sdk}: no record of the helpers' calls", c.evidence(exchange))
    if record.ok:
        return f"{sdk} parsed every helper's answer"
    if record.error_class in CUT_ANSWER_ERRORS:  # the SDK's documented answer to a cut answer
        return f"{sdk} raised {record.error_class}: the model's answer was cut at max_tokens (behaviour)"
    status = exchange.status or 0
    if record.error_status is not None and 400 <= record.error_status < 500:
        return f"the target refused a helper's request with {record.error_status}: {record.error_message}"[
            :300
        ]
    accepted = exchange.transport_error is None and 200 <= status < 300
    what = "answers to requests the target accepted" if accepted else "the requests"
    raise Finding(
        f"{sdk} failed on {what}: {record.error_class}: {str(record.error_message)[:300]}",
        c.evidence(exchange, sdk_error=record.error_class, client=record.evidence()),
    )


@check("clients.python-sdk.helpers", severity=MUST, endpoints=("chat",))
def python_sdk_helpers(exchange: Exchange, *, record: Any = None) -> str:
    """openai-python's helpers work: `parse` with a pydantic response_format and a `pydantic_function_tool`,
    and the `stream()` helper's accumulated tool call."""
    return _judge_helpers(exchange, record, "openai-python's helpers")


@check("clients.node-sdk.helpers", severity=MUST, endpoints=("chat",))
def node_sdk_helpers(exchange: Exchange, *, record: Any = None) -> str:
    """openai-node's helpers work: `parse` of a strict json_schema and a strict tool, the `stream()`
    helper's final completion, and `runTools` (the tool run, its result sent back)."""
    return _judge_helpers(exchange, record, "openai-node's helpers")
