"""The reference server's HTTP layer: routes that parse, validate, call the engine and shape.

Request bodies are validated against `schemas/openapi.yaml` (the same document the suite checks
responses with, and the one served at `/openapi.json`); OpenAI's generation semantics live in
`generation/`; every error, router errors included, is OpenAI's error envelope. The active
`FaultSet`'s hooks are called at fixed points so that a fault can change exactly the bytes it means to.

A `gateway` (keys, credits, rate limits) plugs in through two calls: `authorize` once the requested
model is known (before the model check, so that a key bound to one model is served that model when it
asks for "default" or for none), and `settle` once the response, or the stream, has ended; its own
routes (`gateway.routes()`) are mounted beside the API's. Without one, a fixed set of bearer keys
guards every route but `/openapi.json` and model health.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import math
import struct
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

import schemas

from . import _limits as limits
from . import generation as gen
from ._work import ClientGone, CpuWorker, until_disconnected
from .auth import KeyAuth
from .engines.base import Engine
from .errors import APIError
from .faults import FaultSet, request_scope
from .responses import CREATE, DELETE, INPUT_ITEMS, RETRIEVE, ResponsesAPI, ResponseStore

Json = dict[str, Any]
MiB = 1024 * 1024
DEFAULT_MAX_BODY_BYTES = 4 * MiB
MAX_EMBEDDING_INPUTS = limits.MAX_EMBEDDING_INPUTS
PARSE_INLINE_BYTES = 64 * 1024  # larger bodies are parsed and checked on the CPU worker
EMBED_BATCH = 64  # embeddings are computed this many inputs at a time (a disconnect stops between)
PROGRESS_INTERVAL_S = 0.5  # how often a stream's sent tokens are recorded (billed after a crash)
CLIENT_GONE = 499  # logged status of a request whose client went away (nginx's convention)
OWNER = "compat-suite"
logger = logging.getLogger("reference_server")


class Gateway(Protocol):
    """What the app needs from a gateway: permission before serving, an account after. A grant
    with a `headers` dict has those headers added to the response."""

    async def authorize(
        self, request: Request, endpoint: str, model: str | None, *, prompt_tokens: int | None = None
    ) -> Any:
        """Return a grant, or raise `APIError` (401, 402, 403, 429, ...). A grant with a `model`
        names the model to serve (a key bound to one model)."""
        ...

    async def settle(self, grant: Any, usage: Json | None, status: int, latency_ms: float) -> None: ...


@dataclass
class _Call:
    """One request's bookkeeping for the gateway."""

    endpoint: str
    started: float
    grant: Any = None
    authorized: bool = False
    deferred: bool = False  # a stream settles when it ends, not when the route returns
    usage: Json | None = None


Handler = Callable[["_Server", Request, _Call], Awaitable[Response]]


def _endpoint(name: str, *, public: bool = False) -> Callable[[Handler], Callable[[_Server, Request], Any]]:
    """Run a handler with the key check, the error envelope, and the gateway's settle."""

    def wrap(handler: Handler) -> Callable[[_Server, Request], Any]:
        async def route(self: _Server, request: Request) -> Response:
            call = _Call(name, time.perf_counter())
            request_scope(request.headers)  # faults that apply to some clients only look at these
            try:
                if not public:
                    await self.authorize(request, call, None, early=True)
                response = await handler(self, request, call)
            except APIError as exc:
                response = self.error_response(exc, name)
            except (ClientGone, ClientDisconnect):  # nobody to answer; settled with what was produced
                response = Response(status_code=CLIENT_GONE)
            except Exception:
                logger.exception("internal error serving %s", name)
                response = self.error_response(_internal_error(), name)
            grant_headers = getattr(call.grant, "headers", None)  # e.g. a gateway's rate-limit headers
            if isinstance(grant_headers, dict):
                response.headers.update(grant_headers)
            if not call.deferred:
                await self.settle(call, response.status_code)
            return response

        route.__name__ = handler.__name__
        route.__doc__ = handler.__doc__
        return route

    return wrap


