"""The Responses API's routes: create (unary or streamed), retrieve, delete, and list input items.

A create is served through the shared generation path (`generation.chat_job`, `run_unary`,
`run_stream`) over the chat conversation `_request.conversation` builds; the answer, streamed or not,
comes from one `EventGrammar`. A stored response (the default, `store` left true) is written to the
`ResponseStore` once it has ended, with its input items and the conversation a follow-up continues.
The app's error envelope, gateway seam and fault hooks apply as on every other route.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response

from .. import generation as gen
from .. import tools as tl
from .._wire import dumps
from ..errors import APIError
from ._request import Conversation, conversation
from ._shape import EventGrammar, new_response_id, skeleton
from ._store import ResponseStore, StoredResponse

Json = dict[str, Any]
CREATE, RETRIEVE, DELETE, INPUT_ITEMS = (
    "responses",
    "responses.retrieve",
    "responses.delete",
    "responses.input_items",
)
MAX_LIST_LIMIT = 100
DEFAULT_LIST_LIMIT = 20
logger = logging.getLogger("reference_server")


class Server(Protocol):
    """What these routes use of the app's server (reference_server.app)."""

    engine: Any
    faults: Any

    async def generation_request(self, request: Request, call: Any, component: str, kind: str) -> Json: ...
    async def authorize(self, request: Request, call: Any, model: str | None) -> None: ...
    async def settle(self, call: Any, status: int) -> None: ...
    def settle_soon(self, call: Any, status: int) -> None: ...
    def json_response(self, endpoint: str, payload: Any, status: int = 200) -> Response: ...
    def stream_response(self, call: Any, body: Json, events: AsyncIterator[bytes]) -> Response: ...


