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

from typing import Any

from schemas import CLIENT_MISTAKES

from ._client_records import (
    SDK_NODE,
    SDK_PYTHON,
    SDK_PYTHON_ASYNC,
    STANDARD_CALL_IDS,
    CallKind,
    ClientCall,
    ClientRecord,
    standard_calls,
)
from ._node_sdk import run_node
from ._python_sdk import python_call, run_python, run_python_async
from .target import WRONG_KEY, Target

__all__ = [
    "MALFORMED_JSON",
    "SDK_CONDITIONS",
    "SDK_NODE",
    "SDK_PYTHON",
    "SDK_PYTHON_ASYNC",
    "STANDARD_CALL_IDS",
    "UNKNOWN_MODEL",
    "UNKNOWN_PATH_SUFFIX",
    "CallKind",
    "ClientCall",
    "ClientRecord",
    "python_call",
    "python_sdk_condition",
    "run_node",
    "run_python",
    "run_python_async",
    "standard_calls",
]

# -- the error matrix through the SDK -------------------------------------------------------------------
# The conditions the SDK can send: those of the generation endpoints, and those a GET can make.
SDK_CONDITIONS = {
    "generation": frozenset(CLIENT_MISTAKES),
    "models": frozenset({"no-key", "bad-key", "unknown-model", "unknown-path", "wrong-method"}),
}
MALFORMED_JSON = b'{"model": "compat-suite", "messages": ['
UNKNOWN_MODEL = "compat-suite-no-such-model"
UNKNOWN_PATH_SUFFIX = "-compat-suite-no-such-path"


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
