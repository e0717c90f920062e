"""The load client: one LLM request, timed where its bytes arrive.

It speaks httpx's synchronous API, which locust's gevent patching turns cooperative, and reads
streams with the suite's strict SSE reader over `iter_raw()` chunks, so every timestamp is taken
as the chunk leaves the socket. geventhttpclient (locust's FastHttpUser) was not used: its
`read(n)` blocks until n bytes are buffered, which would move the timestamps; it has not been
measured against httpx here.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from schemas import Profile

from ..sse import SSEReader
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


def profile_paths(profile: Profile) -> dict[str, str]:
    """The generation endpoints' paths under the base URL, as the profile declares them."""
    return {e: profile.endpoint_path(e) for e in ("chat", "completions", "embeddings") if profile.declares(e)}


def fixed_length_body(profile: Profile, max_tokens: int) -> dict[str, Any]:
    """Fields that make generation run to `max_tokens` where the profile says the target takes them."""
    extensions = set(profile.extensions) | set((profile.raw.get("load") or {}).get("fixed_length", ()))
    body: dict[str, Any] = {}
    if "ignore_eos" in extensions:
        body["ignore_eos"] = True
    if "min_tokens" in extensions:
        body["min_tokens"] = max_tokens
    return body


@dataclass
class LLMClient:
    """Sends one request of a scenario kind and hands its `RequestTiming` to `record`, always.

    `record` also gets requests cut short (a stopped user: error "cancelled"), so a run can account
    for every request it sent.
    """

    base_url: str
    record: Callable[[RequestTiming], None]
    api_key: str | None = None
    model: str | None = None
    embedding_model: str | None = None
    max_tokens: int = 64
    extra_body: Mapping[str, Any] = field(default_factory=dict)  # e.g. ignore_eos, where the profile allows
    headers: Mapping[str, str] = field(default_factory=dict)
    paths: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_PATHS))
    timeout_s: float = 60.0
    max_connections: int = 100
    on_start: Callable[[], None] = lambda: None
    _http: httpx.Client | None = None

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            headers = {"content-type": "application/json", **self.headers}
            if self.api_key:
                headers["authorization"] = f"Bearer {self.api_key}"
            limits = httpx.Limits(
                max_connections=self.max_connections, max_keepalive_connections=self.max_connections
            )
            self._http = httpx.Client(headers=headers, timeout=self.timeout_s, limits=limits)
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def body(self, kind: str, prompt: str) -> dict[str, Any]:
        """The request body of one scenario kind for `prompt`."""
        if kind == "embeddings":
            return {"model": self.embedding_model, "input": prompt}
        body: dict[str, Any] = {"model": self.model, "max_tokens": self.max_tokens, **self.extra_body}
        if kind == "completions":
            body["prompt"] = prompt
        else:
            body["messages"] = [{"role": "user", "content": prompt}]
        if kind in STREAMED:
            body["stream"] = True
            body["stream_options"] = {"include_usage": True}
        if body["model"] is None:
            del body["model"]
        return body

    def send(self, kind: str, prompt: str, *, intended_ns: int | None = None) -> RequestTiming:
        if kind not in KINDS:
            raise ValueError(f"unknown request kind {kind!r} (one of {', '.join(KINDS)})")
        url = self.base_url.rstrip("/") + self.paths[ENDPOINT_OF[kind]]
        payload = json.dumps(self.body(kind, prompt)).encode()
        self.on_start()
        timing = RequestTiming(kind=kind, start_ns=time.perf_counter_ns(), intended_ns=intended_ns)
        try:
            if kind in STREAMED:
                self._stream(url, payload, timing)
            else:
                self._plain(url, payload, timing)
        except httpx.TimeoutException:
            timing.error = "timeout"
        except httpx.HTTPError as exc:
            timing.error = f"transport:{type(exc).__name__}"
        except BaseException:  # the user was stopped mid-request (GreenletExit): still account for it
            timing.error = "cancelled"
            raise
        finally:
            if timing.end_ns is None:
                timing.end_ns = time.perf_counter_ns()
            self.record(timing)
        return timing

    # -- one request -------------------------------------------------------------------------
    def _plain(self, url: str, payload: bytes, t: RequestTiming) -> None:
        with self.http.stream("POST", url, content=payload) as resp:
            t.first_byte_ns = time.perf_counter_ns()
            t.status = resp.status_code
            body = b"".join(resp.iter_raw())
            t.end_ns = time.perf_counter_ns()
        if t.status != 200:
            t.error = _http_error(t.status, body)
            return
        try:
            data = json.loads(body)
        except ValueError:
            t.error = "bad-json"
            return
        usage = data.get("usage") if isinstance(data, dict) else None
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
            t.usage_tokens = usage["completion_tokens"]

    def _stream(self, url: str, payload: bytes, t: RequestTiming) -> None:
        reader = SSEReader()
        done = False
        with self.http.stream("POST", url, content=payload) as resp:
            t.first_byte_ns = time.perf_counter_ns()
            t.status = resp.status_code
            if resp.status_code != 200:
                body = b""
                for chunk in resp.iter_raw():
                    body += chunk
                    if len(body) > MAX_ERROR_BODY:
                        break
                t.end_ns = time.perf_counter_ns()
                t.error = _http_error(resp.status_code, body)
                return
            for chunk in resp.iter_raw():
                now = time.perf_counter_ns()
                t.end_ns = now
                for event in reader.feed(chunk, now):
                    done = self._on_event(event.data, event.received_ns or now, t) or done
            for event in reader.close(complete=True):
                done = self._on_event(event.data, event.received_ns or t.end_ns or 0, t) or done
        if t.error is None and not done:
            t.error = "stream-incomplete"  # no [DONE]: the stream was cut

    def _on_event(self, data: str, received_ns: int, t: RequestTiming) -> bool:
        """Account for one event; True when it is the `[DONE]` terminator."""
        if data == "[DONE]":
            return True
        t.events += 1
        if t.first_event_ns is None:
            t.first_event_ns = received_ns
        try:
            obj = json.loads(data)
        except ValueError:
            t.error = t.error or "bad-event-json"
            return False
        if not isinstance(obj, dict):
            return False
        if "error" in obj:
            t.error = t.error or "stream-error"
            return False
        for choice in obj.get("choices") or ():
            if not isinstance(choice, dict):
                continue
            delta = choice.get("delta")
            text = delta.get("content") if isinstance(delta, dict) else choice.get("text")
            if text:
                t.content_ns.append(received_ns)
                break
        usage = obj.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("completion_tokens"), int):
            t.usage_tokens = usage["completion_tokens"]
        return False


def _http_error(status: int | None, body: bytes) -> str:
    """`http-<status>` plus the OpenAI error envelope's type or code when there is one."""
    kind = ""
    try:
        err = json.loads(body).get("error")
        if isinstance(err, dict):
            kind = str(err.get("type") or err.get("code") or "")
    except (ValueError, AttributeError):
        pass
    return f"http-{status}" + (f":{kind}" if kind else "")
