"""openai-python (sync and async) running `ClientCall`s, each bounded by the target's timeout as a
whole-call deadline and its size cap (see `compat_suite.clients`)."""

from __future__ import annotations

import asyncio
import threading
import time
import weakref
from collections.abc import Callable
from typing import Any

from . import _responses_calls as responses_calls
from ._client_records import MESSAGE_CHARS, SDK_PYTHON, SDK_PYTHON_ASYNC, ClientCall, ClientRecord
from .bounded import Watchdog, async_sdk_transport, sdk_transport
from .target import Target


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