class ResponsesAPI:
    """The four routes over one store."""

    def __init__(self, store: ResponseStore) -> None:
        self.store = store

    # -- create -----------------------------------------------------------------------------------
    async def create(self, server: Server, request: Request, call: Any) -> Response:
        """POST /v1/responses"""
        body = await server.generation_request(request, call, "CreateResponse", "chat")
        owner = _owner(call)
        context = await self._context(body.get("previous_response_id"), owner)
        talk = conversation(body, context)
        try:
            job = gen.chat_job(talk.chat_body, server.engine)
        except APIError as exc:
            raise talk.public_error(exc) from None
        grammar = EventGrammar(
            skeleton(body, response_id=new_response_id(), model=body["model"]),
            obfuscate=(body.get("stream_options") or {}).get("include_obfuscation") is True,
        )
        if body.get("stream") is True:
            events = self._streamed(server, call, body, job, grammar, _Storing(talk, context, owner))
            return server.stream_response(call, body, events)
        result = (await gen.run_unary(server.engine, job))[0]
        text, calls = tl.parse_output(result.text, tools=job.calls, cut=result.finish_reason == "length")
        grammar.text(text)
        for made in calls:
            grammar.call_start(made.id, made.name)
            grammar.call_arguments(made.arguments)
        grammar.finished(result.finish_reason, job.prompt_tokens, result.completion_tokens)
        call.usage = grammar.response["usage"]
        payload = server.faults.response(CREATE, grammar.response, body)
        if body.get("store") is not False:
            await self._store(_Storing(talk, context, owner), payload)
        return server.json_response(CREATE, payload)

    async def _context(self, previous_id: Any, owner: str | None) -> list[Json]:
        """The conversation a follow-up continues: the stored response's context; 404 when it is not
        stored (never was, deleted, or another owner's)."""
        if not isinstance(previous_id, str):
            return []
        stored = await asyncio.to_thread(self.store.get, previous_id, owner)
        if stored is None:
            raise APIError(
                404,
                f"Previous response with id '{previous_id}' not found.",
                param="previous_response_id",
                code="previous_response_not_found",
            )
        return stored.context

    async def _store(self, storing: _Storing, response: Json) -> None:
        talk = storing.conversation
        context = [*storing.context, *talk.input_items, *response.get("output", [])]
        await asyncio.to_thread(self.store.put, storing.owner, response, talk.input_items, context)

    async def _streamed(
        self, server: Server, call: Any, body: Json, job: gen.Job, grammar: EventGrammar, storing: _Storing
    ) -> AsyncIterator[bytes]:
        """The stream's frames; settled before the terminal event; an error after the status line is
        an `error` event and `response.failed`."""
        status, settled, position = 200, False, 0

        def frame(event: Json) -> bytes | None:
            nonlocal position
            shaped = server.faults.chunk(CREATE, event, position, body)
            position += 1
            if shaped is None:
                return None
            kind = shaped.get("type") if isinstance(shaped.get("type"), str) else None
            return server.faults.frame(dumps(shaped), kind)

        try:
            for event in grammar.started():
                if (data := frame(event)) is not None:
                    yield data
            finish, generated = "stop", 0
            parser = tl.CallParser(tools=job.calls)  # the model's text: content, and its function calls
            async for _, piece in gen.run_stream(server.engine, job):
                generated = piece.generated
                call.usage = {"input_tokens": job.prompt_tokens, "output_tokens": generated}
                for event in _written(grammar, parser.feed(piece.text)):
                    if (data := frame(event)) is not None:
                        yield data
                finish = piece.finish_reason or finish
            for event in _written(grammar, parser.finish(cut=finish == "length")):
                if (data := frame(event)) is not None:
                    yield data
            ending = grammar.finished(finish, job.prompt_tokens, generated)
            call.usage = grammar.response["usage"]
            if body.get("store") is not False:
                await self._store(storing, grammar.response)
            await server.settle(call, status)
            settled = True
            for event in ending:
                if (data := frame(event)) is not None:
                    yield data
        except Exception as exc:  # the status line is sent: the error goes in the stream
            if not isinstance(exc, APIError):
                logger.exception("internal error while streaming a response")
                exc = APIError(
                    500, "The server had an error while processing your request.", code="server_error"
                )
            status, envelope = server.faults.error(exc.status, exc.envelope())
            error = envelope.get("error") if isinstance(envelope.get("error"), dict) else {}
            code = error.get("code") or error.get("type") or "server_error"
            failure = grammar.failed(str(code), str(error.get("message", "")), error.get("param"))
            if body.get("store") is not False:  # a failed response is stored too, as failed
                try:
                    await self._store(storing, grammar.response)
                except Exception:
                    logger.exception("could not store a failed response")
            for event in failure:
                if (data := frame(event)) is not None:
                    yield data
        except BaseException:  # the client went away: nothing more can be sent
            status = 499
            raise
        finally:
            if not settled:
                server.settle_soon(call, status)

    # -- stored responses ---------------------------------------------------------------------------
    async def retrieve(self, server: Server, request: Request, call: Any) -> Response:
        """GET /v1/responses/{response_id}"""
        if request.query_params.get("stream") in ("true", "1"):
            raise APIError(
                400,
                "Streaming a stored response again is not supported.",
                param="stream",
                code="unsupported_parameter",
            )
        stored = await self._stored(server, request, call)
        return server.json_response(call.endpoint, server.faults.response(call.endpoint, stored.response, {}))

    async def delete(self, server: Server, request: Request, call: Any) -> Response:
        """DELETE /v1/responses/{response_id}"""
        await server.authorize(request, call, None)
        response_id = request.path_params["response_id"]
        if not await asyncio.to_thread(self.store.delete, response_id, _owner(call)):
            raise _not_found(response_id)
        payload = {"id": response_id, "object": "response", "deleted": True}
        return server.json_response(call.endpoint, server.faults.response(call.endpoint, payload, {}))

    async def input_items(self, server: Server, request: Request, call: Any) -> Response:
        """GET /v1/responses/{response_id}/input_items"""
        limit, order, after = _list_query(request)
        stored = await self._stored(server, request, call)
        items = list(stored.input_items if order == "asc" else reversed(stored.input_items))
        if after is not None:
            ids = [item.get("id") for item in items]
            if after not in ids:
                raise APIError(400, f"No input item with id '{after}' in this response.", param="after")
            items = items[ids.index(after) + 1 :]
        page = items[:limit]
        payload = {
            "object": "list",
            "data": page,
            "has_more": len(items) > limit,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
        }
        return server.json_response(call.endpoint, server.faults.response(call.endpoint, payload, {}))

    async def _stored(self, server: Server, request: Request, call: Any) -> StoredResponse:
        await server.authorize(request, call, None)
        response_id = request.path_params["response_id"]
        stored = await asyncio.to_thread(self.store.get, response_id, _owner(call))
        if stored is None:
            raise _not_found(response_id)
        return stored


class _Storing:
    """What storing a created response needs: its conversation, the context it continued, its owner."""

    def __init__(self, talk: Conversation, context: list[Json], owner: str | None) -> None:
        self.conversation = talk
        self.context = context
        self.owner = owner


def _written(grammar: EventGrammar, outputs: list[tl.OutputEvent]) -> list[Json]:
    """The events for what the call parser read: text for the message, a call's start and arguments."""
    events: list[Json] = []
    for output in outputs:
        if isinstance(output, tl.TextOut):
            events += grammar.text(output.text)
        elif isinstance(output, tl.CallStart):
            events += grammar.call_start(output.id, output.name)
        else:
            events += grammar.call_arguments(output.fragment)
    return events


def _owner(call: Any) -> str | None:
    """The gateway account the request was granted to (responses are per account); None without one."""
    owner = getattr(call.grant, "account_id", None)
    return owner if isinstance(owner, str) else None


def _not_found(response_id: str) -> APIError:
    return APIError(404, f"Response with id '{response_id}' not found.", code="response_not_found")


def _list_query(request: Request) -> tuple[int, str, str | None]:
    query = request.query_params
    raw_limit = query.get("limit", str(DEFAULT_LIST_LIMIT))
    if not raw_limit.isdigit() or not 1 <= int(raw_limit) <= MAX_LIST_LIMIT:
        raise APIError(400, f"limit must be an integer from 1 to {MAX_LIST_LIMIT}", param="limit")
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise APIError(400, "order must be 'asc' or 'desc'", param="order")
    return int(raw_limit), order, query.get("after")
