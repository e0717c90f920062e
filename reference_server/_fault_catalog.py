"""The catalogue of faults, one or more per check id (registered on import).

Each fault makes one named check fail against the reference server; tests/test_faults_catalog.py
keeps the table complete. Error faults recognise the condition by the envelope's `code` (and,
for the two 401s, which share `invalid_api_key`, by the message), as reference_server/app.py and
auth.py raise them.
"""

from __future__ import annotations

import base64
import random
import re
import struct
from collections.abc import Callable, Mapping
from typing import Any

from .faults import DEFAULT_TERMINATOR, Fault, Json, default_frame, fault

GENERATION = ("chat", "completions")
_ID_VALUE = re.compile(rb'"id":\s*"')
_VALIDATION_CODES = frozenset(
    {"invalid_value", "invalid_type", "missing_required_parameter", "unknown_parameter"}
)


# -- small building blocks ------------------------------------------------------------------------
def _on(endpoints: tuple[str, ...], edit: Any) -> Any:
    """A response hook that applies `edit(payload, request)` only on `endpoints`."""

    def hook(endpoint: str, payload: Json, request: Json) -> Json:
        return edit(payload, request) if endpoint in endpoints else payload

    return hook


def _choices(payload: Json) -> list[Json]:
    items = payload.get("choices")
    return [c for c in items if isinstance(c, dict)] if isinstance(items, list) else []


def _set(key: str, value: Any) -> Any:
    def edit(payload: Json, request: Json) -> Json:
        return {**payload, key: value}

    return edit


def _drop(key: str) -> Any:
    def edit(payload: Json, request: Json) -> Json:
        return {k: v for k, v in payload.items() if k != key}

    return edit


def _request_edit(endpoints: tuple[str, ...], edit: Any) -> Any:
    def hook(endpoint: str, body: Json) -> Json:
        return edit(dict(body)) if endpoint in endpoints else body

    return hook


def _without(*keys: str) -> Any:
    def edit(body: Json) -> Json:
        for key in keys:
            body.pop(key, None)
        return body

    return edit


def _error_when(match: Any, status: int | None = None, edit: Any = None) -> Any:
    """An error hook: where `match(status, error)` holds, change the status and/or the envelope."""

    def hook(old_status: int, envelope: Json) -> tuple[int, Json]:
        error = envelope.get("error") if isinstance(envelope.get("error"), dict) else {}
        if not match(old_status, error):
            return old_status, envelope
        return (status if status is not None else old_status), (edit(envelope) if edit else envelope)

    return hook


def _code(code: str) -> Any:
    return lambda status, error: error.get("code") == code


# -- chat and completions (unary) ------------------------------------------------------------------
def _role_bot(payload: Json, request: Json) -> Json:
    for choice in _choices(payload):
        if isinstance(choice.get("message"), dict):
            choice["message"] = {**choice["message"], "role": "bot"}
    return payload


def _created_ms(payload: Json, request: Json) -> Json:
    return {**payload, "created": int(payload.get("created", 0)) * 1000}


def _usage_off_by_one(payload: Json, request: Json) -> Json:
    usage = payload.get("usage")
    if isinstance(usage, dict) and isinstance(usage.get("total_tokens"), int):
        payload = {**payload, "usage": {**usage, "total_tokens": usage["total_tokens"] + 1}}
    return payload


def _finish_bogus(payload: Json, request: Json) -> Json:
    for choice in _choices(payload):
        choice["finish_reason"] = "done"
    return payload


def _n_one(body: Json) -> Json:
    body["n"] = 1
    return body


def _max_tokens_raised(body: Json) -> Json:
    for name in ("max_tokens", "max_completion_tokens"):
        if isinstance(body.get(name), int):
            body[name] = body[name] * 8 + 64
    return body


def _seed_random(body: Json) -> Json:
    if "seed" in body:
        body["seed"] = random.SystemRandom().randrange(2**31)
    return body


def _logprobs_positive(payload: Json, request: Json) -> Json:
    for choice in _choices(payload):
        logprobs = choice.get("logprobs")
        for entry in logprobs.get("content") or [] if isinstance(logprobs, dict) else []:
            if isinstance(entry, dict) and isinstance(entry.get("logprob"), int | float):
                entry["logprob"] = abs(entry["logprob"]) + 0.5
    return payload


