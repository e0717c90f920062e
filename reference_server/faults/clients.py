"""Faults that fail the clients checks: answers the raw checks accept that one SDK fails to parse."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from ._hooks import choices, on
from ._registry import Fault, Json, default_frame, fault


# A client fault must be a response the raw checks ACCEPT and only that SDK fails on: the client checks
# prove that the SDKs parse everything the suite accepts (a response the raw checks reject would only be
# skipped by the clients suite). tests/clients/test_clients_checks.py proves each against the raw
# checks and all three SDKs.
def _frame_after_retry_block(data: str, event: str | None = None) -> bytes:
    # A block with a field but no data dispatches nothing (WHATWG event-stream interpretation), so
    # the raw reader and the Node SDK skip it; openai-python dispatches it as an event with empty data.
    return b"retry: 3000\n\n" + default_frame(data, event)


def _json_media_type_in_capitals(endpoint: str, headers: dict[str, str]) -> None:
    # Media types are case-insensitive (RFC 9110, 8.3.1); the Node SDK compares them case-sensitively
    # and hands back the body as a string, where openai-python still parses it. Endpoints that never
    # stream: a stream's Content-Type must stay text/event-stream.
    if endpoint in ("embeddings", "model"):
        headers["content-type"] = "Application/JSON"


def _python_sdk(asynchronous: bool) -> Callable[[Mapping[str, str]], bool]:
    """openai-python's own request header tells its sync client (`false`) from its async one."""

    def matches(headers: Mapping[str, str]) -> bool:
        value = headers.get("x-stainless-async")
        return value is not None and (value != "false") == asynchronous

    return matches


def _retry_block(fault_id: str, check: str, asynchronous: bool) -> Fault:
    """The retry-block framing, served to one of openai-python's two clients only."""
    client = "openai-python's async client" if asynchronous else "openai-python's sync client"
    return Fault(
        fault_id,
        check,
        f"a `retry: 3000` block without data before each stream event, for {client} only (valid SSE that"
        " dispatches nothing; openai-python parses it as an empty event)",
        frame=_frame_after_retry_block,
        only_for=_python_sdk(asynchronous),
    )


fault(_retry_block("clients-python-retry-block", "clients.python-sdk.parse", asynchronous=False))
fault(_retry_block("clients-python-async-retry-block", "clients.python-async-sdk.parse", asynchronous=True))
fault(
    Fault(
        "clients-node-json-media-type-case",
        "clients.node-sdk.parse",
        "embeddings and model answers carry `Content-Type: Application/JSON` (valid: media types are"
        " case-insensitive; the Node SDK does not parse it as JSON)",
        headers=_json_media_type_in_capitals,
    )
)


def _helper_of(lang: str) -> Callable[[Mapping[str, str]], bool]:
    """A request one SDK's structured-output helpers sent (`X-Stainless-Helper-Method`)."""

    def matches(headers: Mapping[str, str]) -> bool:
        return headers.get("x-stainless-lang") == lang and "x-stainless-helper-method" in headers

    return matches


def _broken_structures(payload: Json, request: Json) -> Json:
    # What a server that ignores structured output sends: prose for a json_schema answer, cut JSON
    # for a strict tool's arguments (vLLM#10589). Served to one SDK's helper requests only.
    for choice in choices(payload):
        message = choice.get("message") or {}
        for call in message.get("tool_calls") or []:
            call["function"]["arguments"] = '{"city": '
        if not message.get("tool_calls") and isinstance(message.get("content"), str):
            message["content"] = "Alice is thirty and lives in Paris."
    return payload


def _broken_structures_for(fault_id: str, check: str, sdk: str, lang: str) -> Fault:
    """The broken structured outputs, served to one SDK's helper requests only."""
    return Fault(
        fault_id,
        check,
        f"prose for json_schema content and cut JSON for tool arguments, for {sdk}'s helpers only",
        response=on(("chat",), _broken_structures),
        only_for=_helper_of(lang),
    )


fault(
    _broken_structures_for(
        "clients-python-helpers-broken-structures", "clients.python-sdk.helpers", "openai-python", "python"
    )
)
fault(
    _broken_structures_for(
        "clients-node-helpers-broken-structures", "clients.node-sdk.helpers", "openai-node", "js"
    )
)
