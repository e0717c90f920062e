"""The SDK calls the suite makes (`ClientCall`, `standard_calls`) and what an SDK made of each
(`ClientRecord`); the runners live in `_python_sdk` and `_node_sdk`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from schemas import redact_text

from . import _responses_calls as responses_calls
from .target import Target

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
MESSAGE_CHARS = 500  # an SDK's error message, as evidence
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


def _clip_json(value: Any, limit: int = 2000) -> Any:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= limit else text[:limit] + "…"