def _completion_no_logprobs_key(payload: Json, request: Json) -> Json:
    for choice in _choices(payload):
        choice.pop("logprobs", None)
    return payload


def _generation_faults(area: str, endpoint: str, object_name: str) -> None:
    on = (endpoint,)
    fault(
        Fault(
            f"{area}-object-wrong",
            f"{area}.response.object",
            f'`object` is "{object_name}s"',
            response=_on(on, _set("object", object_name + "s")),
        )
    )
    fault(Fault(f"{area}-id-missing", f"{area}.response.id", "no `id`", response=_on(on, _drop("id"))))
    fault(
        Fault(
            f"{area}-created-ms",
            f"{area}.response.created",
            "`created` in milliseconds",
            response=_on(on, _created_ms),
        )
    )
    fault(
        Fault(
            f"{area}-usage-missing", f"{area}.usage.present", "no `usage`", response=_on(on, _drop("usage"))
        )
    )
    fault(
        Fault(
            f"{area}-usage-sum-off-by-one",
            f"{area}.usage.sum",
            "total_tokens is one more than the sum",
            response=_on(on, _usage_off_by_one),
        )
    )
    fault(
        Fault(
            f"{area}-finish-reason-bogus",
            f"{area}.finish-reason.enum",
            'finish_reason "done"',
            response=_on(on, _finish_bogus),
        )
    )
    fault(
        Fault(
            f"{area}-n-ignored",
            f"{area}.n.indexed",
            "serves n=1 whatever was asked",
            request=_request_edit(on, _n_one),
        )
    )
    fault(
        Fault(
            f"{area}-max-tokens-ignored",
            f"{area}.max-tokens.respected",
            "raises max_tokens before serving",
            request=_request_edit(on, _max_tokens_raised),
        )
    )
    fault(
        Fault(
            f"{area}-stop-ignored",
            f"{area}.stop.honoured",
            "drops `stop` before serving",
            request=_request_edit(on, _without("stop")),
        )
    )
    fault(
        Fault(
            f"{area}-seed-ignored",
            f"{area}.seed.determinism",
            "replaces `seed` with a random one",
            request=_request_edit(on, _seed_random),
        )
    )


_generation_faults("chat", "chat", "chat.completion")
_generation_faults("completions", "completions", "text_completion")

fault(
    Fault(
        "chat-schema-role-bot",
        "chat.response.schema",
        'message.role is "bot"',
        response=_on(("chat",), _role_bot),
    )
)
fault(
    Fault(
        "chat-logprobs-positive",
        "chat.logprobs.valid",
        "token logprobs above 0",
        response=_on(("chat",), _logprobs_positive),
    )
)
fault(
    Fault(
        "chat-response-format-ignored",
        "chat.response-format.json",
        "drops `response_format` before serving",
        request=_request_edit(("chat",), _without("response_format")),
    )
)
fault(
    Fault(
        "completions-schema-no-logprobs",
        "completions.response.schema",
        "choices lack the `logprobs` key",
        response=_on(("completions",), _completion_no_logprobs_key),
    )
)
fault(
    Fault(
        "completions-echo-ignored",
        "completions.echo.prefix",
        "drops `echo` before serving",
        request=_request_edit(("completions",), _without("echo")),
    )
)


# -- embeddings -----------------------------------------------------------------------------------------
def _items(payload: Json) -> list[Json]:
    data = payload.get("data")
    return [d for d in data if isinstance(d, dict)] if isinstance(data, list) else []


def _ragged(payload: Json, request: Json) -> Json:
    items = _items(payload)
    if items and isinstance(items[-1].get("embedding"), list):
        items[-1]["embedding"] = items[-1]["embedding"][:-1]
    elif items and isinstance(items[-1].get("embedding"), str):
        items[-1]["embedding"] = base64.b64encode(base64.b64decode(items[-1]["embedding"])[:-4]).decode()
    return payload


def _reversed(payload: Json, request: Json) -> Json:
    data = payload.get("data")
    return {**payload, "data": list(reversed(data))} if isinstance(data, list) else payload


def _big_endian(payload: Json, request: Json) -> Json:
    for item in _items(payload):
        if isinstance(item.get("embedding"), str):
            raw = base64.b64decode(item["embedding"])
            values = struct.unpack(f"<{len(raw) // 4}f", raw)
            item["embedding"] = base64.b64encode(struct.pack(f">{len(values)}f", *values)).decode()
    return payload


