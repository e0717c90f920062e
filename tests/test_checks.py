"""Every check on synthetic exchanges: one input that passes, one that fails (the fault's effect).

Failing inputs are made, wherever the fault is a response/chunk/frame/terminator/headers/error
hook, by running that very hook over the passing input, so the unit test and the fault agree.
"""

from __future__ import annotations

import base64
import copy
import inspect
import json
import struct
from collections.abc import Callable
from typing import Any

import pytest

from compat_suite.checks import Finding, registry, run
from compat_suite.checks._clients import node_sdk_unavailable
from compat_suite.exchange import Exchange, RecordedRequest, StreamExchange
from compat_suite.profiles import ENDPOINTS as PROFILE_ENDPOINTS
from compat_suite.sse import SSEReader
from reference_server.faults import FaultSet, catalog, request_scope

Json = dict[str, Any]
BASE = "http://127.0.0.1:9/v1"
T0 = 1_700_000_000

# -- synthetic exchanges ------------------------------------------------------------------------------
CHAT_REQ: Json = {"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 8}
CHAT: Json = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": T0,
    "model": "m",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "hello there"},
            "finish_reason": "stop",
            "logprobs": None,
        }
    ],
    "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
}
COMP_REQ: Json = {"model": "m", "prompt": "Say", "max_tokens": 8}
COMP: Json = {
    "id": "cmpl-1",
    "object": "text_completion",
    "created": T0,
    "model": "m",
    "choices": [{"index": 0, "text": " hello there", "finish_reason": "stop", "logprobs": None}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3},
}
VECTORS = [[0.6, 0.8, 0.0], [0.0, 0.6, 0.8]]
EMB_REQ: Json = {"model": "e", "input": ["a", "b"]}
EMB: Json = {
    "object": "list",
    "data": [{"object": "embedding", "index": i, "embedding": v} for i, v in enumerate(VECTORS)],
    "model": "e",
    "usage": {"prompt_tokens": 2, "total_tokens": 2},
}
MODEL: Json = {"id": "m", "object": "model", "created": T0, "owned_by": "me"}
MODELS: Json = {"object": "list", "data": [MODEL, {**MODEL, "id": "e"}]}
ERROR: Json = {
    "error": {"message": "bad", "type": "invalid_request_error", "param": "temperature", "code": None}
}
PATHS = {
    "chat": "/chat/completions",
    "completions": "/completions",
    "embeddings": "/embeddings",
    "models": "/models",
}


def exchange(
    endpoint: str,
    request: Json | None,
    payload: Any,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    raw: bytes | None = None,
    url: str | None = None,
) -> Exchange:
    req = RecordedRequest(
        "GET" if request is None else "POST",
        url or BASE + PATHS.get(endpoint, "/" + endpoint),
        {"authorization": "Bearer sk-test-secret-000000"},
        b"" if request is None else json.dumps(request).encode(),
    )
    body = raw if raw is not None else json.dumps(payload).encode()
    return Exchange(
        endpoint,
        req,
        status=status,
        headers=headers or {"content-type": "application/json"},
        body=body,
    )


def chat(payload: Json = CHAT, request: Json = CHAT_REQ, **kw: Any) -> Exchange:
    return exchange("chat", request, payload, **kw)


def comp(payload: Json = COMP, request: Json = COMP_REQ, **kw: Any) -> Exchange:
    return exchange("completions", request, payload, **kw)


def emb(payload: Json = EMB, request: Json = EMB_REQ, **kw: Any) -> Exchange:
    return exchange("embeddings", request, payload, **kw)


def err(status: int = 400, payload: Json = ERROR, **kw: Any) -> Exchange:
    return exchange("chat", CHAT_REQ, payload, status=status, **kw)


def faulty(fault_id: str, endpoint: str, payload: Json, request: Json) -> Json:
    """`payload` as the reference server would answer with the fault active."""
    return FaultSet([fault_id]).response(endpoint, copy.deepcopy(payload), request)


def faulty_error(fault_id: str, status: int, payload: Json) -> Exchange:
    new_status, envelope = FaultSet([fault_id]).error(status, copy.deepcopy(payload))
    return err(new_status, envelope)


def faulty_error_headers(fault_id: str, status: int, payload: Json, headers: dict[str, str]) -> Exchange:
    """An error answer whose headers went through the fault's error-headers hook."""
    new_status, envelope = FaultSet([fault_id]).error(status, copy.deepcopy(payload))
    shaped = FaultSet([fault_id]).error_headers(new_status, envelope, dict(headers))
    return err(new_status, envelope, headers=shaped)


def with_(base: Json, **changes: Any) -> Json:
    return {**copy.deepcopy(base), **changes}


def choice0(base: Json, **changes: Any) -> Json:
    out = copy.deepcopy(base)
    out["choices"][0].update(changes)
    return out


