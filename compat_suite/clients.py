"""Running the official SDKs against a live target; each call becomes a `ClientRecord`.

The same calls (`standard_calls`) go through openai-python (sync and async) and openai-node (the
driver in compat_suite/node, a child process fed over stdin so the key never reaches a command
line). The clients.* checks judge each record against the raw exchange the suite accepted for the
same request. `python_sdk_condition` sends one error-matrix condition through the Python SDK and
records the exception class it raised.

The Python SDK runs with `max_retries=0` and strict response validation, except where the SDK's own
types are stricter than the API it models (completions streams: each chunk is typed as the unary
`Completion`, whose `finish_reason` is required; base64 embeddings: `embedding` is typed as a list of
floats). Those calls run the way users run the SDK, leniently, and say so in the record.

Every call is bounded by the target's timeout as a whole-call deadline, not only per read (a
watchdog shuts the sync client's sockets, the async call is cancelled, the node driver aborts its
fetch and the child is killed past its limit), and every body by the target's size cap (an httpx2
transport for the Python SDK, a capping `fetch` for the Node SDK).
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from schemas import CLIENT_MISTAKES, redact_text

from . import _responses_calls as responses_calls
from .bounded import Watchdog, async_sdk_transport, sdk_transport
from .checks.clients import NODE_DIR, ClientUnavailable, node_modules_dirs, node_sdk_unavailable
from .target import WRONG_KEY, Target

CallKind = Literal[
    "chat",
    "chat_stream",
    "completions",
    "completions_stream",
    "embeddings",
    "models",
    "model",
    "helpers",
    "responses",
    "responses_stream",
    "responses_retrieve",
    "responses_input_items",
    "responses_delete",
    "responses_parse",
]
SDK_PYTHON = "openai-python"
SDK_PYTHON_ASYNC = "openai-python-async"
SDK_NODE = "openai-node"
NODE_DRIVER = NODE_DIR / "driver.mjs"
NODE_STARTUP_S = 20.0  # node's own start and the SDK's import, on top of the calls' deadlines
MESSAGE_CHARS = 500  # an SDK's error message, as evidence
UNKNOWN_MODEL = "compat-suite-no-such-model"
UNKNOWN_PATH_SUFFIX = "-compat-suite-no-such-path"
# The ids of the calls `standard_calls` can make, in order (a target that cannot take one omits it).
STANDARD_CALL_IDS = (
    "chat",
    "chat_stream",
    "completions",
    "completions_stream",
    "embeddings_float",
    "embeddings_base64",
    "models",
    "model",
    *responses_calls.KINDS,
)
_ENDPOINT_OF_KIND = {
    "chat": "chat",
    "chat_stream": "chat",
    "completions": "completions",
    "completions_stream": "completions",
    "embeddings": "embeddings",
    "models": "models",
    "model": "model",
    "helpers": "chat",  # the structured-output helpers (compat_suite.sdk_helpers)
    **dict.fromkeys(responses_calls.KINDS, "responses"),
}
RESPONSES_MAX_OUTPUT_TOKENS = 64  # room for a short answer to end (the stream helper wants it completed)


@dataclass(frozen=True)
class ClientCall:
    """One SDK call: an id to pair it with its raw exchange, a kind, and the request body."""

    id: str
    kind: CallKind
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def endpoint(self) -> str:
        return _ENDPOINT_OF_KIND[self.kind]

    @property
    def sdk_body(self) -> dict[str, Any]:
        """The body as the SDK is given it. Base64 embeddings are asked for the way SDK users get them:
        with `encoding_format` left out, both SDKs request base64 on the wire and decode it to floats."""
        if self.kind == "embeddings" and self.body.get("encoding_format") == "base64":
            return {k: v for k, v in self.body.items() if k != "encoding_format"}
        return dict(self.body)

    @property
    def requests(self) -> int:
        """Requests the call sends (a stored-response call creates, uses and deletes a response)."""
        return responses_calls.REQUESTS.get(self.kind, 1)

    @property
    def strict(self) -> bool:
        """Whether the Python SDK can validate this call's response strictly (see the module doc)."""
        if self.kind == "completions_stream":
            return False
        return not (self.kind == "embeddings" and self.body.get("encoding_format", "base64") == "base64")