EMB = ("embeddings",)
fault(
    Fault(
        "embeddings-schema-model-missing",
        "embeddings.response.schema",
        "no `model`",
        response=_on(EMB, _drop("model")),
    )
)
fault(
    Fault(
        "embeddings-object-wrong",
        "embeddings.response.object",
        '`object` is "embeddings"',
        response=_on(EMB, _set("object", "embeddings")),
    )
)
fault(
    Fault(
        "embeddings-usage-missing",
        "embeddings.usage.present",
        "no `usage`",
        response=_on(EMB, _drop("usage")),
    )
)
fault(
    Fault(
        "embeddings-dimensions-ragged",
        "embeddings.dimensions.consistent",
        "the last vector is one value short",
        response=_on(EMB, _ragged),
    )
)
fault(
    Fault(
        "embeddings-order-reversed",
        "embeddings.order.index",
        "data in reverse order",
        response=_on(EMB, _reversed),
    )
)
fault(
    Fault(
        "embeddings-base64-big-endian",
        "embeddings.base64.equals-float",
        "base64 carries big-endian float32",
        response=_on(EMB, _big_endian),
    )
)
fault(
    Fault(
        "embeddings-dimensions-ignored",
        "embeddings.dimensions.param",
        "drops `dimensions` before serving",
        request=_request_edit(EMB, _without("dimensions")),
    )
)

# -- models ---------------------------------------------------------------------------------------------
fault(
    Fault(
        "models-list-object-wrong",
        "models.list.schema",
        'the list\'s `object` is "models"',
        response=_on(("models",), _set("object", "models")),
    )
)
fault(
    Fault(
        "models-list-empty",
        "models.list.contains-model",
        "the list is empty",
        response=_on(("models",), _set("data", [])),
    )
)
fault(
    Fault(
        "models-retrieve-owner-missing",
        "models.retrieve.schema",
        "a model without `owned_by`",
        response=_on(("model",), _drop("owned_by")),
    )
)


# -- streams --------------------------------------------------------------------------------------------
def _chunk_hook(edit: Any, endpoints: tuple[str, ...] = GENERATION) -> Any:
    def hook(endpoint: str, payload: Json, position: int, request: Json) -> Json | None:
        return edit(payload, position) if endpoint in endpoints else payload

    return hook


def _chunk_id_changes(payload: Json, position: int) -> Json:
    return {**payload, "id": f"{payload.get('id')}-{position}"}


def _chunk_created_changes(payload: Json, position: int) -> Json:
    return {**payload, "created": int(payload.get("created", 0)) + position}


def _no_role(payload: Json, position: int) -> Json:
    for choice in _choices(payload):
        if isinstance(choice.get("delta"), dict):
            choice["delta"] = {k: v for k, v in choice["delta"].items() if k != "role"}
    return payload


def _finish_everywhere(payload: Json, position: int) -> Json:
    for choice in _choices(payload):
        choice["finish_reason"] = choice.get("finish_reason") or "stop"
    return payload


def _drop_usage_chunk(payload: Json, position: int) -> Json | None:
    return None if payload.get("choices") == [] and payload.get("usage") else payload