# -- streams: chunks framed as the app frames them, through a FaultSet --------------------------------
def chat_chunks(texts: tuple[str, ...] = ("hello", " there"), usage: bool = True) -> list[Json]:
    def chunk(choices: list[Json], **extra: Any) -> Json:
        return {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": T0,
            "model": "m",
            "choices": choices,
            **extra,
        }

    out = [chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}])]
    out += [chunk([{"index": 0, "delta": {"content": t}, "finish_reason": None}]) for t in texts]
    out.append(chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]))
    if usage:
        out.append(
            chunk(
                [],
                usage={"prompt_tokens": 5, "completion_tokens": len(texts), "total_tokens": 5 + len(texts)},
            )
        )
    return out


def comp_chunks(texts: tuple[str, ...] = (" hello", " there"), usage: bool = True) -> list[Json]:
    def chunk(choices: list[Json], **extra: Any) -> Json:
        return {
            "id": "cmpl-1",
            "object": "text_completion",
            "created": T0,
            "model": "m",
            "choices": choices,
            **extra,
        }

    out = [chunk([{"index": 0, "text": t, "finish_reason": None, "logprobs": None}]) for t in texts]
    out.append(chunk([{"index": 0, "text": "", "finish_reason": "stop", "logprobs": None}]))
    if usage:
        out.append(
            chunk(
                [],
                usage={"prompt_tokens": 1, "completion_tokens": len(texts), "total_tokens": 1 + len(texts)},
            )
        )
    return out


STREAM_OPTS = {"stream": True, "stream_options": {"include_usage": True}}


def stream(
    endpoint: str = "chat",
    chunks: list[Json] | None = None,
    *,
    faults: tuple[str, ...] = (),
    request: Json | None = None,
    content_type: str = "text/event-stream",
    raw: bytes | None = None,
) -> StreamExchange:
    """A streamed exchange: chunks framed through a FaultSet, fed to the real reader frame by frame."""
    fs = FaultSet(faults)
    request_scope(_client_headers(fs))
    request = request or {**(CHAT_REQ if endpoint == "chat" else COMP_REQ), **STREAM_OPTS}
    chunks = chunks if chunks is not None else (chat_chunks() if endpoint == "chat" else comp_chunks())
    frames: list[bytes] = []
    for position, chunk in enumerate(copy.deepcopy(chunks)):
        shaped = fs.chunk(endpoint, chunk, position, request)
        if shaped is not None:
            frames.append(fs.frame(json.dumps(shaped)))
    frames.append(fs.terminator())
    if raw is not None:
        frames = [raw]
    elif fs.batch_stream:
        frames = [b"".join(frames)]
    headers = fs.headers(endpoint, {"content-type": content_type})
    ex = StreamExchange(
        endpoint,
        RecordedRequest("POST", BASE + PATHS[endpoint], {}, json.dumps(request).encode()),
        status=200,
        headers=headers,
    )
    reader = SSEReader()
    for i, frame in enumerate(frames):
        reader.feed(frame, received_ns=1_000_000 * (i + 1))
    reader.close()
    ex.body = b"".join(frames)
    ex.events, ex.problems = list(reader.events), list(reader.problems)
    return ex


def b64(vectors: list[list[float]]) -> Json:
    out = copy.deepcopy(EMB)
    for item, vec in zip(out["data"], vectors, strict=True):
        item["embedding"] = base64.b64encode(struct.pack(f"<{len(vec)}f", *vec)).decode()
    return out


B64_REQ = {**EMB_REQ, "encoding_format": "base64"}

# -- the table: check id -> (passing input, failing input), each (exchanges, context) --------------------
Case = Callable[[], tuple[tuple[Any, ...], Json]]


def one(*exchanges: Any, **ctx: Any) -> Case:
    return lambda: (exchanges, ctx)


def lazy(make: Callable[[], Any], **ctx: Any) -> Case:
    def case() -> tuple[tuple[Any, ...], Json]:
        made = make()
        return (made if isinstance(made, tuple) else (made,)), ctx

    return case


N2_REQ = {**CHAT_REQ, "n": 2}
CHAT_N2 = with_(CHAT, choices=[{**CHAT["choices"][0], "index": i} for i in range(2)])
LOGPROB_CHAT = choice0(
    CHAT,
    logprobs={
        "content": [
            {
                "token": "hello",
                "logprob": -0.1,
                "bytes": [104],
                "top_logprobs": [{"token": "hello", "logprob": -0.1}],
            },
            {
                "token": " there",
                "logprob": -0.2,
                "bytes": None,
                "top_logprobs": [{"token": " there", "logprob": -0.2}],
            },
        ]
    },
)
LOGPROB_REQ = {**CHAT_REQ, "logprobs": True, "top_logprobs": 1}
JSON_REQ = {**CHAT_REQ, "response_format": {"type": "json_object"}}
SEED_REQ = {**CHAT_REQ, "seed": 7, "temperature": 1.0}
SEED_COMP_REQ = {**COMP_REQ, "seed": 7, "temperature": 1.0}
ECHO_REQ = {**COMP_REQ, "echo": True}

