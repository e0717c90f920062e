"""The load client: one LLM request, timed where its bytes arrive, its raw answer kept to be judged.

Timing comes from `_http` (the kernel's arrival stamps, the send time taken as the request's bytes
go out). On the hot path each stream is read with the suite's strict SSE reader and only what the
metrics need is taken from its events; conformance is judged after the run, on the captured bytes
(`_judge`), so a deviation (no `[DONE]`, no finish_reason, a malformed event) never costs a
request its timings. Requests that fail outright (an HTTP error status, a reset, a timeout, an
error event inside the stream) are errors.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas import Profile

from ..sse import SSEReader
from ._http import HTTPError, Pool
from ._metrics import RequestTiming

STREAMED = frozenset({"chat-stream", "completions"})
KINDS = ("chat-stream", "chat", "completions", "embeddings")
ENDPOINT_OF = {
    "chat-stream": "chat",
    "chat": "chat",
    "completions": "completions",
    "embeddings": "embeddings",
}
DEFAULT_PATHS = {"chat": "/chat/completions", "completions": "/completions", "embeddings": "/embeddings"}
MAX_ERROR_BODY = 64 * 1024
MAX_CAPTURE_BYTES = 1 << 20  # of one response body kept for the judge (past it: marked truncated)

Message = dict[str, str]


def profile_paths(profile: Profile) -> dict[str, str]:
    """The generation endpoints' paths under the base URL, as the profile declares them."""
    return {e: profile.endpoint_path(e) for e in ("chat", "completions", "embeddings") if profile.declares(e)}


def load_extensions(profile: Profile) -> set[str]:
    """Request fields beyond OpenAI's that the profile says the target takes."""
    return set(profile.extensions) | set((profile.raw.get("load") or {}).get("fixed_length", ()))


def fixed_length_body(profile: Profile, max_tokens: int) -> dict[str, Any]:
    """Fields that make generation run to `max_tokens` where the profile says the target takes them."""
    extensions = load_extensions(profile)
    body: dict[str, Any] = {}
    if "ignore_eos" in extensions:
        body["ignore_eos"] = True
    if "min_tokens" in extensions:
        body["min_tokens"] = max_tokens
    return body


@dataclass
class Captured:
    """What the judge needs of one answer: the request body, the status, headers and body bytes
    (at most MAX_CAPTURE_BYTES), and when each piece of the body arrived."""

    kind: str
    path: str
    request_body: bytes
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    marks: list[tuple[int, int]] = field(default_factory=list)  # (body length after a piece, arrival ns)
    truncated: bool = False
    transport_error: str | None = None
    sent_ns: int = 0
    first_byte_ns: int | None = None
    end_ns: int | None = None

    def add(self, piece: bytes, rx_ns: int) -> None:
        room = MAX_CAPTURE_BYTES - len(self.body)
        if len(piece) > room:
            piece = piece[:room]
            self.truncated = True
        if piece:
            self.body += piece
            self.marks.append((len(self.body), rx_ns))

    @property
    def size(self) -> int:
        return len(self.body) + len(self.request_body)