def _usage_everywhere(payload: Json, position: int) -> Json:
    if payload.get("usage"):
        return payload
    return {**payload, "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}}


def _upper_text(payload: Json, position: int) -> Json:
    for choice in _choices(payload):
        delta = choice.get("delta")
        if isinstance(delta, dict) and isinstance(delta.get("content"), str):
            choice["delta"] = {**delta, "content": delta["content"].upper()}
        elif isinstance(choice.get("text"), str):
            choice["text"] = choice["text"].upper()
    return payload


def _bare_error(payload: Json, position: int) -> Json:
    # A mid-stream error as a bare string, not the envelope, after the first content chunk.
    return {"error": "the model crashed"} if position == 2 else payload


def _frame_invalid_utf8(data: str) -> bytes:
    # Inside the id's value, so the JSON still parses once decoded leniently.
    return _ID_VALUE.sub(lambda m: m.group(0) + b"\xff", default_frame(data), count=1)


def _frame_no_blank_line(data: str) -> bytes:
    return default_frame(data)[:-1]


def _frame_broken_json(data: str) -> bytes:
    return default_frame(data) + b"data: {broken\n\n"


def _stream_content_type(endpoint: str, headers: dict[str, str]) -> None:
    # Unary JSON answers are application/json already; only streams change.
    if endpoint in GENERATION:
        headers["content-type"] = "application/json"


fault(
    Fault(
        "stream-content-type-json",
        "stream.content-type",
        "streams served as application/json",
        headers=_stream_content_type,
    )
)
fault(
    Fault(
        "stream-chunk-model-missing",
        "stream.chunk.schema",
        "chunks lack `model`",
        chunk=_chunk_hook(lambda p, pos: {k: v for k, v in p.items() if k != "model"}),
    )
)
fault(
    Fault(
        "stream-chunk-object-wrong",
        "stream.chunk.object",
        'chunks\' `object` is "chat.completion"',
        chunk=_chunk_hook(lambda p, pos: {**p, "object": "chat.completion"}),
    )
)
fault(
    Fault(
        "stream-id-changes",
        "stream.id.consistent",
        "each chunk has its own id",
        chunk=_chunk_hook(_chunk_id_changes),
    )
)
fault(
    Fault(
        "stream-created-changes",
        "stream.created.consistent",
        "`created` ticks per chunk",
        chunk=_chunk_hook(_chunk_created_changes),
    )
)
fault(
    Fault(
        "stream-no-role",
        "stream.role.first",
        "no delta carries `role`",
        chunk=_chunk_hook(_no_role, ("chat",)),
    )
)
fault(
    Fault(
        "stream-finish-twice",
        "stream.finish-reason.once-last",
        "every chunk carries finish_reason",
        chunk=_chunk_hook(_finish_everywhere),
    )
)
fault(
    Fault(
        "stream-usage-chunk-missing",
        "stream.usage.final-chunk",
        "include_usage is ignored",
        chunk=_chunk_hook(_drop_usage_chunk),
    )
)
fault(
    Fault(
        "stream-usage-every-chunk",
        "stream.usage.null-elsewhere",
        "usage on every chunk",
        chunk=_chunk_hook(_usage_everywhere),
    )
)
fault(Fault("stream-no-done", "stream.done-terminator", "no [DONE]", terminator=lambda: b""))
fault(
    Fault(
        "stream-invalid-utf8",
        "stream.sse.utf8",
        "a byte 0xFF inside each chunk's id",
        frame=_frame_invalid_utf8,
    )
)
fault(
    Fault(
        "stream-missing-blank-line",
        "stream.sse.blank-line",
        "events end with one newline, not a blank line",
        frame=_frame_no_blank_line,
    )
)
fault(
    Fault(
        "stream-non-json-data",
        "stream.sse.json-data",
        "a `data: {broken` event after each chunk",
        frame=_frame_broken_json,
    )
)
fault(
    Fault(
        "stream-data-after-done",
        "stream.sse.after-done",
        "an event after [DONE]",
        terminator=lambda: DEFAULT_TERMINATOR + b'data: {"late": true}\n\n',
    )
)
fault(
    Fault(
        "stream-truncated",
        "stream.sse.complete",
        "the stream stops mid-event, with no [DONE]",
        terminator=lambda: b'data: {"id": "cut-off',
    )
)
fault(
    Fault(
        "stream-text-differs",
        "stream.text.matches-unary",
        "streamed text is upper-cased",
        chunk=_chunk_hook(_upper_text),
    )
)
fault(
    Fault(
        "stream-error-bare",
        "stream.error.event",
        "a mid-stream error as a bare string, not the envelope",
        chunk=_chunk_hook(_bare_error),
    )
)
fault(
    Fault(
        "stream-not-streamed",
        "stream.is-streamed",
        "the whole stream is sent in one write",
        batch_stream=True,
    )
)

# -- errors ---------------------------------------------------------------------------------------------
fault(
    Fault(
        "errors-no-envelope",
        "errors.envelope",
        'errors as {"detail": message}',
        error=lambda status, env: (status, {"detail": (env.get("error") or {}).get("message")}),
    )
)
fault(
    Fault(
        "errors-no-key-403",
        "errors.status.no-key",
        "403 for a missing key",
        error=_error_when(lambda s, e: s == 401 and "didn't provide" in str(e.get("message")), 403),
    )
)
fault(
    Fault(
        "errors-bad-key-403",
        "errors.status.bad-key",
        "403 for a wrong key",
        error=_error_when(lambda s, e: s == 401 and "Incorrect" in str(e.get("message")), 403),
    )
)
fault(
    Fault(
        "errors-unknown-model-400",
        "errors.status.unknown-model",
        "400 for an unknown model",
        error=_error_when(_code("model_not_found"), 400),
    )
)
fault(
    Fault(
        "errors-malformed-json-422",
        "errors.status.malformed-json",
        "422 for a body that is not JSON",
        error=_error_when(_code("invalid_json"), 422),
    )
)
fault(
    Fault(
        "errors-500-for-bad-json",
        "errors.no-5xx-for-client-error",
        "500 for a body that is not JSON",
        error=_error_when(_code("invalid_json"), 500),
    )
)
fault(
    Fault(
        "errors-wrong-content-type-400",
        "errors.status.wrong-content-type",
        "400 for a non-JSON content type",
        error=_error_when(_code("unsupported_media_type"), 400),
    )
)
fault(
    Fault(
        "errors-invalid-param-422",
        "errors.status.invalid-param",
        "422 for an invalid parameter",
        error=_error_when(lambda s, e: s == 400 and e.get("code") in _VALIDATION_CODES, 422),
    )
)
fault(
    Fault(
        "errors-unknown-path-200",
        "errors.status.unknown-path",
        "200 for an unknown path",
        error=_error_when(_code("unknown_url"), 200),
    )
)
fault(
    Fault(
        "errors-wrong-method-404",
        "errors.status.wrong-method",
        "404 for a method the path does not allow",
        error=_error_when(_code("method_not_allowed"), 404),
    )
)
fault(
    Fault(
        "errors-oversized-body-400",
        "errors.status.oversized-body",
        "400 for a body over the limit",
        error=_error_when(_code("request_too_large"), 400),
    )
)
fault(
    Fault(
        "errors-param-missing",
        "errors.param.named",
        "400s never name the parameter",
        error=_error_when(lambda s, e: s == 400, edit=lambda env: {"error": {**env["error"], "param": None}}),
    )
)


# -- clients ---------------------------------------------------------------------------------------------------
# A client fault must be a response the raw checks ACCEPT and only that SDK fails on: the client checks
# prove that the SDKs parse everything the suite accepts (a response the raw checks reject would only be
# skipped by the clients suite). tests/test_checks.py proves each against the raw checks and all three SDKs.
def _frame_after_retry_block(data: str) -> bytes:
    # A block with a field but no data dispatches nothing (WHATWG event-stream interpretation), so
    # the raw reader and the Node SDK skip it; openai-python dispatches it as an event with empty data.
    return b"retry: 3000\n\n" + default_frame(data)


def _json_media_type_in_capitals(endpoint: str, headers: dict[str, str]) -> None:
    # Media types are case-insensitive (RFC 9110, 8.3.1); the Node SDK compares them case-sensitively
    # and hands back the body as a string, where openai-python still parses it. Endpoints that never
    # stream: a stream's Content-Type must stay text/event-stream.
    if endpoint in ("embeddings", "model"):
        headers["content-type"] = "Application/JSON"


_RETRY_BLOCK = (
    "a `retry: 3000` block without data before each stream event, for {client} only (valid SSE that"
    " dispatches nothing; openai-python parses it as an empty event)"
)


def _python_sdk(asynchronous: bool) -> Callable[[Mapping[str, str]], bool]:
    """openai-python's own request header tells its sync client (`false`) from its async one."""

    def matches(headers: Mapping[str, str]) -> bool:
        value = headers.get("x-stainless-async")
        return value is not None and (value != "false") == asynchronous

    return matches


fault(
    Fault(
        "clients-python-retry-block",
        "clients.python-sdk.parse",
        _RETRY_BLOCK.format(client="openai-python's sync client"),
        frame=_frame_after_retry_block,
        only_for=_python_sdk(asynchronous=False),
    )
)
fault(
    Fault(
        "clients-python-async-retry-block",
        "clients.python-async-sdk.parse",
        _RETRY_BLOCK.format(client="openai-python's async client"),
        frame=_frame_after_retry_block,
        only_for=_python_sdk(asynchronous=True),
    )
)
fault(
    Fault(
        "clients-node-json-media-type-case",
        "clients.node-sdk.parse",
        "embeddings and model answers carry `Content-Type: Application/JSON` (valid: media types are"
        " case-insensitive; the Node SDK does not parse it as JSON)",
        headers=_json_media_type_in_capitals,
    )
)


# -- transport ------------------------------------------------------------------------------------------------
def _short_body(endpoint: str, headers: dict[str, str]) -> None:
    if endpoint == "models":
        headers["content-length"] = str(1024 * 1024)  # declares far more than is sent


def _json_as_text(endpoint: str, headers: dict[str, str]) -> None:
    if endpoint == "models":
        headers["content-type"] = "text/plain; charset=utf-8"


fault(
    Fault(
        "transport-short-body",
        "transport.complete",
        "/models declares a longer body than it sends",
        headers=_short_body,
    )
)
fault(
    Fault(
        "transport-json-as-text", "transport.json-body", "/models served as text/plain", headers=_json_as_text
    )
)


# -- governance: the gateway's management answers, health and refusals -----------------------------------
def _health_no_model(payload: Json, request: Json) -> Json:
    return {k: v for k, v in payload.items() if k != "model"}


def _created_without_raw_key(payload: Json, request: Json) -> Json:
    return payload if "data" in payload else {k: v for k, v in payload.items() if k != "key"}


def _listed_none(payload: Json, request: Json) -> Json:
    return {**payload, "data": []} if isinstance(payload.get("data"), list) else payload


def _balance_frozen(payload: Json, request: Json) -> Json:
    frozen = {"balance_micros": 10**12, "balance": 10**6}
    return {**payload, **{k: v for k, v in frozen.items() if k in payload}}


def _no_debits(payload: Json, request: Json) -> Json:
    rows = [
        r
        for r in _items(payload)
        if not any(isinstance(v, int | float) and not isinstance(v, bool) and v < 0 for v in r.values())
    ]
    return {**payload, "data": rows}


def _usage_without_latency(payload: Json, request: Json) -> Json:
    rows = [{k: v for k, v in r.items() if "latency" not in k} for r in _items(payload)]
    return {**payload, "data": rows}


def _headers_when(code: str, *names: str) -> Any:
    """An error-headers hook: on the error with `code`, drop the headers `names`."""

    def hook(status: int, envelope: Json, headers: dict[str, str]) -> None:
        error = envelope.get("error") if isinstance(envelope.get("error"), dict) else {}
        if error.get("code") == code:
            for name in list(headers):
                if name.lower() in names:
                    del headers[name]

    return hook


fault(
    Fault(
        "governance-health-no-model",
        "governance.health.schema",
        "model health without the `model` field",
        response=_on(("health",), _health_no_model),
    )
)
fault(
    Fault(
        "governance-health-always-ready",
        "governance.health.loading",
        'model health says "ready" while the model loads',
        response=_on(("health",), _set("status", "ready")),
    )
)
fault(
    Fault(
        "governance-cold-start-no-retry-after",
        "governance.cold-start.retry-after",
        "a cold-start refusal without Retry-After",
        error_headers=_headers_when("model_loading", "retry-after"),
    )
)
fault(
    Fault(
        "governance-keys-no-raw-key",
        "governance.keys.create",
        "creating a key does not return the raw key",
        response=_on(("keys",), _created_without_raw_key),
    )
)
fault(
    Fault(
        "governance-keys-list-empty",
        "governance.keys.list",
        "the key list is empty",
        response=_on(("keys",), _listed_none),
    )
)
fault(
    Fault(
        "governance-keys-revoked-still-served",
        "governance.keys.revoke",
        "a revoked key's requests are answered 200",
        error=_error_when(_code("api_key_revoked"), 200),
    )
)
fault(
    Fault(
        "governance-credits-never-debited",
        "governance.credits.debited",
        "the balance never falls",
        response=_on(("credits",), _balance_frozen),
    )
)
fault(
    Fault(
        "governance-credits-no-debits-listed",
        "governance.credits.transactions",
        "the credit transactions leave out deductions",
        response=_on(("credit_transactions",), _no_debits),
    )
)
fault(
    Fault(
        "governance-usage-no-latency",
        "governance.usage.logged",
        "usage rows without latency",
        response=_on(("usage",), _usage_without_latency),
    )
)
fault(
    Fault(
        "governance-rate-limit-no-headers",
        "governance.rate-limit.headers",
        "a 429 without the x-ratelimit-* headers",
        error_headers=_headers_when(
            "rate_limit_exceeded",
            "x-ratelimit-limit-requests",
            "x-ratelimit-remaining-requests",
            "x-ratelimit-reset-requests",
        ),
    )
)