# governance: the gateway's management answers and refusals
HEALTH: Json = {"model": "m", "status": "ready"}
LOADING: Json = {"model": "m", "status": "loading"}
RAW_KEY = "inf_new_raw_key_0123456789"
NEW_KEY: Json = {"id": "key_1", "object": "api_key", "prefix": "inf_new", "key": RAW_KEY}
KEY_LIST: Json = {
    "object": "list",
    "data": [{"id": "key_0", "prefix": "inf_old"}, {"id": "key_1", "prefix": "inf_new"}],
}
KEY_REQ: Json = {"name": "ci"}
REVOKED_KEY: Json = {"id": "key_1", "revoked": True}
BALANCE: Json = {"object": "credit_balance", "balance_micros": 1_000_000, "balance": 1.0}
SPENT: Json = {"object": "credit_balance", "balance_micros": 999_993, "balance": 0.999993}
TRANSACTIONS: Json = {
    "object": "list",
    "data": [{"id": 1, "amount_micros": 1_000_000}, {"id": 2, "amount_micros": -7}],
}
USAGE_LOG: Json = {
    "object": "list",
    "data": [{"request_id": "req_1", "prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7,
              "cost_micros": 7, "latency_ms": 12.5}],
}  # fmt: skip


def envelope(code: str, message: str = "refused") -> Json:
    return {"error": {"message": message, "type": "invalid_request_error", "param": None, "code": code}}


JSON_CT = {"content-type": "application/json"}
COLD_HEADERS = {**JSON_CT, "retry-after": "5"}
RATE_HEADERS = {**JSON_CT, "retry-after": "30", "x-ratelimit-limit-requests": "2",
                "x-ratelimit-remaining-requests": "0", "x-ratelimit-reset-requests": "30s"}  # fmt: skip

