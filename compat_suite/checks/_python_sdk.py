"""Replaying a recorded answer into openai-python, sync and async: a client whose HTTP transport hands
back the recorded bytes (no socket is opened), the SDK call that matches the exchange, how its result
is consumed, and the tools user's stream accumulator."""

from __future__ import annotations

import asyncio
import concurrent.futures
import inspect
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ..exchange import Exchange, StreamExchange
from . import _common as c
from ._registry import Finding
from ._replay import REPLAY_BASE_URL, path_of, replay_headers, wants_stream

# How the result of `_sdk_call` is consumed: parsed already, a stream of events, a Responses stream
# helper (its events accumulated into the final response), or the first page of a list.
PARSED, STREAM, RESPONSE_STREAM, PAGE = "parsed", "stream", "response-stream", "page"


def _sdk_call(client: Any, exchange: Exchange) -> tuple[Any, str]:
    """Start the SDK call that matches the exchange; (result, how to consume it)."""
    from openai.types import Completion, CreateEmbeddingResponse
    from openai.types.chat import ChatCompletion, ChatCompletionChunk

    path = path_of(exchange)
    request = c.request_body(exchange)
    stream = wants_stream(exchange)
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
        if not wants_stream(exchange):
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
        and path_of(exchange) == "/chat/completions"
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


def _strict(exchange: Exchange) -> bool:
    """Strict validation, except where the SDK's own type is stricter than the API it models.

    Base64 embeddings: the SDK types `embedding` as a list of floats. A completions stream is typed as `Completion`, the unary shape, whose `finish_reason` is
    required; OpenAI's own chunks carry `null` there until the last, so strict mode would fail
    OpenAI itself. Those streams are parsed the way users run the SDK (lenient).
    """
    path, request = path_of(exchange), c.request_body(exchange)
    if path == "/completions" and wants_stream(exchange):
        return False
    # `Embedding.embedding` is typed as a list of floats; a base64 answer is a string there.
    return not (path == "/embeddings" and request.get("encoding_format") == "base64")


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
            exchange.status or 599, headers=replay_headers(exchange), content=exchange.body
        )

    return handle


def replay_in_python(exchange: Exchange) -> tuple[BaseException | None, int]:
    """The sync SDK's error on the recorded answer (None when it parsed it), and the chunks it read and
    accumulated before (on a failure, the event being read is the next one)."""
    import httpx2
    import openai

    http = httpx2.Client(transport=httpx2.MockTransport(_handler(exchange)))
    client = openai.OpenAI(http_client=http, **_replay_options(exchange))
    error: BaseException | None = None
    accumulate = _accumulator(exchange)
    seen = 0

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
    return error, seen


def replay_in_async_python(exchange: Exchange) -> BaseException | None:
    """The async SDK's error on the recorded answer (None when it parsed it)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_async_replay(exchange))
    # called from inside an event loop: run ours on a thread of its own
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _async_replay(exchange)).result(timeout=60)


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
