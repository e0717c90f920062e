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

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

import schemas

from . import _limits as limits
from . import generation as gen
from ._embeddings import embedding_inputs, embeddings_body
from ._gateway_seam import Call, Gateway, GatewaySeam
from ._http_errors import exception_handlers, internal_error
from ._models import Models
from ._request_body import read_body, validate
from ._streaming import chat_chunks, completion_chunks, framed, held_back
from ._wire import dumps, encode, request_id
from ._work import ClientGone, CpuWorker, until_disconnected
from .auth import KeyAuth
from .engines.base import Engine
from .errors import APIError
from .faults import FaultSet, request_scope
from .responses import CREATE, DELETE, INPUT_ITEMS, RETRIEVE, ResponsesAPI, ResponseStore

Json = dict[str, Any]
MiB = 1024 * 1024
DEFAULT_MAX_BODY_BYTES = 4 * MiB
EMBED_BATCH = 64  # embeddings are computed this many inputs at a time (a disconnect stops between)
CLIENT_GONE = 499  # logged status of a request whose client went away (nginx's convention)
logger = logging.getLogger("reference_server")


Handler = Callable[["_Server", Request, Call], Awaitable[Response]]


def _endpoint(name: str, *, public: bool = False) -> Callable[[Handler], Callable[[_Server, Request], Any]]:
    """Run a handler with the key check, the error envelope, and the gateway's settle."""

    def wrap(handler: Handler) -> Callable[[_Server, Request], Any]:
        async def route(self: _Server, request: Request) -> Response:
            call = Call(name, time.perf_counter())
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
                response = self.error_response(internal_error(), name)
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