CASES: dict[str, tuple[Case, Case]] = {
    # chat
    "chat.response.schema": (
        one(chat()),
        lazy(lambda: chat(faulty("chat-schema-role-bot", "chat", CHAT, CHAT_REQ))),
    ),
    "chat.response.object": (
        one(chat()),
        lazy(lambda: chat(faulty("chat-object-wrong", "chat", CHAT, CHAT_REQ))),
    ),
    "chat.response.id": (one(chat()), lazy(lambda: chat(faulty("chat-id-missing", "chat", CHAT, CHAT_REQ)))),
    "chat.response.created": (
        one(chat()),
        lazy(lambda: chat(faulty("chat-created-ms", "chat", CHAT, CHAT_REQ))),
    ),
    "chat.usage.present": (
        one(chat()),
        lazy(lambda: chat(faulty("chat-usage-missing", "chat", CHAT, CHAT_REQ))),
    ),
    "chat.usage.sum": (
        one(chat()),
        lazy(lambda: chat(faulty("chat-usage-sum-off-by-one", "chat", CHAT, CHAT_REQ))),
    ),
    "chat.finish-reason.enum": (
        one(chat()),
        lazy(lambda: chat(faulty("chat-finish-reason-bogus", "chat", CHAT, CHAT_REQ))),
    ),
    "chat.n.indexed": (one(chat(CHAT_N2, N2_REQ)), one(chat(CHAT, N2_REQ))),  # n-ignored: one choice for n=2
    "chat.max-tokens.respected": (
        one(chat()),
        one(chat(with_(CHAT, usage={"prompt_tokens": 5, "completion_tokens": 70, "total_tokens": 75}))),
    ),
    "chat.stop.honoured": (
        one(
            chat(
                request={**CHAT_REQ, "stop": [" there"]},
                payload=choice0(CHAT, message={"role": "assistant", "content": "hello"}),
            )
        ),
        one(chat(request={**CHAT_REQ, "stop": [" there"]})),
    ),
    "chat.seed.determinism": (
        one(chat(request=SEED_REQ), chat(request=SEED_REQ)),
        one(
            chat(request=SEED_REQ),
            chat(choice0(CHAT, message={"role": "assistant", "content": "other"}), SEED_REQ),
        ),
    ),
    "chat.logprobs.valid": (
        one(chat(LOGPROB_CHAT, LOGPROB_REQ)),
        lazy(lambda: chat(faulty("chat-logprobs-positive", "chat", LOGPROB_CHAT, LOGPROB_REQ), LOGPROB_REQ)),
    ),
    "chat.response-format.json": (
        one(chat(choice0(CHAT, message={"role": "assistant", "content": '{"a": 1}'}), JSON_REQ)),
        one(chat(CHAT, JSON_REQ)),
    ),
    # completions
    "completions.response.schema": (
        one(comp()),
        lazy(lambda: comp(faulty("completions-schema-no-logprobs", "completions", COMP, COMP_REQ))),
    ),
    "completions.response.object": (
        one(comp()),
        lazy(lambda: comp(faulty("completions-object-wrong", "completions", COMP, COMP_REQ))),
    ),
    "completions.response.id": (
        one(comp()),
        lazy(lambda: comp(faulty("completions-id-missing", "completions", COMP, COMP_REQ))),
    ),
    "completions.response.created": (
        one(comp()),
        lazy(lambda: comp(faulty("completions-created-ms", "completions", COMP, COMP_REQ))),
    ),
    "completions.usage.present": (
        one(comp()),
        lazy(lambda: comp(faulty("completions-usage-missing", "completions", COMP, COMP_REQ))),
    ),
    "completions.usage.sum": (
        one(comp()),
        lazy(lambda: comp(faulty("completions-usage-sum-off-by-one", "completions", COMP, COMP_REQ))),
    ),
    "completions.finish-reason.enum": (
        one(comp()),
        lazy(lambda: comp(faulty("completions-finish-reason-bogus", "completions", COMP, COMP_REQ))),
    ),
    "completions.n.indexed": (
        one(
            comp(
                with_(COMP, choices=[{**COMP["choices"][0], "index": i} for i in range(3)]),
                {**COMP_REQ, "n": 3},
            )
        ),
        one(comp(COMP, {**COMP_REQ, "n": 3})),
    ),
    "completions.max-tokens.respected": (
        one(comp()),
        one(comp(with_(COMP, usage={"prompt_tokens": 1, "completion_tokens": 9, "total_tokens": 10}))),
    ),
    "completions.stop.honoured": (
        one(comp(choice0(COMP, text=" hello"), {**COMP_REQ, "stop": " there"})),
        one(comp(COMP, {**COMP_REQ, "stop": " there"})),
    ),
    "completions.seed.determinism": (
        one(comp(request=SEED_COMP_REQ), comp(request=SEED_COMP_REQ)),
        one(comp(request=SEED_COMP_REQ), comp(choice0(COMP, text=" other"), SEED_COMP_REQ)),
    ),
    "completions.echo.prefix": (
        one(comp(choice0(COMP, text="Say hello there"), ECHO_REQ)),
        one(comp(COMP, ECHO_REQ)),
    ),
    # embeddings
    "embeddings.response.schema": (
        one(emb()),
        lazy(lambda: emb(faulty("embeddings-schema-model-missing", "embeddings", EMB, EMB_REQ))),
    ),
    "embeddings.response.object": (
        one(emb()),
        lazy(lambda: emb(faulty("embeddings-object-wrong", "embeddings", EMB, EMB_REQ))),
    ),
    "embeddings.usage.present": (
        one(emb()),
        lazy(lambda: emb(faulty("embeddings-usage-missing", "embeddings", EMB, EMB_REQ))),
    ),
    "embeddings.dimensions.consistent": (
        one(emb()),
        lazy(lambda: emb(faulty("embeddings-dimensions-ragged", "embeddings", EMB, EMB_REQ))),
    ),
    "embeddings.order.index": (
        one(emb()),
        lazy(lambda: emb(faulty("embeddings-order-reversed", "embeddings", EMB, EMB_REQ))),
    ),
    "embeddings.base64.equals-float": (
        one(emb(b64(VECTORS), B64_REQ), emb()),
        lazy(
            lambda: (
                emb(faulty("embeddings-base64-big-endian", "embeddings", b64(VECTORS), B64_REQ), B64_REQ),
                emb(),
            )
        ),
    ),
    "embeddings.dimensions.param": (
        one(emb(request={**EMB_REQ, "dimensions": 3})),
        one(emb(request={**EMB_REQ, "dimensions": 2})),  # dimensions-ignored: full-length vectors
    ),
    # models
    "models.list.schema": (
        one(exchange("models", None, MODELS)),
        lazy(lambda: exchange("models", None, faulty("models-list-object-wrong", "models", MODELS, {}))),
    ),
    "models.list.contains-model": (
        one(exchange("models", None, MODELS), model="m", embedding_model="e"),
        lazy(lambda: exchange("models", None, faulty("models-list-empty", "models", MODELS, {})), model="m"),
    ),
    "models.retrieve.schema": (
        one(exchange("model", None, MODEL, url=BASE + "/models/m")),
        lazy(
            lambda: exchange(
                "model",
                None,
                faulty("models-retrieve-owner-missing", "model", MODEL, {}),
                url=BASE + "/models/m",
            )
        ),
    ),
    # streams (chat unless the id is about completions)
    "stream.content-type": (lazy(stream), lazy(lambda: stream(faults=("stream-content-type-json",)))),
    "stream.chunk.schema": (lazy(stream), lazy(lambda: stream(faults=("stream-chunk-model-missing",)))),
    "stream.chunk.object": (
        lazy(lambda: stream("completions")),
        lazy(lambda: stream("completions", faults=("stream-chunk-object-wrong",))),
    ),
    "stream.id.consistent": (lazy(stream), lazy(lambda: stream(faults=("stream-id-changes",)))),
    "stream.created.consistent": (lazy(stream), lazy(lambda: stream(faults=("stream-created-changes",)))),
    "stream.role.first": (lazy(stream), lazy(lambda: stream(faults=("stream-no-role",)))),
    "stream.finish-reason.once-last": (
        lazy(lambda: stream("completions")),
        lazy(lambda: stream("completions", faults=("stream-finish-twice",))),
    ),
    "stream.usage.final-chunk": (lazy(stream), lazy(lambda: stream(faults=("stream-usage-chunk-missing",)))),
    "stream.usage.null-elsewhere": (lazy(stream), lazy(lambda: stream(faults=("stream-usage-every-chunk",)))),
    "stream.done-terminator": (lazy(stream), lazy(lambda: stream(faults=("stream-no-done",)))),
    "stream.sse.utf8": (lazy(stream), lazy(lambda: stream(faults=("stream-invalid-utf8",)))),
    "stream.sse.blank-line": (lazy(stream), lazy(lambda: stream(faults=("stream-missing-blank-line",)))),
    "stream.sse.json-data": (lazy(stream), lazy(lambda: stream(faults=("stream-non-json-data",)))),
    "stream.sse.after-done": (lazy(stream), lazy(lambda: stream(faults=("stream-data-after-done",)))),
    "stream.sse.complete": (lazy(stream), lazy(lambda: stream(faults=("stream-truncated",)))),
    "stream.text.matches-unary": (
        lazy(lambda: (stream(), chat())),
        lazy(lambda: (stream(faults=("stream-text-differs",)), chat())),
    ),
    "stream.error.event": (
        lazy(lambda: stream(chunks=[*chat_chunks()[:2], ERROR])),  # an error in the envelope passes
        lazy(lambda: stream(faults=("stream-error-bare",))),
    ),
    "stream.is-streamed": (lazy(stream), lazy(lambda: stream(faults=("stream-not-streamed",)))),
    # errors
    "errors.envelope": (one(err()), lazy(lambda: faulty_error("errors-no-envelope", 400, ERROR))),
    "errors.status.no-key": (
        one(err(401)),
        lazy(
            lambda: faulty_error(
                "errors-no-key-403",
                401,
                {"error": {**ERROR["error"], "message": "You didn't provide an API key."}},
            )
        ),
    ),
    "errors.status.bad-key": (
        one(err(401)),
        lazy(
            lambda: faulty_error(
                "errors-bad-key-403",
                401,
                {"error": {**ERROR["error"], "message": "Incorrect API key provided."}},
            )
        ),
    ),
    "errors.status.unknown-model": (
        one(err(404)),
        lazy(
            lambda: faulty_error(
                "errors-unknown-model-400", 404, {"error": {**ERROR["error"], "code": "model_not_found"}}
            )
        ),
    ),
    "errors.status.malformed-json": (
        one(err(400)),
        lazy(
            lambda: faulty_error(
                "errors-malformed-json-422", 400, {"error": {**ERROR["error"], "code": "invalid_json"}}
            )
        ),
    ),
    "errors.status.wrong-content-type": (
        one(err(415)),
        lazy(
            lambda: faulty_error(
                "errors-wrong-content-type-400",
                415,
                {"error": {**ERROR["error"], "code": "unsupported_media_type"}},
            )
        ),
    ),
    "errors.status.invalid-param": (
        one(err(400)),
        lazy(
            lambda: faulty_error(
                "errors-invalid-param-422", 400, {"error": {**ERROR["error"], "code": "invalid_value"}}
            )
        ),
    ),
    "errors.status.unknown-path": (
        one(err(404)),
        lazy(
            lambda: faulty_error(
                "errors-unknown-path-200", 404, {"error": {**ERROR["error"], "code": "unknown_url"}}
            )
        ),
    ),
    "errors.status.wrong-method": (
        one(err(405)),
        lazy(
            lambda: faulty_error(
                "errors-wrong-method-404", 405, {"error": {**ERROR["error"], "code": "method_not_allowed"}}
            )
        ),
    ),
    "errors.status.oversized-body": (
        one(err(413)),
        lazy(
            lambda: faulty_error(
                "errors-oversized-body-400", 413, {"error": {**ERROR["error"], "code": "request_too_large"}}
            )
        ),
    ),
    "errors.param.named": (
        one(err(), param="temperature"),
        lazy(lambda: faulty_error("errors-param-missing", 400, ERROR), param="temperature"),
    ),
    "errors.no-5xx-for-client-error": (
        one(err()),
        lazy(
            lambda: faulty_error(
                "errors-500-for-bad-json", 400, {"error": {**ERROR["error"], "code": "invalid_json"}}
            )
        ),
    ),
    # clients
    "clients.python-sdk.parse": (
        lazy(lambda: (stream(),)),
        lazy(lambda: stream(faults=("clients-python-retry-block",))),
    ),
    "clients.python-async-sdk.parse": (
        one(chat()),
        lazy(lambda: stream(faults=("clients-python-async-retry-block",))),
    ),
    "clients.node-sdk.parse": (
        lazy(stream),
        lazy(lambda: client_fault_exchange("clients-node-json-media-type-case")),
    ),
    # governance
    "governance.health.schema": (
        one(exchange("health", None, HEALTH)),
        lazy(lambda: exchange("health", None, faulty("governance-health-no-model", "health", HEALTH, {}))),
    ),
    "governance.health.loading": (
        one(exchange("health", None, LOADING)),
        lazy(
            lambda: exchange("health", None, faulty("governance-health-always-ready", "health", LOADING, {}))
        ),
    ),
    "governance.cold-start.retry-after": (
        one(err(502, envelope("model_loading"), headers=COLD_HEADERS)),
        lazy(
            lambda: faulty_error_headers(
                "governance-cold-start-no-retry-after", 502, envelope("model_loading"), COLD_HEADERS
            )
        ),
    ),
    "governance.keys.create": (
        one(exchange("keys", KEY_REQ, NEW_KEY, status=201), chat(), key_prefix="inf_"),
        lazy(
            lambda: (
                exchange(
                    "keys",
                    KEY_REQ,
                    faulty("governance-keys-no-raw-key", "keys", NEW_KEY, KEY_REQ),
                    status=201,
                ),
                err(401, envelope("invalid_api_key")),
            ),
            key_prefix="inf_",
        ),
    ),
    "governance.keys.list": (
        one(exchange("keys", None, KEY_LIST), key_id="key_1", raw_key=RAW_KEY),
        lazy(
            lambda: exchange("keys", None, faulty("governance-keys-list-empty", "keys", KEY_LIST, {})),
            key_id="key_1",
            raw_key=RAW_KEY,
        ),
    ),
    "governance.keys.revoke": (
        one(exchange("key", None, REVOKED_KEY), err(403, envelope("api_key_revoked")), expected_status=403),
        lazy(
            lambda: (
                exchange("key", None, REVOKED_KEY),
                faulty_error("governance-keys-revoked-still-served", 403, envelope("api_key_revoked")),
            ),
            expected_status=403,
        ),
    ),
    "governance.credits.debited": (
        one(exchange("credits", None, BALANCE), exchange("credits", None, SPENT)),
        lazy(
            lambda: tuple(
                exchange("credits", None, faulty("governance-credits-never-debited", "credits", b, {}))
                for b in (BALANCE, SPENT)
            )
        ),
    ),
    "governance.credits.transactions": (
        one(exchange("credit_transactions", None, TRANSACTIONS)),
        lazy(
            lambda: exchange(
                "credit_transactions",
                None,
                faulty("governance-credits-no-debits-listed", "credit_transactions", TRANSACTIONS, {}),
            )
        ),
    ),
    "governance.usage.logged": (
        one(exchange("usage", None, USAGE_LOG), request_id="req_1", total_tokens=7),
        lazy(
            lambda: exchange("usage", None, faulty("governance-usage-no-latency", "usage", USAGE_LOG, {})),
            request_id="req_1",
            total_tokens=7,
        ),
    ),
    "governance.rate-limit.headers": (
        one(err(429, envelope("rate_limit_exceeded"), headers=RATE_HEADERS)),
        lazy(
            lambda: faulty_error_headers(
                "governance-rate-limit-no-headers", 429, envelope("rate_limit_exceeded"), RATE_HEADERS
            )
        ),
    ),
    # transport
    "transport.complete": (
        one(exchange("models", None, MODELS)),
        lambda: (
            (
                Exchange(
                    "models",
                    RecordedRequest("GET", BASE + "/models", {}),
                    status=200,
                    transport_error="RemoteProtocolError: peer closed connection",
                ),
            ),
            {},
        ),
    ),
    "transport.json-body": (
        one(exchange("models", None, MODELS)),
        one(exchange("models", None, MODELS, headers={"content-type": "text/plain; charset=utf-8"})),
    ),
}