@dataclass(frozen=True)
class ClientRecord:
    """What one SDK made of one call: a summary of what it parsed, or the exception it raised."""

    sdk: str
    version: str
    call: ClientCall
    ok: bool
    result: dict[str, Any] | None = None
    error_class: str | None = None
    error_status: int | None = None
    error_message: str | None = None
    elapsed_s: float = 0.0
    strict: bool = True

    def evidence(self, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
        """The record as JSON-safe evidence (records never hold a key; `secrets` are redacted anyway)."""
        out: dict[str, Any] = {
            "sdk": self.sdk,
            "version": self.version,
            "call": {"id": self.call.id, "kind": self.call.kind},
            "ok": self.ok,
            "strict_validation": self.strict,
            "elapsed_s": round(self.elapsed_s, 3),
        }
        if self.ok:
            out["result"] = _clip_json(self.result)
        else:
            message = redact_text(self.error_message or "", secrets)
            out["error"] = {"class": self.error_class, "status": self.error_status, "message": message}
        return out


def standard_calls(
    target: Target, *, max_tokens: int = 16, prompt: str = "Say hello in three words."
) -> list[ClientCall]:
    """The calls every SDK makes against `target`: those of the endpoints the target can be tested on."""
    calls: list[ClientCall] = []
    chat = {
        "model": target.model,
        "messages": [{"role": "user", "content": prompt}],
        "max_tokens": max_tokens,
        "temperature": 0,
    }
    completion = {"model": target.model, "prompt": prompt, "max_tokens": max_tokens, "temperature": 0}
    if not target.missing("chat"):
        calls.append(ClientCall("chat", "chat", chat))
        if target.profile.streaming_supported:
            stream = {**chat, "stream_options": {"include_usage": True}}
            calls.append(ClientCall("chat_stream", "chat_stream", stream))
    if not target.missing("completions"):
        calls.append(ClientCall("completions", "completions", completion))
        if target.profile.streaming_supported:
            calls.append(ClientCall("completions_stream", "completions_stream", completion))
    if not target.missing("embeddings"):
        inputs = ["The sky is blue.", "Grass is green."]
        embed = {"model": target.embedding_model, "input": inputs}
        calls.append(ClientCall("embeddings_float", "embeddings", {**embed, "encoding_format": "float"}))
        calls.append(ClientCall("embeddings_base64", "embeddings", {**embed, "encoding_format": "base64"}))
    if not target.missing("models"):
        calls.append(ClientCall("models", "models", {}))
    if not target.missing("model") and target.model:
        calls.append(ClientCall("model", "model", {"model": target.model}))
    if not target.missing("responses"):
        request = responses_calls.body(target.model, prompt, RESPONSES_MAX_OUTPUT_TOKENS)
        for kind in responses_calls.KINDS:
            if kind != "responses_stream" or target.profile.streaming_supported:
                kind_body = responses_calls.parse_body(target.model) if kind == "responses_parse" else request
                calls.append(ClientCall(kind, kind, kind_body))  # type: ignore[arg-type]
    return calls


# -- Python ------------------------------------------------------------------------------------------
def _python_version() -> str:
    import openai

    return openai.__version__


def _client_options(target: Target, strict: bool, api_key: str | None) -> dict[str, Any]:
    return {
        # The SDK refuses to start without a key; a keyless target gets a placeholder it ignores.
        "api_key": api_key or target.api_key or "sk-compat-suite-none",
        "base_url": target.base_url,
        "max_retries": 0,
        "timeout": target.timeout_s,
        "default_headers": dict(target.headers),
        "_strict_response_validation": strict,
    }


def _summarise(kind: str, value: Any) -> dict[str, Any]:
    """What the SDK parsed, in the same shape the node driver prints."""
    if kind in ("chat_stream", "completions_stream"):
        chunks = list(value)
        return _summarise_chunks(chunks)
    if kind == "models":
        return {"ids": [m.id for m in value]}
    if kind == "embeddings":
        return {
            "object": value.object,
            "count": len(value.data),
            "dims": [len(d.embedding) for d in value.data],
            "usage": _dump(value.usage),
        }
    out: dict[str, Any] = {"object": getattr(value, "object", None), "id": getattr(value, "id", None)}
    if kind in ("chat", "completions"):
        out["usage"] = _dump(value.usage)
        out["choices"] = [
            {
                "index": c.index,
                "finish_reason": c.finish_reason,
                "text": c.message.content if kind == "chat" else c.text,
            }
            for c in value.choices
        ]
    return out


def _summarise_chunks(chunks: list[Any]) -> dict[str, Any]:
    text = ""
    for chunk in chunks:
        for choice in chunk.choices or []:
            delta = getattr(choice, "delta", None)
            text += (delta.content if delta is not None else choice.text) or ""
    last = chunks[-1] if chunks else None
    return {
        "chunks": len(chunks),
        "text": text,
        "ids": sorted({c.id for c in chunks}),
        "usage": _dump(getattr(last, "usage", None)),
    }


def _dump(value: Any) -> Any:
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def _invoke(client: Any, call: ClientCall) -> Any:
    """Start the SDK method for `call` (sync client: the result; async client: an awaitable)."""
    body = call.sdk_body
    if call.kind in ("chat", "chat_stream"):
        return client.chat.completions.create(**body, stream=call.kind == "chat_stream")
    if call.kind in ("completions", "completions_stream"):
        return client.completions.create(**body, stream=call.kind == "completions_stream")
    if call.kind == "embeddings":
        return client.embeddings.create(**body)
    if call.kind == "models":
        return client.models.list()
    return client.models.retrieve(body["model"])


def _failed_record(
    sdk: str, version: str, call: ClientCall, started: float, error: BaseException | None, deadline_s: float
) -> ClientRecord:
    """The record of a call that raised `error`, or (None) ran past its whole-call deadline."""
    if error is None:
        error_class, message, status = (
            "DeadlineExceeded",
            f"the SDK call did not finish within {deadline_s:g} s",
            None,
        )
    else:
        cause = error.__cause__ or error.__context__  # the SDK's "Connection error." hides what broke
        detail = f"{error} ({type(cause).__name__}: {cause})" if cause is not None else str(error)
        error_class, message = type(error).__name__, detail[:MESSAGE_CHARS]
        status = getattr(error, "status_code", None)
    return ClientRecord(
        sdk,
        version,
        call,
        ok=False,
        error_class=error_class,
        error_status=status,
        error_message=message,
        elapsed_s=time.monotonic() - started,
        strict=call.strict,
    )


def _run_bounded(
    work: Callable[[], Any], deadline_s: float, on_deadline: Callable[[], None]
) -> tuple[bool, Any]:
    """Run `work` on a daemon thread for at most `deadline_s`; (finished, result or exception).

    At the deadline `on_deadline` runs (it closes the client's connections, which ends a blocked
    read) and the thread gets a short grace to notice; a thread that still hangs is abandoned.
    """
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = work()
        except BaseException as exc:  # handed back to the caller as data
            box["error"] = exc

    thread = threading.Thread(target=run, name="compat-suite-sdk-call", daemon=True)
    thread.start()
    thread.join(deadline_s)
    if thread.is_alive():
        on_deadline()
        thread.join(1.0)
        return False, None
    return True, box.get("error", box.get("result"))


def _standard_call(target: Target, call: ClientCall) -> ClientRecord:
    if call.endpoint == "responses":
        return python_call(
            target, call, lambda client: responses_calls.sync_call(client, call.kind, call.body)
        )
    return python_call(target, call, lambda client: _summarise(call.kind, _invoke(client, call)))


def python_call(
    target: Target, call: ClientCall, invoke: Callable[[Any], Any], *, api_key: str | None = None
) -> ClientRecord:
    """`invoke(client)` on a fresh sync client, bounded by the target's timeout as a whole."""
    import httpx2
    import openai

    version = _python_version()
    # The deadline's watchdog shuts the call's sockets; the transport caps each body (see .bounded).
    watchdog = Watchdog(target.timeout_s, weakref.WeakSet())
    http = httpx2.Client(transport=sdk_transport(watchdog, target.max_body_bytes))
    client = openai.OpenAI(http_client=http, **_client_options(target, call.strict, api_key))
    started = time.monotonic()
    try:
        finished, outcome = _run_bounded(lambda: invoke(client), target.timeout_s + 1.0, http.close)
    finally:
        watchdog.cancel()
        client.close()
    if watchdog.fired and not isinstance(outcome, dict):
        finished = False  # whatever the SDK raised, the deadline is why
    if not finished:
        return _failed_record(SDK_PYTHON, version, call, started, None, target.timeout_s)
    if isinstance(outcome, BaseException):
        return _failed_record(SDK_PYTHON, version, call, started, outcome, target.timeout_s)
    result = outcome if isinstance(outcome, dict) else {}
    elapsed = time.monotonic() - started
    return ClientRecord(SDK_PYTHON, version, call, True, result=result, elapsed_s=elapsed, strict=call.strict)


def run_python(target: Target, calls: list[ClientCall]) -> list[ClientRecord]:
    """Each call through the sync openai-python client, one fresh client per call."""
    target.reserve(sum(call.requests for call in calls))
    return [_standard_call(target, call) for call in calls]


async def _python_async_call(target: Target, call: ClientCall) -> ClientRecord:
    import httpx2
    import openai

    version = _python_version()
    http = httpx2.AsyncClient(transport=async_sdk_transport(target.max_body_bytes))
    client = openai.AsyncOpenAI(http_client=http, **_client_options(target, call.strict, None))
    started = time.monotonic()

    async def work() -> dict[str, Any]:
        if call.endpoint == "responses":
            return await responses_calls.async_call(client, call.kind, call.body)
        result = await _invoke(client, call)
        if call.kind in ("chat_stream", "completions_stream"):
            return _summarise_chunks([chunk async for chunk in result])
        if call.kind == "models":
            return {"ids": [m.id async for m in result]}
        return _summarise(call.kind, result)

    try:
        summary = await asyncio.wait_for(work(), target.timeout_s)
    except TimeoutError:
        return _failed_record(SDK_PYTHON_ASYNC, version, call, started, None, target.timeout_s)
    except Exception as exc:
        return _failed_record(SDK_PYTHON_ASYNC, version, call, started, exc, target.timeout_s)
    finally:
        await client.close()
    return ClientRecord(
        SDK_PYTHON_ASYNC,
        version,
        call,
        True,
        result=summary,
        elapsed_s=time.monotonic() - started,
        strict=call.strict,
    )


def run_python_async(target: Target, calls: list[ClientCall]) -> list[ClientRecord]:
    """Each call through the async openai-python client, on an event loop of its own."""
    target.reserve(sum(call.requests for call in calls))

    async def all_calls() -> list[ClientRecord]:
        return [await _python_async_call(target, call) for call in calls]

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(all_calls())
    # Called from inside a running loop (pytest-asyncio): run ours on a thread of its own.
    box: list[list[ClientRecord]] = []
    thread = threading.Thread(target=lambda: box.append(asyncio.run(all_calls())), daemon=True)
    thread.start()
    thread.join(target.timeout_s * (len(calls) + 1))
    if not box:
        raise TimeoutError("the async SDK calls did not finish")
    return box[0]


# -- Node ---------------------------------------------------------------------------------------------
def run_node(target: Target, calls: list[ClientCall]) -> list[ClientRecord]:
    """Each call through the official Node SDK (compat_suite/node/driver.mjs) in one child process.

    Raises `ClientUnavailable` when node or the `openai` package is missing, or the driver breaks.
    """
    why = node_sdk_unavailable()
    if why:
        raise ClientUnavailable(why)
    target.reserve(sum(call.requests for call in calls))
    job = {
        "base_url": target.base_url,
        "api_key": target.api_key or "sk-compat-suite-none",
        "headers": dict(target.headers),
        "timeout_ms": int(target.timeout_s * 1000),
        "max_body_bytes": target.max_body_bytes,
        "calls": [{"id": c.id, "kind": c.kind, "body": c.sdk_body} for c in calls],
    }
    env = {**os.environ, "NODE_PATH": os.pathsep.join(str(d) for d in node_modules_dirs())}
    limit = NODE_STARTUP_S + target.timeout_s * max(1, len(calls))
    started = time.monotonic()
    try:
        proc = subprocess.run(
            ["node", str(NODE_DRIVER)],
            input=json.dumps(job),  # the key travels on stdin only
            capture_output=True,
            text=True,
            timeout=limit,
            env=env,
            cwd=NODE_DRIVER.parent,
            check=False,
        )
    except subprocess.TimeoutExpired:
        elapsed = time.monotonic() - started
        return [
            ClientRecord(
                SDK_NODE,
                "?",
                c,
                False,
                error_class="DeadlineExceeded",
                error_message=f"the node driver did not finish within {limit:g} s",
                elapsed_s=elapsed,
            )
            for c in calls
        ]
    secrets = target.secrets
    try:
        report = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        stderr = redact_text(proc.stderr.strip()[-MESSAGE_CHARS:], secrets)
        raise ClientUnavailable(f"the node driver failed (exit {proc.returncode}): {stderr}") from None
    by_id = {r.get("id"): r for r in report.get("results", []) if isinstance(r, dict)}
    elapsed = (time.monotonic() - started) / max(1, len(calls))  # the driver does not time each call
    records = []
    for c in calls:
        row = by_id.get(
            c.id, {"ok": False, "error": {"class": "Missing", "message": "no result from the driver"}}
        )
        error = row.get("error") or {}
        records.append(
            ClientRecord(
                SDK_NODE,
                str(report.get("version", "?")),
                c,
                bool(row.get("ok")),
                result=row.get("result") if row.get("ok") else None,
                error_class=None if row.get("ok") else str(error.get("class")),
                error_status=error.get("status"),
                error_message=None if row.get("ok") else redact_text(str(error.get("message")), secrets),
                elapsed_s=elapsed,
                strict=False,  # the Node SDK does not validate responses: it parses JSON and types it
            )
        )
    return records


# -- the error matrix through the SDK -------------------------------------------------------------------
# The conditions the SDK can send: those of the generation endpoints, and those a GET can make.
SDK_CONDITIONS = {
    "generation": frozenset(CLIENT_MISTAKES),
    "models": frozenset({"no-key", "bad-key", "unknown-model", "unknown-path", "wrong-method"}),
}
MALFORMED_JSON = b'{"model": "compat-suite", "messages": ['


def python_sdk_condition(
    target: Target, endpoint: str, condition: str, body: dict[str, Any], *, padding: int = 0
) -> ClientRecord | None:
    """Send one error-matrix condition through the sync Python SDK; None where it cannot express it.

    `body` is the valid request the raw cell started from (for invalid-param, the invalid one);
    `padding` is the size of the `user` field for an oversized body.
    """
    kind = "models" if endpoint == "models" else "generation"
    if condition not in SDK_CONDITIONS[kind]:
        return None
    call = ClientCall(f"{endpoint}-{condition}", "models" if endpoint == "models" else endpoint, body)  # type: ignore[arg-type]
    api_key = WRONG_KEY if condition == "bad-key" else None
    target.reserve(1)

    def invoke(client: Any) -> None:
        _send_condition(client, target.profile.endpoint_path(endpoint), endpoint, condition, body, padding)

    return python_call(target, call, invoke, api_key=api_key)


def _send_condition(
    client: Any, path: str, endpoint: str, condition: str, body: dict[str, Any], padding: int
) -> None:
    """Make the SDK call that carries `condition` (the SDK raises for the error answer)."""
    import openai

    generation = endpoint != "models"
    if condition == "no-key":
        _sdk_method(client, endpoint, body, extra_headers={"Authorization": openai.Omit()})
    elif condition == "unknown-model" and not generation:
        client.models.retrieve(UNKNOWN_MODEL)
    elif condition == "unknown-model":
        _sdk_method(client, endpoint, {**body, "model": UNKNOWN_MODEL})
    elif condition == "malformed-json":
        headers = {"Content-Type": "application/json"}
        client.post(path, cast_to=object, content=MALFORMED_JSON, options={"headers": headers})
    elif condition == "wrong-content-type":
        _sdk_method(client, endpoint, body, extra_headers={"Content-Type": "text/plain"})
    elif condition == "unknown-path" and generation:
        client.post(path + UNKNOWN_PATH_SUFFIX, cast_to=object, body=body)
    elif condition == "unknown-path":
        client.get(path + UNKNOWN_PATH_SUFFIX, cast_to=object)
    elif condition == "wrong-method":  # PUT: no documented operation defines it on these paths
        client.put(path, cast_to=object, body=body if generation else None)
    elif condition == "oversized-body":
        _sdk_method(client, endpoint, {**body, "user": "x" * padding})
    else:  # bad-key (the client's key is wrong), invalid-param (the body is)
        _sdk_method(client, endpoint, body)


def _sdk_method(client: Any, endpoint: str, body: dict[str, Any], **options: Any) -> Any:
    if endpoint == "chat":
        return client.chat.completions.create(**body, **options)
    if endpoint == "completions":
        return client.completions.create(**body, **options)
    if endpoint == "embeddings":
        return client.embeddings.create(**body, **options)
    if endpoint == "responses":
        return client.responses.create(**body, **options)
    return client.models.list(**options)


def _clip_json(value: Any, limit: int = 2000) -> Any:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= limit else text[:limit] + "…"
