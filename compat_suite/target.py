"""A Target: one endpoint under test, and the one HTTP client that talks to it.

Every request goes through `Target.request`, which records the exchange as bytes and timestamps
(taken with `perf_counter_ns` as bytes arrive), and never lets a hostile target crash or hang
the suite: a whole-exchange deadline (enforced by a watchdog, not only per read), a body size
cap, and transport errors recorded as data.
"""

from __future__ import annotations

import json
import socket
import threading
import time
import weakref
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import httpx

from schemas import Profile

from ._rate_limits import Pacer, quota_spent, refusal_note, retry_delay
from .bounded import Watchdog
from .exchange import Exchange, RecordedRequest, StreamExchange
from .sse import SSEReader

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_RETRY_BUDGET_S = 75.0  # a whole per-minute window, and then some
DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024
WRONG_KEY = "sk-compat-suite-wrong-key-0000000000"

PROBE_MAX_BYTES = 64 * 1024


class RequestBudgetExhausted(Exception):
    """`--max-requests` is spent: the scenario must not send more."""


class NotApplicable(Exception):
    """What a scenario needs is not on this target (an endpoint, a model, streaming): skip, with the reason."""


class TargetUnreachable(ValueError):
    """The base URL is not an http(s) URL, or nothing answers there."""


def probe(url: str, timeout_s: float = 10.0) -> str | None:
    """Raise TargetUnreachable unless `url` is an http(s) URL where something accepts a connection.

    `GET /models` is sent and at most PROBE_MAX_BYTES of the answer read, within `timeout_s` as a
    whole (a watchdog cuts a target that drips or never ends). A target that connects but then
    misbehaves (no answer in time, not HTTP, a reset) is reachable: the run goes on and its checks
    say what is wrong; the reason is returned for the user. None when `/models` answered at all."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetUnreachable(f"the base URL must be an http(s) URL, got {parts.scheme or 'no'} scheme")
    shown = f"{parts.scheme}://{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    watchdog = Watchdog(timeout_s, weakref.WeakSet())
    deadline = time.monotonic() + timeout_s
    try:
        with (
            httpx.Client(timeout=httpx.Timeout(timeout_s, connect=min(10.0, timeout_s))) as client,
            client.stream(
                "GET", url.rstrip("/") + "/models", extensions={"trace": watchdog.trace}
            ) as response,
        ):
            watchdog.watch(response.extensions.get("network_stream"))
            read = 0
            for chunk in response.iter_raw():
                read += len(chunk)
                if read >= PROBE_MAX_BYTES or time.monotonic() > deadline:
                    break
    except (httpx.ConnectError, httpx.ConnectTimeout, httpx.UnsupportedProtocol) as exc:
        if not watchdog.fired:
            raise TargetUnreachable(f"target {shown} is unreachable: {type(exc).__name__}") from None
        return f"target {shown} did not connect within {timeout_s:g} s"
    except (httpx.HTTPError, OSError) as exc:  # connected, then misbehaved: the checks will say how
        return f"target {shown} connected but GET /models failed: {type(exc).__name__}"
    finally:
        watchdog.cancel()
    if watchdog.fired:
        return f"target {shown} connected but GET /models did not end within {timeout_s:g} s"
    return None


@dataclass
class Target:
    base_url: str  # up to and including the profile's base path, no trailing slash
    api_key: str | None = field(repr=False)  # never in a repr: a traceback would print it
    profile: Profile
    model: str | None = None
    embedding_model: str | None = None
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # values may be secrets
    public_headers: tuple[str, ...] = ()  # names of `headers` whose values are not secret (--header-public)
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_requests: int | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    # Requests per minute the target allows (the profile's documented limit, or --rate-limit): the
    # target paces itself under it. None: no pacing, only 429s are honoured.
    rate_limit_rpm: int | None = None
    retry_budget_s: float = DEFAULT_RETRY_BUDGET_S  # how long one request may wait out 429s in all
    sent: int = 0
    _client: httpx.Client | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # every socket this target's client opened, for the deadline watchdog (see `Watchdog`)
    _sockets: weakref.WeakSet[socket.socket] = field(default_factory=weakref.WeakSet, repr=False)
    _pace: Pacer = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.base_url = self.base_url.rstrip("/")
        self._pace = Pacer(self.rate_limit_rpm)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every value this target must never show: its key and its extra headers' values (but those
        of the headers named public)."""
        public = {name.lower() for name in self.public_headers}
        values = [v for name, v in self.headers.items() if name.lower() not in public]
        return tuple(s for s in (self.api_key, *values) if s)

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=httpx.Timeout(self.timeout_s, connect=min(10.0, self.timeout_s)),
                follow_redirects=False,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    # -- what a scenario needs -----------------------------------------------------------------
    def model_for(self, endpoint: str) -> str | None:
        return self.embedding_model if endpoint == "embeddings" else self.model

    def missing(self, endpoint: str) -> str | None:
        """Why `endpoint` cannot be tested on this target, or None when it can."""
        if not self.profile.declares(endpoint):
            return f"profile {self.profile.name!r} does not declare the {endpoint} endpoint"
        if endpoint in ("chat", "completions", "embeddings", "responses") and not self.model_for(endpoint):
            if self.profile.model_rule == "required" or endpoint == "embeddings":
                option = "--embedding-model" if endpoint == "embeddings" else "--model"
                return f"no model given for {endpoint} ({option})"
        return None

    def reserve(self, count: int) -> None:
        """Count `count` requests against `--max-requests` before sending them (all or none)."""
        with self._lock:  # shared by concurrent scenarios
            if self.max_requests is not None and self.sent + count > self.max_requests:
                raise RequestBudgetExhausted(f"--max-requests {self.max_requests} reached")
            self.sent += count

    def pace(self, count: int = 1) -> None:
        """Wait for `count` request slots under the rate limit (for requests made outside `request`,
        such as an SDK's own calls)."""
        for _ in range(count):
            self._pace.wait()

    def require(self, endpoint: str) -> None:
        """Raise NotApplicable, with the reason, when `endpoint` cannot be tested here."""
        reason = self.missing(endpoint)
        if reason:
            raise NotApplicable(reason)

    def url(self, path: str) -> str:
        return self.base_url + (path if path.startswith("/") else "/" + path)

    def auth_headers(self, auth: bool | str = True) -> dict[str, str]:
        if auth is False or (auth is True and not self.api_key):
            return {}
        key = WRONG_KEY if auth == "wrong" else (auth if isinstance(auth, str) else self.api_key)
        return {"Authorization": f"Bearer {key}"}

    def with_model(self, endpoint: str, body: dict[str, Any]) -> dict[str, Any]:
        model = self.model_for(endpoint)
        if "model" not in body and model:
            return {"model": model, **body}
        return body

    def chat(self, body: dict[str, Any], **kw: Any) -> Exchange:
        return self._post("chat", body, **kw)

    def chat_stream(self, body: dict[str, Any], **kw: Any) -> StreamExchange:
        return self._post("chat", body, stream=True, **kw)

    def completions(self, body: dict[str, Any], **kw: Any) -> Exchange:
        return self._post("completions", body, **kw)

    def completions_stream(self, body: dict[str, Any], **kw: Any) -> StreamExchange:
        return self._post("completions", body, stream=True, **kw)

    def embeddings(self, body: dict[str, Any], **kw: Any) -> Exchange:
        return self._post("embeddings", body, **kw)

    def responses(self, body: dict[str, Any], **kw: Any) -> Exchange:
        """POST /responses (the Responses API)."""
        return self._post("responses", body, **kw)

    def responses_stream(self, body: dict[str, Any], **kw: Any) -> StreamExchange:
        return self._post("responses", body, stream=True, **kw)

    def _post(self, endpoint: str, body: dict[str, Any], *, stream: bool = False, **kw: Any) -> Exchange:
        """POST `body` to `endpoint`'s path, with the target's model where it names none (and
        `stream: true` for a stream)."""
        payload = self.with_model(endpoint, {**body, "stream": True} if stream else body)
        return self.request(
            endpoint, "POST", self.profile.endpoint_path(endpoint), json=payload, stream=stream, **kw
        )

    def stored_response(self, method: str, response_id: str, suffix: str = "", **kw: Any) -> Exchange:
        """GET or DELETE /responses/{id}, or GET /responses/{id}/input_items (`suffix`)."""
        path = f"{self.profile.endpoint_path('responses')}/{quote(response_id, safe='')}{suffix}"
        return self.request("responses", method, path, **kw)

    def get(self, endpoint: str, path: str | None = None, **kw: Any) -> Exchange:
        return self.request(endpoint, "GET", path or self.profile.endpoint_path(endpoint), **kw)

    # -- the one way a request is sent -----------------------------------------------------------
    def request(
        self,
        endpoint: str,
        method: str,
        path: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
        auth: bool | str = True,
        stream: bool = False,
        retry: bool = True,
    ) -> Exchange:
        """Send one request, paced under the rate limit. A 429 is waited out and retried (as
        openai-python does: `Retry-After`, `retry-after-ms` or `x-ratelimit-reset-*`, else a backoff)
        within `retry_budget_s`; past it the last 429 is returned with `rate_limited` saying why, so
        its checks are inconclusive, never failed. `retry=False`: a 429 is the answer under test."""
        body = _encode(json) if json is not None else (content or b"")
        req_headers = {**self.headers, **self.auth_headers(auth)}
        if json is not None:
            req_headers.setdefault("Content-Type", "application/json")
        req_headers.update(headers or {})
        recorded = RecordedRequest(method, self.url(path), req_headers, body)
        waited, refusals = 0.0, []
        while True:
            self.reserve(1)
            self._pace.wait()
            exchange: Exchange = (
                StreamExchange(endpoint, recorded) if stream else Exchange(endpoint, recorded)
            )
            self._send(exchange, recorded)
            if exchange.status != 429 or not retry or quota_spent(exchange):
                break
            refusals.append(refusal_note(exchange))
            delay = retry_delay(exchange.headers, len(refusals))
            if waited + delay > self.retry_budget_s:
                exchange.rate_limited = (
                    f"still 429 after {len(refusals)} attempt(s) and {waited:.0f} s of waiting "
                    f"(the retry budget is {self.retry_budget_s:g} s; next wait {delay:.0f} s)"
                )
                break
            time.sleep(delay)
            waited += delay
        exchange.refusals = refusals
        return exchange

    def _send(self, exchange: Exchange, recorded: RecordedRequest) -> None:
        reader = SSEReader(expect_json=True) if isinstance(exchange, StreamExchange) else None
        deadline = time.monotonic() + self.timeout_s
        buf = bytearray()
        watchdog = Watchdog(self.timeout_s, self._sockets)
        exchange.started_ns = time.perf_counter_ns()
        try:
            with self.client.stream(
                recorded.method,
                recorded.url,
                headers=recorded.headers,
                content=recorded.body or None,
                extensions={"trace": watchdog.trace},
            ) as response:
                watchdog.watch(response.extensions.get("network_stream"))
                exchange.status = response.status_code
                exchange.headers = {k.lower(): v for k, v in response.headers.items()}
                for chunk in response.iter_bytes():
                    now = time.perf_counter_ns()
                    if exchange.first_byte_ns is None:
                        exchange.first_byte_ns = now
                    room = self.max_body_bytes - len(buf)
                    if len(chunk) > room:
                        chunk = chunk[:room]
                        exchange.truncated = True
                    buf += chunk
                    if reader is not None:
                        reader.feed(chunk, now)
                    if exchange.truncated:
                        exchange.transport_error = (
                            f"body exceeded the suite's limit of {self.max_body_bytes} bytes"
                        )
                        break
                    if time.monotonic() > deadline or watchdog.fired:
                        exchange.transport_error = f"no complete response within {self.timeout_s:g} s"
                        break
        except httpx.TimeoutException as exc:
            exchange.transport_error = f"timed out after {self.timeout_s:g} s ({type(exc).__name__})"
        except (httpx.HTTPError, OSError) as exc:  # OSError: a socket the watchdog shut mid-call
            exchange.transport_error = f"{type(exc).__name__}: {exc}"
        finally:
            watchdog.cancel()
        if watchdog.fired and not exchange.truncated:
            exchange.transport_error = (
                f"no complete response within {self.timeout_s:g} s (cut by the deadline)"
            )
        exchange.finished_ns = time.perf_counter_ns()
        exchange.body = bytes(buf)
        if reader is not None:
            assert isinstance(exchange, StreamExchange)
            reader.close(complete=exchange.transport_error is None)
            exchange.events = list(reader.events)
            exchange.problems = list(reader.problems)


def _encode(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")