def _needs_node(check_id: str) -> None:
    if check_id == "clients.node-sdk.parse" and node_sdk_unavailable():
        pytest.skip(node_sdk_unavailable())


def test_every_check_has_a_case() -> None:
    assert sorted(CASES) == sorted(registry())


@pytest.mark.parametrize("check_id", sorted(CASES))
def test_check_passes_on_good_input(check_id: str) -> None:
    _needs_node(check_id)
    exchanges, ctx = CASES[check_id][0]()
    outcome = run(check_id, *exchanges, **ctx)
    assert outcome.passed, f"{check_id} failed on good input: {outcome.message}"


@pytest.mark.parametrize("check_id", sorted(CASES))
def test_check_fails_on_fault_effect(check_id: str) -> None:
    _needs_node(check_id)
    exchanges, ctx = CASES[check_id][1]()
    outcome = run(check_id, *exchanges, **ctx)
    assert not outcome.passed, f"{check_id} passed on bad input"
    assert outcome.message
    assert "sk-test-secret" not in json.dumps(outcome.evidence, default=str), "a key leaked into evidence"


# -- hostile input: a Finding, never a crash ---------------------------------------------------------------
HOSTILE_BODIES = [
    b"",
    b"null",
    b"[]",
    b'"x"',
    b"{",
    b"\xff\xfe",
    b'{"choices": {"0": 1}, "usage": "x"}',
    b'{"choices": [null, 3, {"index": [1]}], "data": [1, {"embedding": "!!"}]}',
    b'{"error": 5}',
]


