"""A minimal chat server that uses the gateway through the same seam as `reference_server.app`.

It exists so the gateway can be tested and benchmarked in a real process (SIGKILL included)
independently of the full app: chat completions (unary and streamed) on the scripted engine, a
model health route, and the gateway's own routes. Run it with

    python -m reference_server.gateway._testserver --db PATH --port PORT --admin-key KEY
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from ..engines.base import ChatMessage, GenerationRequest
from ..engines.scripted import ScriptedEngine
from ..errors import APIError
from ._config import GatewayConfig
from ._gateway import Gateway
from ._http import error_response, json_object


def build_app(engine: ScriptedEngine, gateway: Gateway, *, prefix: str = "/v1") -> Starlette:
    async def chat(request: Request) -> Response:
        body = await json_object(request, required=True)
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise APIError(400, "messages must be a non-empty list", param="messages")
        try:
            prompt_ids = engine.chat_prompt([ChatMessage(m["role"], m["content"]) for m in messages])
        except (KeyError, TypeError) as exc:
            raise APIError(400, "each message needs a role and a string content", param="messages") from exc
        grant = await gateway.authorize(request, "chat", body.get("model"), prompt_tokens=len(prompt_ids))
        model = grant.model or engine.model_name
        max_tokens = body.get("max_tokens", 16)
        if not isinstance(max_tokens, int) or not 1 <= max_tokens <= 4096:
            await gateway.settle(grant, status=400)
            raise APIError(400, "max_tokens must be an integer in [1, 4096]", param="max_tokens")
        gen = GenerationRequest(prompt_ids=prompt_ids, max_tokens=max_tokens, seed=body.get("seed"))
        created = int(time.time())
        completion_id = f"chatcmpl-{grant.request_id}"
        if body.get("stream"):
            return StreamingResponse(
                _stream(gen, grant, model, completion_id, created),
                media_type="text/event-stream",
                headers=grant.headers,
            )
        text, finish, produced = [], "stop", 0
        async for delta in engine.generate(gen):
            produced += 1
            text.append(delta.text)
            finish = delta.finish_reason or finish
        usage = {"prompt_tokens": len(prompt_ids), "completion_tokens": produced}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        # Settled before the response exists: a client that received a 200 was logged and debited.
        await gateway.settle(grant, usage=usage, status=200)
        payload = {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": "".join(text)},
                    "finish_reason": finish,
                }
            ],
            "usage": usage,
        }
        return JSONResponse(payload, headers=grant.headers)

    async def _stream(
        gen: GenerationRequest, grant: Any, model: str, cid: str, created: int
    ) -> AsyncIterator[bytes]:
        produced, settled = 0, False
        try:
            async for delta in engine.generate(gen):
                produced += 1
                chunk = {
                    "id": cid,
                    "object": "chat.completion.chunk",
                    "created": created,
                    "model": model,
                    "choices": [
                        {"index": 0, "delta": {"content": delta.text}, "finish_reason": delta.finish_reason}
                    ],
                }
                yield f"data: {json.dumps(chunk)}\n\n".encode()
            usage = {"prompt_tokens": len(gen.prompt_ids), "completion_tokens": produced}
            await gateway.settle(grant, usage=usage, status=200)  # before [DONE]: a finished stream is logged
            settled = True
            yield b"data: [DONE]\n\n"
        finally:
            if not settled:  # the client went away: bill what was produced
                await gateway.settle(
                    grant,
                    usage={"prompt_tokens": len(gen.prompt_ids), "completion_tokens": produced},
                    status=499,
                )

    async def health(request: Request) -> Response:
        model = request.path_params["model"]
        return JSONResponse({"model": model, "status": gateway.model_status(model) or engine.status()})

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, APIError)
        return error_response(exc)

    routes = [
        Route(f"{prefix}/chat/completions", chat, methods=["POST"]),
        Route(f"{prefix}/models/{{model:path}}/health", health, methods=["GET"]),
        *gateway.routes(),
    ]
    return Starlette(routes=routes, exception_handlers={APIError: on_api_error})


def main(argv: list[str] | None = None) -> None:
    import uvicorn

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--admin-key", required=True)
    parser.add_argument("--token-delay", type=float, default=0.0, help="seconds per generated token")
    parser.add_argument("--key-prefix", default="sk-")
    args = parser.parse_args(argv)
    gateway = Gateway(
        args.db, GatewayConfig(admin_key=args.admin_key, key_prefix=args.key_prefix, public_prefix="/v1")
    )
    app = build_app(ScriptedEngine(token_delay_s=args.token_delay), gateway)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