class _Server(GatewaySeam):
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
        super().__init__(keys, gateway, authenticate_first=authenticate_first, open_endpoints=open_endpoints)
        self.engine = engine
        self.faults = faults
        self.max_body_bytes = max_body_bytes
        self.models = Models(engine)
        self.responses = ResponsesAPI(response_store or ResponseStore())
        self.cpu = CpuWorker()

    # -- responses ------------------------------------------------------------------------------
    def json_response(
        self, endpoint: str, payload: Any, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        return self._json(endpoint, dumps(payload), status, headers)

    async def large_json_response(self, endpoint: str, payload: Any) -> Response:
        """A 200 whose payload may be large (generations, embeddings): encoded on the CPU worker."""
        return self._json(endpoint, await self.cpu.run(encode, payload))

    def _json(
        self, endpoint: str, content: str | bytes, status: int = 200, headers: dict[str, str] | None = None
    ) -> Response:
        headers = self.faults.headers(endpoint, {"x-request-id": request_id(), **(headers or {})})
        return Response(content, status_code=status, headers=headers, media_type="application/json")

    def error_response(self, exc: APIError, endpoint: str) -> Response:
        status, envelope = self.faults.error(exc.status, exc.envelope())
        headers = self.faults.error_headers(status, envelope, dict(exc.headers))
        return self.json_response(endpoint, envelope, status, headers)

    # -- request parsing ------------------------------------------------------------------------
    async def read_json(self, request: Request, endpoint: str) -> Json:
        """The body as a JSON object (4xx when it is not one), then the fault set's request hook."""
        body = await read_body(request, self.max_body_bytes, self.cpu)
        return self.faults.request(endpoint, body)

    async def generation_request(self, request: Request, call: Call, component: str, kind: str) -> Json:
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
        await self.cpu.run(validate, component, body)  # a large body's validation is CPU work
        self.models.require(body, kind)
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

    async def run_unary(self, request: Request, call: Call, job: gen.Job) -> list[gen.ChoiceResult]:
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
    async def chat(self, request: Request, call: Call) -> Response:
        """POST /v1/chat/completions"""
        return await self._generate(request, call, "CreateChatCompletionRequest")

    @_endpoint("completions")
    async def completions(self, request: Request, call: Call) -> Response:
        """POST /v1/completions"""
        return await self._generate(request, call, "CreateCompletionRequest")

    async def _generate(self, request: Request, call: Call, component: str) -> Response:
        """A chat or text completion (`call.endpoint` says which), streamed or unary."""
        chat = call.endpoint == "chat"
        body = await self.generation_request(request, call, component, "chat")
        job = await self.cpu.run(self.build_job, call.endpoint, body)
        await self.reserve(call, job.prompt_tokens, len(job.prompts) * job.n * job.base.max_tokens)
        if job.stream:
            chunks = (chat_chunks if chat else completion_chunks)(self.engine, job, call)
            return self.stream_response(call, body, framed(self, self.faults, call, body, chunks))
        created, id_ = gen.now(), gen.new_id("chatcmpl" if chat else "cmpl")
        results = await self.run_unary(request, call, job)
        if chat:
            payload = await self.cpu.run(gen.chat_body, job, results, id=id_, created=created)
        else:
            payload = await self.cpu.run(
                gen.completion_body, job, self.engine, results, id=id_, created=created
            )
        call.usage = payload["usage"]
        return await self.large_json_response(
            call.endpoint, self.faults.response(call.endpoint, payload, body)
        )

    @_endpoint("embeddings")
    async def embeddings(self, request: Request, call: Call) -> Response:
        """POST /v1/embeddings"""
        body = await self.generation_request(request, call, "CreateEmbeddingRequest", "embedding")
        inputs = embedding_inputs(body.get("input"))
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
            embeddings_body,
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
    async def create_response(self, request: Request, call: Call) -> Response:
        """POST /v1/responses"""
        return await self.responses.create(self, request, call)

    @_endpoint(RETRIEVE)
    async def retrieve_response(self, request: Request, call: Call) -> Response:
        """GET /v1/responses/{response_id}"""
        return await self.responses.retrieve(self, request, call)

    @_endpoint(DELETE)
    async def delete_response(self, request: Request, call: Call) -> Response:
        """DELETE /v1/responses/{response_id}"""
        return await self.responses.delete(self, request, call)

    @_endpoint(INPUT_ITEMS)
    async def response_input_items(self, request: Request, call: Call) -> Response:
        """GET /v1/responses/{response_id}/input_items"""
        return await self.responses.input_items(self, request, call)

    @_endpoint("models")
    async def list_models(self, request: Request, call: Call) -> Response:
        """GET /v1/models"""
        await self.authorize(request, call, None)
        bound = getattr(call.grant, "model", None)  # a key bound to one model lists that model only
        ids = [bound] if isinstance(bound, str) and bound in self.models.ids() else self.models.ids()
        payload = {"object": "list", "data": [self.models.card(m) for m in ids]}
        return self.json_response(call.endpoint, self.faults.response(call.endpoint, payload, {}))

    @_endpoint("model")
    async def get_model(self, request: Request, call: Call) -> Response:
        """GET /v1/models/{model}"""
        model = self.models.known(request.path_params["model"])
        await self.authorize(request, call, model)
        return self.json_response(
            call.endpoint, self.faults.response(call.endpoint, self.models.card(model), {})
        )

    @_endpoint("health", public=True)
    async def model_health(self, request: Request, call: Call) -> Response:
        """GET /v1/models/{model}/health (public, for readiness probes)"""
        model = self.models.known(request.path_params["model"])
        status = self.engine.status()
        model_status = getattr(self.gateway, "model_status", None)
        if model_status is not None:  # the gateway's say (cold start set by its admin API) comes first
            status = model_status(model) or status
        payload = {"model": model, "status": status}
        return self.json_response(call.endpoint, self.faults.response(call.endpoint, payload, {}))

    @_endpoint("openapi", public=True)
    async def openapi(self, request: Request, call: Call) -> Response:
        """GET /openapi.json: schemas/openapi.yaml, with this server's URL."""
        base = str(request.base_url).rstrip("/")
        document = {**schemas.load_openapi(), "servers": [{"url": f"{base}/v1"}]}
        return self.json_response(call.endpoint, document)

    # -- streaming ------------------------------------------------------------------------------
    def stream_response(self, call: Call, body: Json, events: AsyncIterator[bytes]) -> Response:
        call.deferred = True
        headers = {"x-request-id": request_id(), "cache-control": "no-cache", "x-accel-buffering": "no"}
        headers = self.faults.headers(call.endpoint, headers)
        if self.faults.batch_stream:
            events = held_back(events)
        return StreamingResponse(events, headers=headers, media_type="text/event-stream")


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

    app = Starlette(routes=routes, exception_handlers=exception_handlers(server.error_response))
    app.state.server = server
    return app


def _default_response_store(gateway: Gateway | None) -> ResponseStore:
    """Stored responses beside the gateway's state (its SQLite file), else in memory."""
    path = getattr(getattr(gateway, "store", None), "path", None)
    return ResponseStore(path) if isinstance(path, str) and path != ":memory:" else ResponseStore()