@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=range(len(HOSTILE_BODIES)))
def test_checks_do_not_crash_on_hostile_bodies(body: bytes) -> None:
    for check_id, chk in registry().items():
        if check_id.startswith("clients.node"):
            continue  # a subprocess per body: covered by the unit case above
        endpoint = chk.endpoints[0]
        request = {
            **CHAT_REQ,
            "n": 2,
            "stop": "x",
            "logprobs": True,
            "response_format": {"type": "json_object"},
            "echo": True,
            "dimensions": 2,
            "encoding_format": "base64",
            **STREAM_OPTS,
        }
        ex = exchange(endpoint, request, None, raw=body, status=400)
        args: tuple[Any, ...] = (ex,)
        if check_id.startswith("stream."):
            args = (stream(endpoint, raw=body or b"data: x\n\n", request=request),)
        if check_id in (
            "chat.seed.determinism",
            "completions.seed.determinism",
            "embeddings.base64.equals-float",
            "stream.text.matches-unary",
            "governance.keys.create",
            "governance.keys.revoke",
            "governance.credits.debited",
        ):
            args = (*args, ex)
        ctx = {"model": "m"} if check_id == "models.list.contains-model" else {}
        ctx = {"param": "n"} if check_id == "errors.param.named" else ctx
        ctx = {"key_id": "key_1", "raw_key": RAW_KEY} if check_id == "governance.keys.list" else ctx
        try:
            run(check_id, *args, endpoint=endpoint, **ctx)
        except Finding:  # pragma: no cover - run() turns findings into outcomes
            raise
        except Exception as exc:
            pytest.fail(f"{check_id} crashed on {body!r}: {type(exc).__name__}: {exc}")