class _Server:
    """The routes of one app, over one engine."""

    def __init__(
        self,
        engine: Engine,
        keys: KeyAuth | None,
        faults: FaultSet,
        max_body_bytes: int,
        gateway: Gateway | None,
        authenticate_first: bool = False,
        open_endpoints: Collection[str] = (),
        response_store: ResponseStore | None = None,
    ) -> None:
        self.engine = engine
        self.keys = keys
        self.faults = faults
        self.max_body_bytes = max_body_bytes
        self.gateway = gateway
        self.authenticate_first = authenticate_first
        self.open_endpoints = frozenset(open_endpoints)
        self.created = int(time.time())
        self.responses = ResponsesAPI(response_store or ResponseStore())
        self.cpu = CpuWorker()
        self._background: set[asyncio.Task[None]] = set()  # settles that outlive a cancelled stream

    # -- gateway seam ---------------------------------------------------------------------------
    async def authorize(
        self,
        request: Request,
        call: _Call,
        model: str | None,
        *,
        early: bool = False,
        prompt_tokens: int | None = None,
    ) -> None:
        """Without a gateway: the key check, first thing. With one: its authorize, once the model is
        known (generation routes call this again after parsing); with `authenticate_first`, the key is
        also checked before the body is read (a 401 before a 400, as OpenAI answers)."""
        if call.endpoint in self.open_endpoints:
            return  # served without a key (e.g. a public model list)
        if self.gateway is None:
            if early and self.keys is not None:
                self.keys.check(request)
            return
        if early:
            authenticate = getattr(self.gateway, "authenticate", None)
            if self.authenticate_first and authenticate is not None:
                await authenticate(request)
            return  # each route asks the gateway itself, once it knows the model
        call.grant = await self.gateway.authorize(request, call.endpoint, model, prompt_tokens=prompt_tokens)
        call.authorized = True

    async def settle(self, call: _Call, status: int) -> None:
        if self.gateway is None or not call.authorized:
            return
        latency_ms = (time.perf_counter() - call.started) * 1000.0
        try:
            await self.gateway.settle(call.grant, call.usage, status, latency_ms)
        except Exception:  # the response is already decided; a bookkeeping failure must not change it
            logger.exception("gateway settle failed for %s", call.endpoint)

    async def reserve(self, call: _Call, prompt_tokens: int, completion_tokens: int = 0) -> None:
        """Hold the most a request can cost (its prompt and every token it may generate) before any
        model work, with a gateway that reserves; its settle releases what was not spent."""
        reserve = getattr(self.gateway, "reserve", None)
        if reserve is not None and call.authorized:
            await reserve(call.grant, prompt_tokens, completion_tokens)

    def report_progress(self, call: _Call) -> None:
        """Record how much a stream has sent so far (with a gateway that records it), so that a
        stream cut by a crash is still billed for it. Submitted, not awaited: it never slows a stream."""
        progress = getattr(self.gateway, "progress", None)
        if progress is None or not call.authorized or call.usage is None:
            return
        task = asyncio.get_running_loop().create_task(progress(call.grant, call.usage))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def settle_soon(self, call: _Call, status: int) -> None:
        """Settle in a task of its own, so that a cancelled stream (client gone) still settles."""
        task = asyncio.get_running_loop().create_task(self.settle(call, status))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # -- responses ------------------------------------------------------------------------------
    def json_response(
        self, endpoint: str, payload: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        return self._json(endpoint, _dumps(payload), status, headers)

    async def large_json_response(self, endpoint: str, payload: Any) -> Response:
        """A 200 whose payload may be large (generations, embeddings): encoded on the CPU worker."""
        return self._json(endpoint, await self.cpu.run(_encode, payload))

    def _json(
        self, endpoint: str, content: str | bytes, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        headers = self.faults.headers(endpoint, {"x-request-id": _request_id(), **(headers or {})})
        return Response(content, status_code=status, headers=headers, media_type="application/json")

    def error_response(self, exc: APIError, endpoint: str) -> Response:
        status, envelope = self.faults.error(exc.status, exc.envelope())
        headers = self.faults.error_headers(status, envelope, dict(exc.headers))
        return self.json_response(endpoint, envelope, status, headers)

    # -- request parsing ------------------------------------------------------------------------
    async def read_json(self, request: Request, endpoint: str) -> Json:
        """The body as a JSON object: 415 for another media type, 413 past the size limit, 400 for
        anything that is not a JSON object. Then the fault set's request hook."""
        content_type = request.headers.get("content-type")
        if content_type is not None and not _is_json_media_type(content_type):
            raise APIError(
                415,
                f"Unsupported Content-Type {content_type.split(';')[0]!r}; send application/json.",
                code="unsupported_media_type",
            )
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            raise _too_large(self.max_body_bytes)
        parts, size = [], 0
        async for part in request.stream():
            size += len(part)
            if size > self.max_body_bytes:  # a lying or absent Content-Length
                raise _too_large(self.max_body_bytes)
            parts.append(part)
        raw = b"".join(parts)
        body = await self.cpu.run(_parse_body, raw) if len(raw) > PARSE_INLINE_BYTES else _parse_body(raw)
        return self.faults.request(endpoint, body)

    def validate(self, component: str, body: Json) -> None:
        """400 naming the first parameter the schema rejects (request schemas are closed, so an
        unknown argument is one)."""
        found = schemas.errors(component, body)
        if found:
            first = found[0]
            label = f"'{first.param}'" if first.param else "the request body"
            raise APIError(
                400,
                f"Invalid value for {label}: {_clip(first.message)}",
                param=first.param,
                code=_VALIDATION_CODES.get(first.validator, "invalid_value"),
            )

    def require_model(self, body: Json, kind: str) -> str:
        """The requested model, which must be this engine's model of `kind` (chat or embedding)."""
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise APIError(400, "model must be a non-empty string", param="model")
        wanted, other = (
            (self.engine.model_name, self.engine.embedding_model_name)
            if kind == "chat"
            else (self.engine.embedding_model_name, self.engine.model_name)
        )
        if model == other:
            raise APIError(400, f"The model `{model}` is not a {kind} model; use `{wanted}`.", param="model")
        if model != wanted:
            raise APIError(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                param="model",
                code="model_not_found",
            )
        status = self.engine.status()
        if status != "ready":
            raise APIError(
                503,
                f"The model `{model}` is {status}; try again shortly.",
                code="model_not_ready",
                headers={"retry-after": "5"},
            )
        return model

    async def generation_request(self, request: Request, call: _Call, component: str, kind: str) -> Json:
        body = await self.read_json(request, call.endpoint)
        model = body.get("model") if isinstance(body.get("model"), str) else None
        await self.authorize(request, call, model)
        served = getattr(call.grant, "model", None)
        if (
            isinstance(served, str)
            and served
            and (body.get("model") is None or isinstance(body["model"], str))
        ):
            # a bound key's model, asked for as "default" or not at all; a model of the wrong type is
            # left for validation to refuse
            body = {**body, "model": served}
        if isinstance(body.get("messages"), list):  # before validation, which is as long as the list
            limits.require_messages(len(body["messages"]))
        await self.cpu.run(self.validate, component, body)  # a large body's validation is CPU work
        self.require_model(body, kind)
        return body

    def build_job(self, kind: str, body: Json) -> gen.Job:
        """The generation job of a chat or completions body, within the documented limits. Runs on
        the CPU worker: it tokenizes the whole prompt."""
        if kind == "chat":
            job = gen.chat_job(body, self.engine)
        else:
            job = gen.completion_job(body, self.engine)
        context = getattr(self.engine, "context_length", None)
        for i, ids in enumerate(job.prompts):
            where = "messages" if kind == "chat" else ("prompt" if len(job.prompts) == 1 else f"prompt[{i}]")
            limits.require_context(len(ids), context, where)
        limits.require_completion_budget(len(job.prompts), job.n, job.base.max_tokens)
        return job

    async def run_unary(self, request: Request, call: _Call, job: gen.Job) -> list[gen.ChoiceResult]:
        """Every choice of `job`; cancelled when the client goes away, with the tokens produced
        until then in `call.usage` (billed)."""
        produced = [0] * (len(job.prompts) * job.n)
        try:
            return await until_disconnected(request.receive, gen.run_unary(self.engine, job, produced))
        except ClientGone:
            call.usage = gen.usage(job.prompt_tokens, sum(produced))
            raise

    # -- routes ---------------------------------------------------------------------------------
    @_endpoint("chat")
    async def chat(self, request: Request, call: _Call) -> Response:
        """POST /v1/chat/completions"""
        body = await self.generation_request(request, call, "CreateChatCompletionRequest", "chat")
        job = await self.cpu.run(self.build_job, "chat", body)
        await self.reserve(call, job.prompt_tokens, len(job.prompts) * job.n * job.base.max_tokens)
        if job.stream:
            return self.stream_response(call, body, self._chat_events(job, call, body))
        created, id_ = gen.now(), gen.new_id("chatcmpl")
        results = await self.run_unary(request, call, job)
        payload = await self.cpu.run(gen.chat_body, job, results, id=id_, created=created)
        call.usage = payload["usage"]
        return await self.large_json_response(
            call.endpoint, self.faults.response(call.endpoint, payload, body)
        )

    @_endpoint("completions")
    async def completions(self, request: Request, call: _Call) -> Response:
        """POST /v1/completions"""
        body = await self.generation_request(request, call, "CreateCompletionRequest", "chat")
        job = await self.cpu.run(self.build_job, "completions", body)
        await self.reserve(call, job.prompt_tokens, len(job.prompts) * job.n * job.base.max_tokens)
        if job.stream:
            return self.stream_response(call, body, self._completion_events(job, call, body))
        created, id_ = gen.now(), gen.new_id("cmpl")
        results = await self.run_unary(request, call, job)
        payload = await self.cpu.run(gen.completion_body, job, self.engine, results, id=id_, created=created)
        call.usage = payload["usage"]
        return await self.large_json_response(
            call.endpoint, self.faults.response(call.endpoint, payload, body)
        )

    @_endpoint("embeddings")
    async def embeddings(self, request: Request, call: _Call) -> Response:
        """POST /v1/embeddings"""
        body = await self.generation_request(request, call, "CreateEmbeddingRequest", "embedding")
        inputs = _embedding_inputs(body.get("input"))
        encoding = body.get("encoding_format") or "float"
        if encoding not in ("float", "base64"):
            raise APIError(400, "encoding_format must be 'float' or 'base64'", param="encoding_format")
        full = self.engine.embedding_dimensions()
        dimensions = body.get("dimensions")
        if dimensions is not None and (
            isinstance(dimensions, bool) or not isinstance(dimensions, int) or not 1 <= dimensions <= full
        ):
            raise APIError(400, f"dimensions must be an integer between 1 and {full}", param="dimensions")
        tokens = await self.cpu.run(self.engine.count_embedding_tokens, inputs)
        await self.reserve(call, tokens)
        try:
            vectors = await until_disconnected(request.receive, self._embed(inputs))
        except ClientGone:
            call.usage = {"prompt_tokens": tokens, "total_tokens": tokens}
            raise
        except (IndexError, KeyError, ValueError, OverflowError) as exc:
            if all(isinstance(item, str) for item in inputs):
                raise  # text the engine cannot embed is the server's failure, not the client's
            raise APIError(400, "input holds token ids this model does not know", param="input") from exc
        payload = await self.cpu.run(
            _embeddings_body,
            vectors,
            body["model"],
            tokens,
            encoding,
            dimensions if dimensions != full else None,
        )
        call.usage = payload["usage"]
        return await self.large_json_response(
            call.endpoint, self.faults.response(call.endpoint, payload, body)
        )

    async def _embed(self, inputs: list[str | list[int]]) -> list[list[float]]:
        """The engine's vectors, EMBED_BATCH inputs at a time: cancelling stops between batches."""
        vectors: list[list[float]] = []
        for start in range(0, len(inputs), EMBED_BATCH):
            vectors += await self.engine.embed(inputs[start : start + EMBED_BATCH])
        return vectors

    @_endpoint(CREATE)
    async def create_response(self, request: Request, call: _Call) -> Response:
        """POST /v1/responses"""
        return await self.responses.create(self, request, call)

    @_endpoint(RETRIEVE)
    async def retrieve_response(self, request: Request, call: _Call) -> Response:
        """GET /v1/responses/{response_id}"""
        return await self.responses.retrieve(self, request, call)

    @_endpoint(DELETE)
    async def delete_response(self, request: Request, call: _Call) -> Response:
        """DELETE /v1/responses/{response_id}"""
        return await self.responses.delete(self, request, call)

    @_endpoint(INPUT_ITEMS)
    async def response_input_items(self, request: Request, call: _Call) -> Response:
        """GET /v1/responses/{response_id}/input_items"""
        return await self.responses.input_items(self, request, call)

    @_endpoint("models")
    async def list_models(self, request: Request, call: _Call) -> Response:
        """GET /v1/models"""
        await self.authorize(request, call, None)
        bound = getattr(call.grant, "model", None)  # a key bound to one model lists that model only
        ids = [bound] if isinstance(bound, str) and bound in self._model_ids() else self._model_ids()
        payload = {"object": "list", "data": [self._model(m) for m in ids]}
        return self.json_response(call.endpoint, self.faults.response(call.endpoint, payload, {}))

    @_endpoint("model")
    async def get_model(self, request: Request, call: _Call) -> Response:
        """GET /v1/models/{model}"""
        model = self._known_model(request.path_params["model"])
        await self.authorize(request, call, model)
        return self.json_response(call.endpoint, self.faults.response(call.endpoint, self._model(model), {}))

    @_endpoint("health", public=True)
    async def model_health(self, request: Request, call: _Call) -> Response:
        """GET /v1/models/{model}/health (public, for readiness probes)"""
        model = self._known_model(request.path_params["model"])
        status = self.engine.status()
        model_status = getattr(self.gateway, "model_status", None)
        if model_status is not None:  # the gateway's say (cold start set by its admin API) comes first
            status = model_status(model) or status
        payload = {"model": model, "status": status}
        return self.json_response(call.endpoint, self.faults.response(call.endpoint, payload, {}))

    @_endpoint("openapi", public=True)
    async def openapi(self, request: Request, call: _Call) -> Response:
        """GET /openapi.json: schemas/openapi.yaml, with this server's URL."""
        base = str(request.base_url).rstrip("/")
        document = {**schemas.load_openapi(), "servers": [{"url": f"{base}/v1"}]}
        return self.json_response(call.endpoint, document)

    def _model_ids(self) -> list[str]:
        return list(dict.fromkeys([self.engine.model_name, self.engine.embedding_model_name]))

    def _known_model(self, model: str) -> str:
        if model not in self._model_ids():
            raise APIError(
                404,
                f"The model `{model}` does not exist or you do not have access to it.",
                param="model",
                code="model_not_found",
            )
        return model

    def _model(self, model: str) -> Json:
        return {"id": model, "object": "model", "created": self.created, "owned_by": OWNER}

    # -- streaming ------------------------------------------------------------------------------
    def stream_response(self, call: _Call, body: Json, events: AsyncIterator[bytes]) -> Response:
        call.deferred = True
        headers = {"x-request-id": _request_id(), "cache-control": "no-cache", "x-accel-buffering": "no"}
        headers = self.faults.headers(call.endpoint, headers)
        if self.faults.batch_stream:
            events = _held_back(events)
        return StreamingResponse(events, headers=headers, media_type="text/event-stream")

    def _frame(self, call: _Call, body: Json, chunk: Json, position: int) -> bytes | None:
        shaped = self.faults.chunk(call.endpoint, chunk, position, body)
        return None if shaped is None else self.faults.frame(_dumps(shaped))

    async def _framed(self, call: _Call, body: Json, chunks: AsyncIterator[Json]) -> AsyncIterator[bytes]:
        """Frame each chunk, end with the terminator; an error mid-stream is a last `error` event."""
        status, settled = 200, False
        reported, recorded = -1.0, None  # when progress was last recorded, and what it was
        try:
            position = 0
            async for chunk in chunks:
                frame = self._frame(call, body, chunk, position)
                position += 1
                if frame is not None:
                    yield frame
                    # Sent: recorded (the first time, then every PROGRESS_INTERVAL_S) for the crash case.
                    now = time.monotonic()
                    if call.usage not in (None, recorded) and now - reported >= PROGRESS_INTERVAL_S:
                        self.report_progress(call)
                        reported, recorded = now, call.usage
            # Settled before the terminator: a client that saw [DONE] was logged and debited.
            await self.settle(call, status)
            settled = True
            yield self.faults.terminator()
        except Exception as exc:  # the status line is sent: the error goes in the stream
            if not isinstance(exc, APIError):
                logger.exception("internal error while streaming %s", call.endpoint)
                exc = _internal_error()
            status, envelope = self.faults.error(exc.status, exc.envelope())
            yield self.faults.frame(_dumps(envelope))
        except BaseException:  # the client went away (cancelled): nothing more can be sent
            status = 499
            raise
        finally:
            if not settled:
                self.settle_soon(call, status)

    def _chat_events(self, job: gen.Job, call: _Call, body: Json) -> AsyncIterator[bytes]:
        return self._framed(call, body, self._chat_chunks(job, call))

    async def _chat_chunks(self, job: gen.Job, call: _Call) -> AsyncIterator[Json]:
        id_, created = gen.new_id("chatcmpl"), gen.now()
        count = len(job.prompts) * job.n
        generated = [0] * count

        def chunk(choices: list[Json], usage: Json | None = None) -> Json:
            return gen.chat_chunk(job, choices, id=id_, created=created, usage_=usage)

        streams = [gen.ChatChoiceStream(job) for _ in range(count)]
        for i in range(count):
            yield chunk([gen.chat_delta(i, {"role": "assistant", "content": ""})])
        async for i, piece in gen.run_stream(self.engine, job):
            generated[i] = piece.generated
            call.usage = gen.usage(job.prompt_tokens, sum(generated))
            logprobs = gen.chat_logprobs(piece.tokens) if job.logprobs and piece.tokens else None
            deltas = streams[i].deltas(piece.text)
            if piece.finish_reason:
                last, finish_reason = streams[i].finish(piece.finish_reason)
                deltas += last
            if logprobs is not None and not deltas:  # tokens that showed no text yet (held back)
                deltas = [{"content": ""}]
            for k, delta in enumerate(deltas):
                yield chunk([gen.chat_delta(i, delta, logprobs=logprobs if k == 0 else None)])
            if piece.finish_reason:
                yield chunk([gen.chat_delta(i, {}, finish_reason=finish_reason)])
        if job.include_usage:
            yield chunk([], call.usage)

    def _completion_events(self, job: gen.Job, call: _Call, body: Json) -> AsyncIterator[bytes]:
        return self._framed(call, body, self._completion_chunks(job, call))

    async def _completion_chunks(self, job: gen.Job, call: _Call) -> AsyncIterator[Json]:
        id_, created = gen.new_id("cmpl"), gen.now()
        count = len(job.prompts) * job.n
        generated = [0] * count
        offsets = [0] * count  # characters of each choice's text sent so far (logprobs text_offset)

        def chunk(choices: list[Json], usage: Json | None = None) -> Json:
            return gen.completion_chunk(job, choices, id=id_, created=created, usage_=usage)

        def choice(i: int, text: str, logprobs: Json | None = None, finish: str | None = None) -> Json:
            return {"index": i, "text": text, "logprobs": logprobs, "finish_reason": finish}

        if job.echo_texts is not None:
            for i in range(count):
                prompt = job.echo_texts[i // job.n]
                logprobs = None
                if job.logprobs:
                    logprobs = gen.completion_logprobs([], 0, gen.echo_tokens(job, self.engine, i // job.n))
                offsets[i] = len(prompt)
                yield chunk([choice(i, prompt, logprobs)])
        async for i, piece in gen.run_stream(self.engine, job):
            generated[i] = piece.generated
            call.usage = gen.usage(job.prompt_tokens, sum(generated))
            if piece.text or piece.tokens:
                logprobs = gen.completion_logprobs(piece.tokens, offsets[i]) if job.logprobs else None
                offsets[i] += len(piece.text)
                yield chunk([choice(i, piece.text, logprobs)])
            if piece.finish_reason:
                yield chunk([choice(i, "", None, piece.finish_reason)])
        if job.include_usage:
            yield chunk([], call.usage)


_VALIDATION_CODES = {
    "required": "missing_required_parameter",
    "type": "invalid_type",
    "additionalProperties": "unknown_parameter",
    "unevaluatedProperties": "unknown_parameter",
}


def create_app(
    engine: Engine,
    *,
    api_keys: Sequence[str],
    faults: FaultSet | None = None,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    gateway: Gateway | None = None,
    authenticate_first: bool = False,
    open_endpoints: Collection[str] = (),
    response_store: ResponseStore | None = None,
) -> Starlette:
    """The OpenAI-compatible app over `engine`. Without a `gateway`, `api_keys` guard it.

    With a gateway, `authenticate_first` checks the key before the body is read, and the endpoints
    named in `open_endpoints` (e.g. "models") are served without a key. Stored responses go to
    `response_store`: by default into the gateway's database file, or an in-memory database."""
    if gateway is None and not api_keys:
        raise ValueError("create_app needs api_keys (or a gateway)")
    if max_body_bytes < 1:
        raise ValueError("max_body_bytes must be positive")
    server = _Server(
        engine,
        KeyAuth(api_keys) if api_keys else None,
        faults or FaultSet(),
        max_body_bytes,
        gateway,
        authenticate_first=authenticate_first,
        open_endpoints=open_endpoints,
        response_store=response_store or _default_response_store(gateway),
    )

    def bind(method: Callable[[_Server, Request], Any]) -> Callable[[Request], Any]:
        async def endpoint(request: Request) -> Response:
            return await method(server, request)

        endpoint.__name__ = method.__name__
        return endpoint

    routes = [
        Route("/v1/chat/completions", bind(_Server.chat), methods=["POST"]),
        Route("/v1/completions", bind(_Server.completions), methods=["POST"]),
        Route("/v1/embeddings", bind(_Server.embeddings), methods=["POST"]),
        Route("/v1/responses", bind(_Server.create_response), methods=["POST"]),
        Route("/v1/responses/{response_id}", bind(_Server.retrieve_response), methods=["GET"]),
        Route("/v1/responses/{response_id}", bind(_Server.delete_response), methods=["DELETE"]),
        Route("/v1/responses/{response_id}/input_items", bind(_Server.response_input_items), methods=["GET"]),
        Route("/v1/models", bind(_Server.list_models), methods=["GET"]),
        # Model ids may contain "/" (Hugging Face names), so health is matched first.
        Route("/v1/models/{model:path}/health", bind(_Server.model_health), methods=["GET"]),
        Route("/v1/models/{model:path}", bind(_Server.get_model), methods=["GET"]),
        Route("/v1/openapi.json", bind(_Server.openapi), methods=["GET"]),
        Route("/openapi.json", bind(_Server.openapi), methods=["GET"]),
    ]
    gateway_routes = getattr(gateway, "routes", None)
    if gateway_routes is not None:
        # keys, credits, usage, traces, /admin; the management answers pass through the fault set
        # (read per request, so a swapped set applies), as the API's own answers do.
        routes += gateway_routes(
            shape=lambda endpoint, payload, body: server.faults.response(endpoint, payload, body)
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return server.error_response(_router_error(request, exc), "unknown")

    async def internal_error(request: Request, exc: Exception) -> Response:
        logger.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
        return server.error_response(_internal_error(), "unknown")

    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error, Exception: internal_error})
    app.state.server = server
    return app


def _default_response_store(gateway: Gateway | None) -> ResponseStore:
    """Stored responses beside the gateway's state (its SQLite file), else in memory."""
    path = getattr(getattr(gateway, "store", None), "path", None)
    return ResponseStore(path) if isinstance(path, str) and path != ":memory:" else ResponseStore()


def _router_error(request: Request, exc: HTTPException) -> APIError:
    headers = dict(exc.headers or {})
    if exc.status_code == 404:
        return APIError(
            404,
            f"Unknown request URL: {request.method} {request.url.path}.",
            code="unknown_url",
            headers=headers,
        )
    if exc.status_code == 405:
        allowed = headers.get("Allow") or headers.get("allow") or ""
        return APIError(
            405,
            f"Method {request.method} is not allowed on {request.url.path} (allowed: {allowed}).",
            code="method_not_allowed",
            headers=headers,
        )
    return APIError(exc.status_code, str(exc.detail), headers=headers)


async def _held_back(frames: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """A stream that is not one: every frame held until the end, then sent in one write (a fault)."""
    yield b"".join([frame async for frame in frames])


def _internal_error() -> APIError:
    return APIError(
        500,
        "The server had an error while processing your request.",
        type="server_error",
        code="server_error",
    )


def _too_large(limit: int) -> APIError:
    return APIError(413, f"The request body is larger than {limit} bytes.", code="request_too_large")


def _parse_body(raw: bytes) -> Json:
    """A request body as a JSON object whose every string is Unicode text, or the 400 saying why not."""
    try:
        body = json.loads(raw.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise APIError(
            400,
            "We could not parse the JSON body of your request. The body must be a JSON object.",
            code="invalid_json",
        ) from None
    if not isinstance(body, dict):
        raise APIError(400, "The request body must be a JSON object.", code="invalid_json")
    limits.require_unicode(body)
    return body


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _is_json_media_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


def _dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _encode(payload: Any) -> bytes:
    return _dumps(payload).encode("utf-8")


def _request_id() -> str:
    return "req_" + uuid.uuid4().hex


def _clip(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _embedding_inputs(value: Any) -> list[str | list[int]]:
    """A string, strings, a token array or token arrays, none of them empty."""
    if isinstance(value, str):
        items: list[Any] = [value]
    elif isinstance(value, list) and value and all(_is_token(v) for v in value):
        items = [value]
    elif isinstance(value, list):
        items = value
    else:
        raise APIError(
            400, "input must be a string, an array of strings or an array of token arrays", param="input"
        )
    if not items:
        raise APIError(400, "input must not be empty", param="input")
    if len(items) > MAX_EMBEDDING_INPUTS:
        raise APIError(400, f"input takes at most {MAX_EMBEDDING_INPUTS} items", param="input")
    for i, item in enumerate(items):
        where = "input" if len(items) == 1 and not isinstance(value, list) else f"input[{i}]"
        if isinstance(item, str):
            if not item:
                raise APIError(400, f"{where} must not be an empty string", param=where)
        elif isinstance(item, list) and item and all(_is_token(t) for t in item):
            continue
        else:
            raise APIError(400, f"{where} must be a non-empty string or token array", param=where)
    return items


def _is_token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _embeddings_body(
    vectors: list[list[float]], model: str, tokens: int, encoding: str, dimensions: int | None
) -> Json:
    if dimensions is not None:
        vectors = [_truncate(v, dimensions) for v in vectors]
    return {
        "object": "list",
        "data": [
            {"object": "embedding", "index": i, "embedding": _base64(v) if encoding == "base64" else v}
            for i, v in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }


def _truncate(vector: Sequence[float], dimensions: int) -> list[float]:
    """The first `dimensions` components, scaled back to unit length."""
    head = list(vector[:dimensions])
    norm = math.sqrt(sum(x * x for x in head)) or 1.0
    return [x / norm for x in head]


def _base64(vector: Sequence[float]) -> str:
    """Little-endian float32 bytes, base64: what the openai SDK decodes."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode("ascii")
