"""Synthetic exchanges for the per-area check tests (tests/<area>/test_<area>_checks.py).

Every check is tested on one input that passes and one that fails: the fault's effect. Failing inputs
are made, wherever the fault is a response/chunk/frame/terminator/headers/error hook, by running that
very hook over the passing input, so the unit test and the fault agree. Each area module holds its
`CASES` (check id -> (passing input, failing input)) and gets the two generic tests from `case_tests`;
tests/test_check_cases.py proves every registered check has a case.
"""

from __future__ import annotations

import base64
import copy
import json
import struct
from collections.abc import Callable
from typing import Any

import pytest

from compat_suite.checks import run
from compat_suite.checks.clients import node_sdk_unavailable
from compat_suite.exchange import Exchange, RecordedRequest, StreamExchange
from compat_suite.sse import SSEReader
from reference_server.faults import FaultSet, request_scope

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
    "responses": "/responses",
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
def _chunks(
    chunk_id: str,
    object_name: str,
    choices: list[list[Json]],
    prompt_tokens: int,
    completion_tokens: int,
    usage: bool,
) -> list[Json]:
    """One chunk per choices list, then (where `usage`) the usage chunk that include_usage asks for."""
    head = {"id": chunk_id, "object": object_name, "created": T0, "model": "m"}
    out = [{**head, "choices": c} for c in choices]
    if usage:
        total = prompt_tokens + completion_tokens
        counts = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": total,
        }
        out.append({**head, "choices": [], "usage": counts})
    return out


def chat_chunks(texts: tuple[str, ...] = ("hello", " there"), usage: bool = True) -> list[Json]:
    deltas = [{"role": "assistant", "content": ""}, *({"content": t} for t in texts), {}]
    choices = [[{"index": 0, "delta": d, "finish_reason": None if d else "stop"}] for d in deltas]
    return _chunks("chatcmpl-1", "chat.completion.chunk", choices, 5, len(texts), usage)


def comp_chunks(texts: tuple[str, ...] = (" hello", " there"), usage: bool = True) -> list[Json]:
    ends = [*((t, None) for t in texts), ("", "stop")]
    choices = [[{"index": 0, "text": t, "finish_reason": end, "logprobs": None}] for t, end in ends]
    return _chunks("cmpl-1", "text_completion", choices, 1, len(texts), usage)


STREAM_WITH_USAGE = {"stream": True, "stream_options": {"include_usage": True}}


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
    request = request or {**(CHAT_REQ if endpoint == "chat" else COMP_REQ), **STREAM_WITH_USAGE}
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


def hook_case(
    build: Callable[[Json, Json], Exchange], fault_id: str, payload: Json, request: Json
) -> tuple[Case, Case]:
    """(passing, failing): `payload` as answered, then as the fault's response hook rewrites it."""
    good = build(payload, request)
    return one(good), lazy(lambda: build(faulty(fault_id, good.endpoint, payload, request), request))


def length_case(
    build: Callable[[Json, Json], Exchange], fault_id: str, payload: Json, request: Json
) -> tuple[Case, Case]:
    """(passing, failing) for finish-reason.length: an answer cut at max_tokens=2 says "length", then
    the fault's response hook rewrites it."""
    cut = choice0(
        with_(payload, usage={"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}),
        finish_reason="length",
    )
    return hook_case(build, fault_id, cut, {**request, "max_tokens": 2})


LOGPROB_REQ = {**CHAT_REQ, "logprobs": True, "top_logprobs": 1}
RAW_KEY = "inf_new_raw_key_0123456789"  # a gateway key as created: governance's cases, hostile bodies


def usage_of(completion_tokens: int) -> Json:
    return {"prompt_tokens": 3, "completion_tokens": completion_tokens, "total_tokens": 3 + completion_tokens}


# -- the two tests every area runs over its own CASES ------------------------------------------------------
Cases = dict[str, tuple[Case, Case]]


def _needs_node(check_id: str) -> None:
    if check_id == "clients.node-sdk.parse" and node_sdk_unavailable():
        pytest.skip(node_sdk_unavailable())


def case_tests(cases: Cases) -> tuple[Callable[[str], None], Callable[[str], None]]:
    """(test_check_passes_on_good_input, test_check_fails_on_fault_effect) over `cases`, for an area
    module to bind under those names."""

    @pytest.mark.parametrize("check_id", sorted(cases))
    def test_check_passes_on_good_input(check_id: str) -> None:
        _needs_node(check_id)
        exchanges, ctx = cases[check_id][0]()
        outcome = run(check_id, *exchanges, **ctx)
        assert outcome.passed, f"{check_id} failed on good input: {outcome.message}"

    @pytest.mark.parametrize("check_id", sorted(cases))
    def test_check_fails_on_fault_effect(check_id: str) -> None:
        _needs_node(check_id)
        exchanges, ctx = cases[check_id][1]()
        outcome = run(check_id, *exchanges, **ctx)
        assert not outcome.passed, f"{check_id} passed on bad input"
        assert not outcome.unjudged, f"{check_id} could not judge the bad input: {outcome.message}"
        assert outcome.message, f"{check_id} failed without a message"
        assert "sk-test-secret" not in json.dumps(outcome.evidence, default=str), "a key leaked into evidence"

    return test_check_passes_on_good_input, test_check_fails_on_fault_effect