def test_transport_failure_reads_as_no_json_body() -> None:
    ex = Exchange(
        "chat", RecordedRequest("POST", BASE + "/chat/completions", {}), transport_error="timed out after 5 s"
    )
    outcome = run("chat.response.object", ex)
    assert not outcome.passed
    assert outcome.message.startswith("no JSON body") and "timed out" in outcome.message


def test_expected_status_from_profile_overrides_default() -> None:
    assert run("errors.status.wrong-content-type", err(400), expected_status=400).passed
    assert not run("errors.status.wrong-content-type", err(400)).passed


def test_completions_batch_prompts_are_indexed_across_prompts() -> None:
    request = {**COMP_REQ, "prompt": ["a", "b"], "n": 2}
    good = with_(COMP, choices=[{**COMP["choices"][0], "index": i} for i in range(4)])
    assert run("completions.n.indexed", comp(good, request)).passed
    assert not run("completions.n.indexed", comp(with_(good, choices=good["choices"][:2]), request)).passed


def _usage(completion_tokens: int) -> Json:
    return {"prompt_tokens": 3, "completion_tokens": completion_tokens, "total_tokens": 3 + completion_tokens}


def test_max_tokens_is_judged_per_choice_across_a_batch_of_prompts() -> None:
    """Three prompts, max_tokens=4: three choices of 4 tokens (12 in all) keep the limit; 13 do not."""
    request = {**COMP_REQ, "prompt": ["a", "b", "c"], "max_tokens": 4}
    choices = [{**COMP["choices"][0], "index": i, "finish_reason": "length"} for i in range(3)]
    full = with_(COMP, choices=choices, usage=_usage(12))
    assert run("completions.max-tokens.respected", comp(full, request)).passed
    outcome = run("completions.max-tokens.respected", comp(with_(full, usage=_usage(13)), request))
    assert not outcome.passed and "x 3 choices" in outcome.message, outcome.message
    token_arrays = {**request, "prompt": [[1, 2], [3], [4, 5]]}  # a batch of token-id prompts, too
    assert run("completions.max-tokens.respected", comp(full, token_arrays)).passed
    # n applies per prompt: 2 prompts x n=2 are 4 choices
    n2 = {**request, "prompt": ["a", "b"], "n": 2}
    four = with_(full, choices=[{**choices[0], "index": i} for i in range(4)], usage=_usage(16))
    assert run("completions.max-tokens.respected", comp(four, n2)).passed
    assert not run("completions.max-tokens.respected", comp(with_(four, usage=_usage(17)), n2)).passed


