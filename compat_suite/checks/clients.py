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

import asyncio
import base64
import concurrent.futures
import inspect
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..exchange import Exchange, StreamExchange
from . import _common as c
from ._registry import MUST, Finding, Unjudged, check

ENDPOINTS = ("chat", "completions", "embeddings", "models", "model", "responses")
REPLAY_BASE_URL = "http://recorded.invalid/v1"
NODE_TIMEOUT_S = 30.0
NODE_HARNESS = Path(__file__).with_name("_node_replay.cjs")
NODE_DIR = Path(__file__).resolve().parent.parent / "node"  # driver.mjs, package.json, node_modules
# What both SDKs' parse helpers raise, as documented, for an answer the token limit or a filter cut.
CUT_ANSWER_ERRORS = ("LengthFinishReasonError", "ContentFilterFinishReasonError")
# Hop-by-hop and framing headers describe the original transfer, not the replayed bytes.
_FRAMING_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding", "connection"})


class ClientUnavailable(RuntimeError):
    """The client a check needs is not installed here; not a finding about the target."""


def _path_of(exchange: Exchange) -> str:
    """The request path after the base URL's API root (`/chat/completions`, `/models/x`)."""
    url = exchange.request.url.split("?", 1)[0]
    for marker in ("/responses", "/chat/completions", "/completions", "/embeddings", "/models"):
        at = url.rfind(marker)
        if at >= 0:
            return url[at:]
    return "/" + url.rsplit("/", 1)[-1]


def _replay_headers(exchange: Exchange) -> dict[str, str]:
    return {k: v for k, v in exchange.headers.items() if k.lower() not in _FRAMING_HEADERS}


def _has_error_event(exchange: Exchange) -> bool:
    return isinstance(exchange, StreamExchange) and any(c.is_error_chunk(ch) for ch in exchange.chunks)


def _wants_stream(exchange: Exchange) -> bool:
    return isinstance(exchange, StreamExchange) or c.request_body(exchange).get("stream") is True


# -- Python ---------------------------------------------------------------------------------------
# How the result of `_sdk_call` is consumed: parsed already, a stream of events, a Responses stream
# helper (its events accumulated into the final response), or the first page of a list.
PARSED, STREAM, RESPONSE_STREAM, PAGE = "parsed", "stream", "response-stream", "page"


def _sdk_call(client: Any, exchange: Exchange) -> tuple[Any, str]:
    """Start the SDK call that matches the exchange; (result, how to consume it)."""
    from openai.types import Completion, CreateEmbeddingResponse
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    path = _path_of(exchange)
    request = c.request_body(exchange)
    stream = _wants_stream(exchange)
    if path.startswith("/responses"):
        return _responses_call(client, exchange, path, request)
    if path.startswith("/models"):
        model_id = path[len("/models/") :]
        return (client.models.retrieve(model_id) if model_id else client.models.list()), PARSED
    if path == "/embeddings":
        return client.post(path, cast_to=CreateEmbeddingResponse, body=request), PARSED
    kinds = {
        "/chat/completions": (ChatCompletion, ChatCompletionChunk),
        "/completions": (Completion, Completion),
    }
    if path not in kinds:  # a path the API does not have (the error matrix): a plain SDK request
        return client.post(path, cast_to=object, body=request or None), PARSED
    unary, chunk = kinds[path]
    stream_cls = client._default_stream_cls
    result = client.post(path, cast_to=unary, body=request, stream=stream, stream_cls=stream_cls[chunk])
    return result, STREAM if stream else PARSED


def _responses_call(client: Any, exchange: Exchange, path: str, request: dict[str, Any]) -> tuple[Any, str]:
    """The Responses SDK method for the exchange: create (a stream through the `stream()` helper, which
    accumulates the events as users get them), retrieve, delete, or input_items.list."""
    from openai.types.responses import Response

    response_id, _, tail = path.removeprefix("/responses").strip("/").partition("/")
    if not response_id:
        if not _wants_stream(exchange):
            return client.post("/responses", cast_to=Response, body=request), PARSED
        known = inspect.signature(client.responses.stream).parameters
        params = {k: v for k, v in request.items() if k in known}
        extra = {k: v for k, v in request.items() if k not in known and k != "stream"}
        return client.responses.stream(**params, extra_body=extra or None), RESPONSE_STREAM
    if tail == "input_items":
        order = dict(parse_qsl(urlsplit(exchange.request.url).query)).get("order", "desc")
        return client.responses.input_items.list(response_id, order=order), PAGE
    if exchange.request.method == "DELETE":
        return client.responses.delete(response_id), PARSED
    return client.responses.retrieve(response_id), PARSED