@dataclass
class LLMClient:
    """Sends one request of a scenario kind and hands its `RequestTiming` (and `Captured` answer)
    to `record`, always.

    `record` also gets requests cut short (a stopped user: error "cancelled"), so a run can account
    for every request it sent. `count_tokens` (a tokenizer's count of a text), when given, splits
    an event that carries several tokens into per-token ITL where the target reports no per-chunk
    usage.
    """

    base_url: str
    record: Callable[[RequestTiming, Captured | None], None]
    api_key: str | None = field(default=None, repr=False)  # never in a repr
    model: str | None = None
    embedding_model: str | None = None
    max_tokens: int = 64
    extra_body: Mapping[str, Any] = field(default_factory=dict)  # e.g. ignore_eos, where the profile allows
    stream_options: Mapping[str, Any] = field(default_factory=lambda: {"include_usage": True})
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # their values are secrets
    paths: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PATHS))
    timeout_s: float = 60.0
    count_tokens: Callable[[str], int] | None = None
    on_start: Callable[[], None] = lambda: None
    capture: bool = True
    _pool: Pool | None = None
    _headers: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def pool(self) -> Pool:
        if self._pool is None:
            self._pool = Pool(self.base_url, timeout_s=self.timeout_s)
            headers = {"content-type": "application/json", "accept": "*/*", **self.headers}
            if self.api_key:
                headers["authorization"] = f"Bearer {self.api_key}"
            self._headers = headers
        return self._pool

    def close(self) -> None:
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def body(self, kind: str, messages: Sequence[Message]) -> dict[str, Any]:
        """The request body of one scenario kind for a conversation (its last message is the user's)."""
        if kind == "embeddings":
            return {"model": self.embedding_model, "input": messages[-1]["content"]}
        body: dict[str, Any] = {"model": self.model, "max_tokens": self.max_tokens, **self.extra_body}
        if kind == "completions":
            body["prompt"] = "\n\n".join(m["content"] for m in messages)
        else:
            body["messages"] = list(messages)
        if kind in STREAMED:
            body["stream"] = True
            body["stream_options"] = dict(self.stream_options)
        if body["model"] is None:
            del body["model"]
        return body

    def send(
        self,
        kind: str,
        messages: str | Sequence[Message],
        *,
        intended_ns: int | None = None,
        warmup: bool = False,
    ) -> RequestTiming:
        if kind not in KINDS:
            raise ValueError(f"unknown request kind {kind!r} (one of {', '.join(KINDS)})")
        if isinstance(messages, str):
            messages = [{"role": "user", "content": messages}]
        path = self.paths[ENDPOINT_OF[kind]]
        payload = json.dumps(self.body(kind, messages), separators=(",", ":")).encode()
        pool = self.pool
        request = pool.request_head("POST", path, self._headers, payload) + payload
        captured = Captured(kind, path, payload) if self.capture else None
        self.on_start()
        timing = RequestTiming(
            kind=kind, start_ns=time.perf_counter_ns(), intended_ns=intended_ns, warmup=warmup
        )
        deadline = time.monotonic() + self.timeout_s
        try:
            self._exchange(pool, request, deadline, timing, captured)
        except HTTPError as exc:
            timing.error = "timeout" if exc.kind == "timeout" else f"transport:{exc.kind}"
            if captured is not None:
                captured.transport_error = str(exc)
        except BaseException:  # the user was stopped mid-request (GreenletExit): still account for it
            timing.error = "cancelled"
            raise
        finally:
            if timing.end_ns is None:
                timing.end_ns = time.perf_counter_ns()
            if captured is not None:
                captured.sent_ns, captured.end_ns = timing.start_ns, timing.end_ns
                captured.first_byte_ns = timing.first_byte_ns
            self.record(timing, captured)
        return timing

    # -- one request -------------------------------------------------------------------------
    def _exchange(
        self, pool: Pool, request: bytes, deadline: float, t: RequestTiming, cap: Captured | None
    ) -> None:
        response, t.start_ns = pool.send(request, deadline)
        t.first_byte_ns = response.first_byte_ns
        t.status = response.status
        if cap is not None:
            cap.status, cap.headers = response.status, response.headers
        try:
            if response.status != 200:
                body = bytearray()
                for piece, rx_ns in response.iter_body():
                    body += piece
                    t.end_ns = rx_ns
                    if len(body) > MAX_ERROR_BODY:
                        break
                if cap is not None:
                    cap.add(bytes(body[:MAX_ERROR_BODY]), t.end_ns or response.first_byte_ns)
                t.error = _http_error(response.status, bytes(body))
            elif t.kind in STREAMED:
                self._stream(response, t, cap)
            else:
                self._plain(response, t, cap)
        finally:
            pool.release(response)

    def _plain(self, response: Any, t: RequestTiming, cap: Captured | None) -> None:
        body = bytearray()
        for piece, rx_ns in response.iter_body():
            body += piece
            t.end_ns = rx_ns
            if cap is not None:
                cap.add(piece, rx_ns)
        try:
            data = json.loads(body)
        except ValueError:
            return  # not JSON: the judge says so (transport.json-body); the timing stands
        if not isinstance(data, dict):
            return
        usage = data.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
            t.usage_tokens = usage["completion_tokens"]
        for choice in data.get("choices") or ():
            message = choice.get("message") if isinstance(choice, dict) else None
            content = message.get("content") if isinstance(message, dict) else None
            if isinstance(content, str):
                t.text.append(content)
                break

    def _stream(self, response: Any, t: RequestTiming, cap: Captured | None) -> None:
        reader = SSEReader()
        for piece, rx_ns in response.iter_body():
            t.end_ns = rx_ns
            if cap is not None:
                cap.add(piece, rx_ns)
            for event in reader.feed(piece, rx_ns):
                self._on_event(event.data, rx_ns, t)
        for event in reader.close(complete=True):
            self._on_event(event.data, t.end_ns or 0, t)

    def _on_event(self, data: str, received_ns: int, t: RequestTiming) -> None:
        """Take what the metrics need from one event; judging it is the judge's job."""
        if data == "[DONE]":
            t.done = True
            return
        t.events += 1
        if t.first_event_ns is None:
            t.first_event_ns = received_ns
        try:
            obj = json.loads(data)
        except ValueError:
            return
        if not isinstance(obj, dict):
            return
        if "error" in obj:
            t.error = t.error or "stream-error"
            return
        usage = obj.get("usage")
        so_far = usage.get("completion_tokens") if isinstance(usage, dict) else None
        if not isinstance(so_far, int):
            so_far = None
        text = ""
        for choice in obj.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta")
            piece = delta.get("content") if isinstance(delta, dict) else choice.get("text")
            if isinstance(piece, str) and piece:
                text = piece
                break
        if text:
            t.content_ns.append(received_ns)
            t.text.append(text)
            t.content_usage.append(so_far)
            if self.count_tokens is not None:
                t.content_counts.append(self.count_tokens(text))
        if so_far is not None:
            t.usage_tokens = so_far


def _http_error(status: int, body: bytes) -> str:
    """`http-<status>`, with the OpenAI error envelope's type or code when there is one."""
    kind = ""
    try:
        err = json.loads(body).get("error")
        if isinstance(err, dict):
            kind = str(err.get("type") or err.get("code") or "")
    except (ValueError, AttributeError):
        pass
    return f"http-{status}" + (f":{kind}" if kind else "")