def test_max_tokens_is_judged_per_choice_where_logprobs_list_the_tokens() -> None:
    """Two choices, max_tokens=2, three tokens in all (within 2 x 2): one choice listing three is over."""

    def entry(token: str) -> Json:
        return {"token": token, "logprob": -0.1, "bytes": None, "top_logprobs": []}

    request = {**LOGPROB_REQ, "n": 2, "max_tokens": 2}
    uneven = with_(
        CHAT,
        choices=[
            {**CHAT["choices"][0], "index": 0, "logprobs": {"content": [entry("a"), entry("b"), entry("c")]}},
            {**CHAT["choices"][0], "index": 1, "logprobs": {"content": []}},
        ],
        usage=_usage(3),
    )
    outcome = run("chat.max-tokens.respected", chat(uneven, request))
    assert not outcome.passed and "choice(s) [0]" in outcome.message, outcome.message
    even = with_(
        uneven, choices=[{**c, "logprobs": {"content": [entry("a")] * 2}} for c in uneven["choices"]]
    )
    assert run("chat.max-tokens.respected", chat(with_(even, usage=_usage(4)), request)).passed

    comp_request = {**COMP_REQ, "max_tokens": 2, "logprobs": 1}
    listed = choice0(COMP, logprobs={"tokens": ["a", "b", "c"], "token_logprobs": [-0.1] * 3})
    assert not run(
        "completions.max-tokens.respected", comp(with_(listed, usage=_usage(2)), comp_request)
    ).passed
    # with echo the prompt's tokens lead the list: the list no longer tells what was generated
    echoed = {**comp_request, "echo": True}
    assert run("completions.max-tokens.respected", comp(with_(listed, usage=_usage(2)), echoed)).passed


# -- clients faults: answers the suite accepts and exactly one SDK fails on ----------------------------------
CLIENT_CHECKS = ("clients.python-sdk.parse", "clients.python-async-sdk.parse", "clients.node-sdk.parse")


# Request headers of the clients a fault may be served to (openai-python sync, async; the Node SDK).
_CLIENT_HEADER_SETS = (
    {"x-stainless-async": "false", "x-stainless-lang": "python"},
    {"x-stainless-async": "async:asyncio", "x-stainless-lang": "python"},
    {"x-stainless-lang": "js"},
)


def _client_headers(fs: FaultSet) -> dict[str, str]:
    """Headers of a client every served fault applies to: the answer that client would get."""
    for headers in _CLIENT_HEADER_SETS:
        if all(f.only_for is None or f.only_for(headers) for f in fs.served):
            return headers
    return {}


def client_fault_exchange(fault_id: str) -> Exchange:
    """The answer a clients fault gives: a stream through its framing, or an embeddings answer with its
    headers (the Node fault's endpoints never stream)."""
    faults = FaultSet([fault_id])
    if any(f.frame for f in faults.served):
        return stream(faults=(fault_id,))
    return emb(headers=faults.headers("embeddings", {"content-type": "application/json"}))


def _raw_failures(exchange: Exchange) -> set[str]:
    """The single-exchange checks (not the clients') that fail on an exchange of its endpoint and kind."""
    streamed = isinstance(exchange, StreamExchange)
    failed = set()
    for check_id, chk in registry().items():
        area = check_id.split(".", 1)[0]
        params = [p for p in inspect.signature(chk.func).parameters.values() if p.default is p.empty]
        if area == "clients" or exchange.endpoint not in chk.endpoints or len(params) != 1:
            continue
        if (area == "stream") != streamed and area != "transport":
            continue
        if not run(check_id, exchange).passed:
            failed.add(check_id)
    return failed


@pytest.mark.parametrize("fault_id", sorted(f for f in catalog() if f.startswith("clients-")))
def test_client_fault_is_an_answer_the_suite_accepts_and_only_its_sdk_fails(fault_id: str) -> None:
    """The client checks prove the SDKs parse whatever the suite accepts, so a client fault must be
    accepted by every raw check the clean answer passes, and fail its own SDK's check and no other."""
    if node_sdk_unavailable():
        pytest.skip(node_sdk_unavailable())
    faulty_exchange = client_fault_exchange(fault_id)
    clean = stream() if isinstance(faulty_exchange, StreamExchange) else emb()
    assert _raw_failures(faulty_exchange) <= _raw_failures(clean), "the raw checks reject the fault's answer"
    failed = {check_id for check_id in CLIENT_CHECKS if not run(check_id, faulty_exchange).passed}
    own = catalog()[fault_id].check
    # openai-python's sync and async clients share one SSE decoder: no answer breaks only one of them.
    # The server serves a Python fault's answer to one client only (`only_for`); the end-to-end
    # self-test proves that exactly that client's check fails.
    python_sdk = {"clients.python-sdk.parse", "clients.python-async-sdk.parse"}
    assert failed == (python_sdk if own in python_sdk else {own}), failed


def test_registered_checks_have_descriptions_and_known_endpoints() -> None:
    known = set(PROFILE_ENDPOINTS)  # the endpoint names profiles use
    for check_id, chk in registry().items():
        assert chk.description and not chk.description.endswith(":"), check_id
        assert set(chk.endpoints) <= known, check_id