def _consume(result: Any, how: str, take: Callable[[Any], None]) -> None:
    """Let the sync SDK parse all it was handed; `take` sees each chunk of a stream as it is read (None
    for each event of a Responses stream, which the helper accumulates itself). A page: the first page
    only, so that a hostile `has_more` cannot make the SDK ask again and again."""
    if how == STREAM:
        for chunk in result:
            take(chunk)
    elif how == RESPONSE_STREAM:
        with result as events:
            completed = False
            for event in events:
                take(None)
                completed = completed or event.type == "response.completed"
            if completed:
                events.get_final_response()
    elif how == PAGE:
        for _ in result.data:
            pass


async def _consume_async(result: Any, how: str) -> None:
    if how == RESPONSE_STREAM:
        async with result as events:
            kinds = [event.type async for event in events]
            if "response.completed" in kinds:
                await events.get_final_response()
        return
    result = await result
    if how == STREAM:
        async for _ in result:
            pass


def _accumulator(exchange: Exchange) -> Any:
    """What a tools user's client does with each chunk: the SDK's own stream state accumulates the tool
    calls by `index` (the `stream()` helper's code); called with None at the end for the final answer.
    A no-op for other exchanges."""
    request = c.request_body(exchange)
    if not (
        isinstance(exchange, StreamExchange)
        and request.get("tools")
        and _path_of(exchange) == "/chat/completions"
    ):
        return lambda chunk: None
    from openai.lib.streaming.chat import ChatCompletionStreamState

    state = ChatCompletionStreamState(input_tools=request["tools"])
    handled = []

    def accumulate(chunk: Any) -> None:
        if chunk is None:
            if handled:  # no chunk at all is the stream checks' finding, not the accumulator's
                state.get_final_completion()
        else:
            state.handle_chunk(chunk)
            handled.append(True)

    return accumulate


def _byte_of(exchange: Exchange, position: int) -> int | None:
    """The byte offset of the data event an SDK was reading (`position`), or None."""
    if not isinstance(exchange, StreamExchange):
        return None
    events = exchange.data_events
    return events[position].offset if position < len(events) else None


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
        and _has_error_event(exchange)
    ):
        return  # an error event inside a stream: the SDK raises it, as documented
    where = f" at byte {at}" if at is not None else ""
    extra = {"at_byte": at, "around": c.excerpt(exchange.body, at)} if at is not None else {}
    raise Finding(
        f"{sdk} could not parse the response{where}: {type(exc).__name__}: {str(exc)[:300]}",
        c.evidence(exchange, sdk_error=type(exc).__name__, **extra),
    )


def _strict(exchange: Exchange) -> bool:
    """Strict validation, except where the SDK's own type is stricter than the API it models.

    Base64 embeddings: the SDK types `embedding` as a list of floats. A completions stream is typed as `Completion`, the unary shape, whose `finish_reason` is
    required; OpenAI's own chunks carry `null` there until the last, so strict mode would fail
    OpenAI itself. Those streams are parsed the way users run the SDK (lenient).
    """
    path, request = _path_of(exchange), c.request_body(exchange)
    if path == "/completions" and _wants_stream(exchange):
        return False
    # `Embedding.embedding` is typed as a list of floats; a base64 answer is a string there.
    return not (path == "/embeddings" and request.get("encoding_format") == "base64")


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


def _replay_options(exchange: Exchange) -> dict[str, Any]:
    """How an SDK client is made to read one recorded answer: no retries, strict where it can be."""
    return {
        "api_key": "recorded",
        "base_url": REPLAY_BASE_URL,
        "max_retries": 0,
        "_strict_response_validation": _strict(exchange),
    }


def _handler(exchange: Exchange) -> Any:
    import httpx2

    def handle(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            exchange.status or 599, headers=_replay_headers(exchange), content=exchange.body
        )

    return handle


@check("clients.python-sdk.parse", severity=MUST, endpoints=ENDPOINTS)
def python_sdk_parse(exchange: Exchange, *, record: Any = None) -> None:
    """The official Python SDK (strict validation) parses the response, or raises its API error for an error."""
    import httpx2
    import openai

    if record is not None:  # a live call of the same request (compat_suite.clients.run_python)
        _judge_record(exchange, record, "the Python SDK")

    http = httpx2.Client(transport=httpx2.MockTransport(_handler(exchange)))
    client = openai.OpenAI(http_client=http, **_replay_options(exchange))
    error: BaseException | None = None
    accumulate = _accumulator(exchange)
    seen = 0  # chunks read and accumulated: on a failure, the event being read is the next one

    def take(chunk: Any) -> None:
        nonlocal seen
        if chunk is not None:
            accumulate(chunk)
        seen += 1

    try:
        result, how = _sdk_call(client, exchange)
        _consume(result, how, take)
        if how == STREAM:
            accumulate(None)
    except Finding:
        raise
    except Exception as exc:  # the SDK's failure is the finding
        error = exc
    finally:
        client.close()
    _judge(exchange, error, "the Python SDK", at=_byte_of(exchange, seen) if error is not None else None)


