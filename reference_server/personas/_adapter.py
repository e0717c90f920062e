"""The persona adapter: ASGI middleware that maps a provider's paths onto the shared app and shapes
what comes back (statuses, unary bodies, stream framing), without touching the app itself.

Written here rather than with a library: it is a path table and three byte-level rewrites, and no
ASGI toolkit offers response-body rewriting that keeps a stream incremental.
"""

from __future__ import annotations

import json
import re
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..errors import APIError
from ._persona import Persona, Route

_GENERATION = ("chat", "completions")
_ADMIN_PREFIX = "/admin/"


class PersonaAdapter:
    """Serves `persona.routes` (and `/admin/*`) from `app`; any other path is a 404 envelope."""

    def __init__(self, app: ASGIApp, persona: Persona, *, max_body_bytes: int, admin: bool = False) -> None:
        self.app = app
        self.admin = admin  # the gateway has an admin key, so /admin/* is served
        self.persona = persona
        self.max_body_bytes = max_body_bytes
        self._table = [(route, *route.compiled()) for route in persona.routes]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if path.startswith(_ADMIN_PREFIX) and self.admin:
            await self.app(scope, receive, send)
            return
        route, params, allowed = self._match(path, method)
        if route is None:
            if allowed:
                error = APIError(
                    405,
                    f"Method {method} is not allowed on {path} (allowed: {', '.join(sorted(allowed))}).",
                    code="method_not_allowed",
                    headers={"allow": ", ".join(sorted(allowed))},
                )
            else:
                error = APIError(404, f"Unknown request URL: {method} {path}.", code="unknown_url")
            await _send_error(send, error)
            return
        target = route.target.format(**params)
        inner = {**scope, "path": target, "raw_path": target.encode("utf-8")}
        if route.endpoint in _GENERATION and self._rewrites_requests:
            receive = await self._rewritten(receive, route.endpoint)
        await self.app(inner, receive, _Shaper(send, self.persona, route.endpoint))

    @property
    def _rewrites_requests(self) -> bool:
        shaping = self.persona.shaping
        return shaping.stream == "off" or shaping.request is not None

    def _match(self, path: str, method: str) -> tuple[Route | None, dict[str, str], set[str]]:
        allowed: set[str] = set()
        for route, regex, _format, convertors in self._table:
            found = regex.match(path)
            if not found:
                continue
            if method not in route.methods and not (method == "HEAD" and "GET" in route.methods):
                allowed.update(route.methods)
                continue
            params = {k: convertors[k].convert(v) for k, v in found.groupdict().items()}
            return route, params, allowed
        return None, {}, allowed

    async def _rewritten(self, receive: Receive, endpoint: str) -> Receive:
        """The request as the persona serves it: the body read (bounded); a stream request served as a
        unary one where the persona does not stream; then the persona's own request rewrite."""
        messages: list[Message] = []
        size, body = 0, bytearray()
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_body_bytes:  # too large to rewrite: the app answers 413 itself
                return _replay(messages, receive)
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        try:  # NaN and Infinity are not JSON: left to the app, which refuses them (a rewrite would hide them)
            payload = json.loads(body, parse_constant=_not_json)
        except (
            ValueError,
            UnicodeDecodeError,
            RecursionError,
        ):  # not JSON (or nested past the parser): the app answers 400
            return _replay(messages, receive)
        if not isinstance(payload, dict):
            return _replay(messages, receive)  # the app answers what is not a JSON object itself
        shaping, original = self.persona.shaping, payload
        if shaping.stream == "off" and payload.get("stream") is True:
            payload = {k: v for k, v in payload.items() if k not in ("stream", "stream_options")}
        if shaping.request is not None:
            payload = shaping.request(endpoint, payload)
        if payload == original:
            return _replay(messages, receive)  # untouched: the bytes as they came
        rewritten = json.dumps(payload).encode("utf-8")
        return _replay([{"type": "http.request", "body": rewritten, "more_body": False}], receive)


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _replay(messages: list[Message], receive: Receive) -> Receive:
    pending = list(messages)

    async def replay() -> Message:
        if pending:
            return pending.pop(0)
        return await receive()

    return replay