@check("clients.python-async-sdk.parse", severity=MUST, endpoints=ENDPOINTS)
def python_async_sdk_parse(exchange: Exchange, *, record: Any = None) -> None:
    """The official async Python SDK (strict validation) parses the response, or raises its API error."""
    if record is not None:  # a live call of the same request (compat_suite.clients.run_python_async)
        _judge_record(exchange, record, "the async Python SDK")
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        error = asyncio.run(_async_replay(exchange))
    else:  # called from inside an event loop: run ours on a thread of its own
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            error = pool.submit(asyncio.run, _async_replay(exchange)).result(timeout=60)
    _judge(exchange, error, "the async Python SDK")


async def _async_replay(exchange: Exchange) -> BaseException | None:
    import httpx2
    import openai

    http = httpx2.AsyncClient(transport=httpx2.MockTransport(_handler(exchange)))
    client = openai.AsyncOpenAI(http_client=http, **_replay_options(exchange))
    try:
        await _consume_async(*_sdk_call(client, exchange))
    except Finding:
        raise
    except Exception as exc:
        return exc
    finally:
        await client.close()
    return None


# -- Node ---------------------------------------------------------------------------------------------
def node_modules_dirs() -> list[Path]:
    """Where the Node SDK is looked for: $COMPAT_NODE_MODULES, then beside the driver (`npm ci` in
    compat_suite/node, as scripts/bootstrap does)."""
    dirs = [Path(p) for p in os.environ.get("COMPAT_NODE_MODULES", "").split(os.pathsep) if p]
    return [*dirs, NODE_DIR / "node_modules"]


def node_sdk_unavailable() -> str | None:
    """Why the Node SDK check cannot run here, or None when it can."""
    if shutil.which("node") is None:
        return "node is not installed"
    if not any((d / "openai" / "package.json").is_file() for d in node_modules_dirs()):
        return "the `openai` npm package is not installed (npm install openai, or set COMPAT_NODE_MODULES)"
    return None


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
    job = {
        "path": _path_of(exchange),
        "method": exchange.request.method,
        "query": dict(parse_qsl(urlsplit(exchange.request.url).query)),
        "body": c.request_body(exchange),
        "stream": _wants_stream(exchange),
        "status": exchange.status or 599,
        "headers": _replay_headers(exchange),
        "response_b64": base64.b64encode(exchange.body).decode(),
        "base_url": REPLAY_BASE_URL,
    }
    env = {**os.environ, "NODE_PATH": os.pathsep.join(str(d) for d in node_modules_dirs())}
    try:
        proc = subprocess.run(
            ["node", str(NODE_HARNESS)],
            input=json.dumps(job),
            capture_output=True,
            text=True,
            timeout=NODE_TIMEOUT_S,
            env=env,
            cwd=NODE_DIR,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise Finding(
            f"the Node SDK did not finish parsing within {NODE_TIMEOUT_S:g} s", c.evidence(exchange)
        ) from None
    try:
        verdict = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise Finding(
            f"the Node SDK harness failed (exit {proc.returncode}): {proc.stderr.strip()[-500:]}",
            c.evidence(exchange),
        ) from None
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
    if verdict.get("api_error") and _has_error_event(exchange):
        return
    at = (
        _byte_of(exchange, verdict["seen"])
        if isinstance(verdict.get("seen"), int) and _wants_stream(exchange)
        else None
    )
    where = f" at byte {at}" if at is not None else ""
    extra = {"at_byte": at, "around": c.excerpt(exchange.body, at)} if at is not None else {}
    raise Finding(
        f"the Node SDK could not parse the response{where}: {verdict.get('error')}: {str(verdict.get('message'))[:300]}",
        c.evidence(exchange, sdk_error=verdict.get("error"), **extra),
    )


def _judge_node_result(exchange: Exchange, verdict: dict[str, Any]) -> None:
    """What the Node SDK handed back for a success: a unary answer parsed into an object (the SDK
    returns the body as a string where it does not take the Content-Type for JSON), and a list with
    as many items as the body holds."""
    parsed = verdict.get("parsed", "object")
    if not _wants_stream(exchange) and parsed != "object":
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