async def _send_error(send: Send, error: APIError) -> None:
    body = json.dumps(error.envelope()).encode("utf-8")
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers += [(k.lower().encode(), str(v).encode()) for k, v in error.headers.items()]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class _Shaper:
    """The `send` of one response: maps its status, rewrites a unary JSON body, reframes a stream."""

    def __init__(self, send: Send, persona: Persona, endpoint: str) -> None:
        self.send = send
        self.shaping = persona.shaping
        self.endpoint = endpoint
        self.start: Message | None = None
        self.mode = "pass"  # pass | json (buffer, rewrite) | karta (reframe events)
        self.buffer = bytearray()

    async def __call__(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            await self._on_start(message)
        elif message["type"] == "http.response.body" and self.mode != "pass":
            await self._on_body(message)
        else:
            await self.send(message)

    async def _on_start(self, message: Message) -> None:
        status = self.shaping.status_map.get(message["status"], message["status"])
        message = {**message, "status": status}
        content_type = _header(message, b"content-type")
        if self.shaping.json is not None and status == 200 and content_type.startswith("application/json"):
            self.mode, self.start = "json", message
            return
        if self.shaping.stream == "karta" and content_type.startswith("text/event-stream"):
            self.mode = "karta"
        await self.send(message)

    async def _on_body(self, message: Message) -> None:
        self.buffer += message.get("body", b"")
        more = message.get("more_body", False)
        if self.mode == "json":
            if more:
                return
            await self._send_json()
            return
        frames = _karta_frames(self.buffer, final=not more)
        if frames or not more:
            await self.send({"type": "http.response.body", "body": frames, "more_body": more})

    async def _send_json(self) -> None:
        assert self.start is not None and self.shaping.json is not None
        body = bytes(self.buffer)
        try:
            payload = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            payload = None
        if isinstance(payload, dict):
            body = json.dumps(self.shaping.json(self.endpoint, payload), ensure_ascii=False).encode("utf-8")
        headers = [(k, v) for k, v in self.start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await self.send({**self.start, "headers": headers})
        await self.send({"type": "http.response.body", "body": body, "more_body": False})


def _header(message: Message, name: bytes) -> str:
    for key, value in message.get("headers", []):
        if key.lower() == name:
            return value.decode("latin-1").lower()
    return ""


_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")


def _karta_frames(buffer: bytearray, *, final: bool) -> bytes:
    """Karta's framing of the complete OpenAI events in `buffer` (consumed): `event: chunk` frames
    whose data holds only `choices[].delta`, and `event: [DONE]` / `data: [DONE]` at the end."""
    out = bytearray()
    while True:
        found = _EVENT_END.search(buffer)
        if found is None:
            break
        event = bytes(buffer[: found.start()])
        del buffer[: found.end()]
        out += _karta_event(event)
    if final and buffer.strip():
        out += _karta_event(bytes(buffer))
        buffer.clear()
    return bytes(out)


def _karta_event(event: bytes) -> bytes:
    data = b"\n".join(
        line[5:].lstrip(b" ") for line in event.splitlines() if line.startswith(b"data:")
    ).decode("utf-8", errors="replace")
    if data == "[DONE]":
        return b"event: [DONE]\ndata: [DONE]\n\n"
    try:
        chunk = json.loads(data)
    except ValueError:
        return event + b"\n\n"
    if not isinstance(chunk, dict) or "error" in chunk or not isinstance(chunk.get("choices"), list):
        return event + b"\n\n"  # an error event passes as it is
    out = bytearray()
    for choice in chunk["choices"]:
        delta = choice.get("delta") if isinstance(choice, dict) else None
        content = delta.get("content") if isinstance(delta, dict) else None
        if isinstance(content, str) and content:  # role-only, finish-only and usage chunks have none
            payload = json.dumps({"choices": [{"delta": {"content": content}}]}, ensure_ascii=False)
            out += b"event: chunk\ndata: " + payload.encode("utf-8") + b"\n\n"
    return bytes(out)


__all__ = ["PersonaAdapter"]
