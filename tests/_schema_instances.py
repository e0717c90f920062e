"""Known-good and known-bad instances of the fixed components of schemas/openapi.yaml, for
tests/test_schemas.py: GOOD (component, instance) must validate; BAD (component, instance, param,
keyword) must fail with that param and JSON Schema keyword first, as the server's 400 names them."""

from __future__ import annotations

import base64
import struct
from typing import Any


def _b64_floats(*values: float) -> str:
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


USAGE = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
CHAT_RESPONSE = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1_700_000_000,
    "model": "m",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "Hi.", "refusal": None},
            "finish_reason": "stop",
            "logprobs": None,
        }
    ],
    "usage": USAGE,
    "system_fingerprint": "fp_1",
}
CHAT_CHUNK = {
    "id": "chatcmpl-1",
    "object": "chat.completion.chunk",
    "created": 1_700_000_000,
    "model": "m",
    "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}],
}
COMPLETION_RESPONSE = {
    "id": "cmpl-1",
    "object": "text_completion",
    "created": 1_700_000_000,
    "model": "m",
    "choices": [{"index": 0, "text": " world", "finish_reason": "length", "logprobs": None}],
    "usage": USAGE,
}
COMPLETION_CHUNK = {
    "id": "cmpl-1",
    "object": "text_completion",
    "created": 1_700_000_000,
    "model": "m",
    "choices": [{"index": 0, "text": " wor", "finish_reason": None, "logprobs": None}],
}
EMBEDDINGS = {
    "object": "list",
    "data": [{"object": "embedding", "index": 0, "embedding": [0.1, -0.2, 0.3]}],
    "model": "e",
    "usage": {"prompt_tokens": 2, "total_tokens": 2},
}
EMBEDDINGS_B64 = {
    **EMBEDDINGS,
    "data": [{"object": "embedding", "index": 0, "embedding": _b64_floats(0.1, -0.2)}],
}
MODEL = {"id": "m", "object": "model", "created": 1_700_000_000, "owned_by": "compat-suite"}
ERROR = {"error": {"message": "bad", "type": "invalid_request_error", "param": "temperature", "code": None}}
CHAT = {"model": "m", "messages": [{"role": "user", "content": "Hello"}]}


def _with(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, **changes}


def _choice(base: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**base, "choices": [{**base["choices"][0], **changes}]}


GOOD: list[tuple[str, Any]] = [
    ("CreateChatCompletionRequest", CHAT),
    (
        "CreateChatCompletionRequest",
        {
            "model": "m",
            "messages": [
                {"role": "developer", "content": [{"type": "text", "text": "Be brief."}]},
                {"role": "system", "content": "You are terse.", "name": "sys"},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is this?"},
                        {
                            "type": "image_url",
                            "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"},
                        },
                    ],
                },
                {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "look", "arguments": "{}"}}
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "a cat"},
            ],
            "temperature": 0,
            "top_p": 1,
            "n": 128,
            "stop": ["\n", "END", "x", "y"],
            "max_tokens": 1,
            "max_completion_tokens": 16,
            "presence_penalty": -2,
            "frequency_penalty": 2,
            "logit_bias": {"50256": -100},
            "logprobs": True,
            "top_logprobs": 20,
            "seed": -(2**63),
            "stream": True,
            "stream_options": {"include_usage": True},
            "response_format": {
                "type": "json_schema",
                "json_schema": {"name": "out", "schema": {}, "strict": True},
            },
            "tools": [{"type": "function", "function": {"name": "look", "parameters": {"type": "object"}}}],
            "tool_choice": {"type": "function", "function": {"name": "look"}},
            "parallel_tool_calls": False,
            "user": "u-1",
            "ignore_eos": True,
            "min_tokens": 4,
        },
    ),
    (
        "CreateChatCompletionRequest",
        _with(CHAT, temperature=None, stop=None, response_format={"type": "text"}),
    ),
    ("CreateCompletionRequest", {"model": "m", "prompt": "Once upon"}),
    (
        "CreateCompletionRequest",
        {"model": "m", "prompt": ["a", "b"], "logprobs": 5, "max_tokens": 0, "echo": True},
    ),
    ("CreateCompletionRequest", {"model": "m", "prompt": [1, 2, 3], "stop": "\n", "best_of": 2, "n": 1}),
    ("CreateCompletionRequest", {"model": "m", "prompt": [[1, 2], [3]], "suffix": None, "seed": 7}),
    ("CreateEmbeddingRequest", {"model": "e", "input": "hello"}),
    (
        "CreateEmbeddingRequest",
        {"model": "e", "input": ["a", "b"], "encoding_format": "base64", "dimensions": 8},
    ),
    ("CreateEmbeddingRequest", {"model": "e", "input": [[1, 2], [3]], "encoding_format": "float"}),
    ("CreateChatCompletionResponse", CHAT_RESPONSE),
    (
        "CreateChatCompletionResponse",
        _choice(
            CHAT_RESPONSE,
            finish_reason="tool_calls",
            message={
                "role": "assistant",
                "content": None,
                "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
            },
            logprobs={
                "content": [
                    {
                        "token": "Hi",
                        "logprob": -0.1,
                        "bytes": [72, 105],
                        "top_logprobs": [{"token": "Hi", "logprob": -0.1, "bytes": None}],
                    }
                ],
                "refusal": None,
            },
        ),
    ),
    ("CreateChatCompletionResponse", _with(CHAT_RESPONSE, provider_extra={"anything": 1})),  # open
    ("CreateChatCompletionStreamResponse", CHAT_CHUNK),
    ("CreateChatCompletionStreamResponse", _choice(CHAT_CHUNK, delta={}, finish_reason="length")),
    ("CreateChatCompletionStreamResponse", _with(CHAT_CHUNK, choices=[], usage=USAGE)),
    ("CreateChatCompletionStreamResponse", _with(CHAT_CHUNK, usage=None)),
    ("CreateCompletionResponse", COMPLETION_RESPONSE),
    (
        "CreateCompletionResponse",
        _choice(
            COMPLETION_RESPONSE,
            logprobs={
                "tokens": ["Hi", "!"],
                "token_logprobs": [None, -0.5],  # with echo the first token has none
                "top_logprobs": [None, {"!": -0.5}],
                "text_offset": [0, 2],
            },
        ),
    ),
    ("CreateCompletionStreamResponse", COMPLETION_CHUNK),
    ("CreateCompletionStreamResponse", _choice(COMPLETION_CHUNK, finish_reason="stop")),
    ("CreateCompletionStreamResponse", _with(COMPLETION_CHUNK, choices=[], usage=USAGE)),
    ("CreateEmbeddingResponse", EMBEDDINGS),
    ("CreateEmbeddingResponseBase64", EMBEDDINGS_B64),
    ("ListModelsResponse", {"object": "list", "data": [MODEL]}),
    ("ListModelsResponse", {"object": "list", "data": []}),
    ("Model", MODEL),
    ("ModelHealth", {"model": "m", "status": "ready"}),
    ("ModelHealth", {"model": "m", "status": "loading"}),
    ("ErrorResponse", ERROR),
    ("ErrorResponse", {"error": {"message": "no", "type": "server_error", "param": None, "code": "x"}}),
]

# (component, instance, param of the first error, JSON Schema keyword of the first error)
BAD: list[tuple[str, Any, str | None, str]] = [
    ("CreateChatCompletionRequest", _with(CHAT, temperature=2.5), "temperature", "maximum"),
    ("CreateChatCompletionRequest", _with(CHAT, temperature=-0.1), "temperature", "minimum"),
    ("CreateChatCompletionRequest", _with(CHAT, temperature="hot"), "temperature", "type"),
    ("CreateChatCompletionRequest", _with(CHAT, top_p=1.5), "top_p", "maximum"),
    ("CreateChatCompletionRequest", _with(CHAT, n=0), "n", "minimum"),
    ("CreateChatCompletionRequest", _with(CHAT, n=129), "n", "maximum"),
    ("CreateChatCompletionRequest", _with(CHAT, stop=["a", "b", "c", "d", "e"]), "stop", "anyOf"),
    ("CreateChatCompletionRequest", _with(CHAT, stop=[]), "stop", "anyOf"),
    ("CreateChatCompletionRequest", _with(CHAT, top_logprobs=21), "top_logprobs", "maximum"),
    ("CreateChatCompletionRequest", _with(CHAT, presence_penalty=-2.01), "presence_penalty", "minimum"),
    ("CreateChatCompletionRequest", _with(CHAT, frequency_penalty=3), "frequency_penalty", "maximum"),
    ("CreateChatCompletionRequest", _with(CHAT, max_tokens=0), "max_tokens", "minimum"),
    ("CreateChatCompletionRequest", _with(CHAT, max_completion_tokens=0), "max_completion_tokens", "minimum"),
    ("CreateChatCompletionRequest", _with(CHAT, logprobs=1), "logprobs", "type"),
    ("CreateChatCompletionRequest", _with(CHAT, seed=1.5), "seed", "type"),
    ("CreateChatCompletionRequest", _with(CHAT, stream="yes"), "stream", "type"),
    ("CreateChatCompletionRequest", _with(CHAT, stream_options={"usage": True}), "stream_options.usage", "additionalProperties"),
    ("CreateChatCompletionRequest", _with(CHAT, response_format={"type": "xml"}), "response_format.type", "enum"),
    ("CreateChatCompletionRequest", _with(CHAT, response_format={"type": "json_schema"}), "response_format.json_schema", "required"),
    ("CreateChatCompletionRequest", _with(CHAT, logit_bias={"1": 101}), "logit_bias.1", "maximum"),
    ("CreateChatCompletionRequest", _with(CHAT, ignore_eos="no"), "ignore_eos", "type"),
    ("CreateChatCompletionRequest", _with(CHAT, min_tokens=-1), "min_tokens", "minimum"),
    ("CreateChatCompletionRequest", _with(CHAT, frobnicate=True), "frobnicate", "additionalProperties"),
    ("CreateChatCompletionRequest", {"messages": CHAT["messages"]}, "model", "required"),
    ("CreateChatCompletionRequest", {"model": "m"}, "messages", "required"),
    ("CreateChatCompletionRequest", _with(CHAT, messages=[]), "messages", "minItems"),
    ("CreateChatCompletionRequest", _with(CHAT, messages={"role": "user"}), "messages", "type"),
    ("CreateChatCompletionRequest", _with(CHAT, messages=[{"role": "robot", "content": "x"}]), "messages[0].role", "enum"),
    ("CreateChatCompletionRequest", _with(CHAT, messages=[{"content": "x"}]), "messages[0].role", "required"),
    ("CreateChatCompletionRequest", _with(CHAT, messages=[{"role": "user"}]), "messages[0].content", "required"),
    ("CreateChatCompletionRequest", _with(CHAT, messages=[{"role": "user", "content": 5}]), "messages[0].content", "type"),
    ("CreateChatCompletionRequest", _with(CHAT, messages=[{"role": "user", "content": []}]), "messages[0].content", "minItems"),
    ("CreateChatCompletionRequest", _with(CHAT, messages=[{"role": "tool", "content": "x"}]), "messages[0].tool_call_id", "required"),
    ("CreateChatCompletionRequest", _with(CHAT, messages=[{"role": "user", "content": "x", "mood": 1}]), "messages[0].mood", "additionalProperties"),
    (
        "CreateChatCompletionRequest",
        _with(CHAT, messages=[{"role": "user", "content": [{"type": "text", "txt": "a"}]}]),
        "messages[0].content[0].text",
        "required",
    ),
    (
        "CreateChatCompletionRequest",
        _with(CHAT, messages=[{"role": "user", "content": [{"type": "video", "url": "x"}]}]),
        "messages[0].content[0].type",
        "enum",
    ),
    (
        "CreateChatCompletionRequest",
        _with(CHAT, messages=[{"role": "system", "content": [{"type": "image_url", "image_url": {"url": "x"}}]}]),
        "messages[0].content[0].type",
        "const",
    ),
    (
        "CreateChatCompletionRequest",
        _with(CHAT, tools=[{"type": "function", "function": {"name": "has space"}}]),
        "tools[0].function.name",
        "pattern",
    ),
    ("CreateCompletionRequest", {"model": "m"}, "prompt", "required"),
    ("CreateCompletionRequest", {"prompt": "x"}, "model", "required"),
    ("CreateCompletionRequest", {"model": "m", "prompt": [1, "a"]}, "prompt", "anyOf"),
    ("CreateCompletionRequest", {"model": "m", "prompt": []}, "prompt", "anyOf"),
    ("CreateCompletionRequest", {"model": "m", "prompt": [[]]}, "prompt", "anyOf"),
    ("CreateCompletionRequest", {"model": "m", "prompt": "x", "logprobs": 6}, "logprobs", "maximum"),
    ("CreateCompletionRequest", {"model": "m", "prompt": "x", "logprobs": True}, "logprobs", "type"),
    ("CreateCompletionRequest", {"model": "m", "prompt": "x", "max_tokens": -1}, "max_tokens", "minimum"),
    ("CreateCompletionRequest", {"model": "m", "prompt": "x", "best_of": 21}, "best_of", "maximum"),
    ("CreateCompletionRequest", {"model": "m", "prompt": "x", "messages": []}, "messages", "additionalProperties"),
    ("CreateEmbeddingRequest", {"model": "e"}, "input", "required"),
    ("CreateEmbeddingRequest", {"model": "e", "input": ""}, "input", "anyOf"),
    ("CreateEmbeddingRequest", {"model": "e", "input": []}, "input", "anyOf"),
    ("CreateEmbeddingRequest", {"model": "e", "input": [[]]}, "input", "anyOf"),
    ("CreateEmbeddingRequest", {"model": "e", "input": ["x"] * 2049}, "input", "anyOf"),
    ("CreateEmbeddingRequest", {"model": "e", "input": "x", "encoding_format": "int8"}, "encoding_format", "enum"),
    ("CreateEmbeddingRequest", {"model": "e", "input": "x", "dimensions": 0}, "dimensions", "minimum"),
    ("CreateChatCompletionResponse", {k: v for k, v in CHAT_RESPONSE.items() if k != "usage"}, "usage", "required"),
    ("CreateChatCompletionResponse", _with(CHAT_RESPONSE, object="text_completion"), "object", "enum"),
    ("CreateChatCompletionResponse", _with(CHAT_RESPONSE, created="2024-01-01"), "created", "type"),
    ("CreateChatCompletionResponse", _choice(CHAT_RESPONSE, finish_reason="eos"), "choices[0].finish_reason", "enum"),
    ("CreateChatCompletionResponse", _choice(CHAT_RESPONSE, finish_reason=None), "choices[0].finish_reason", "type"),
    ("CreateChatCompletionResponse", _choice(CHAT_RESPONSE, index="0"), "choices[0].index", "type"),
    ("CreateChatCompletionResponse", _with(CHAT_RESPONSE, usage={**USAGE, "total_tokens": "8"}), "usage.total_tokens", "type"),
    ("CreateChatCompletionResponse", _choice(CHAT_RESPONSE, message={"role": "assistant"}), "choices[0].message.content", "required"),
    ("CreateChatCompletionStreamResponse", _choice(CHAT_CHUNK, finish_reason="done"), "choices[0].finish_reason", "enum"),
    ("CreateChatCompletionStreamResponse", {"choices": []}, "created", "required"),
    ("CreateChatCompletionStreamResponse", _with(CHAT_CHUNK, object="chat.completion"), "object", "enum"),
    ("CreateChatCompletionStreamResponse", _with(CHAT_CHUNK, usage={"prompt_tokens": 1}), "usage", "anyOf"),
    ("CreateCompletionResponse", _choice(COMPLETION_RESPONSE, finish_reason=None), "choices[0].finish_reason", "type"),
    ("CreateCompletionResponse", _choice(COMPLETION_RESPONSE, text=None), "choices[0].text", "type"),
    ("CreateCompletionStreamResponse", _choice(COMPLETION_CHUNK, finish_reason="tool_calls"), "choices[0].finish_reason", "enum"),
    ("CreateEmbeddingResponse", EMBEDDINGS_B64, "data[0].embedding", "type"),
    ("CreateEmbeddingResponse", _with(EMBEDDINGS, object="embedding"), "object", "enum"),
    ("CreateEmbeddingResponseBase64", EMBEDDINGS, "data[0].embedding", "type"),
    ("CreateEmbeddingResponseBase64", _with(EMBEDDINGS_B64, data=[{**EMBEDDINGS_B64["data"][0], "embedding": "not base64!"}]), "data[0].embedding", "pattern"),
    ("ListModelsResponse", {"object": "list", "data": [{"id": "m"}]}, "data[0].created", "required"),
    ("Model", _with(MODEL, object="models"), "object", "enum"),
    ("ModelHealth", {"model": "m", "status": "ok"}, "status", "enum"),
    ("ModelHealth", {"status": "ready"}, "model", "required"),
    ("ErrorResponse", {"error": {"message": "x", "type": "t", "param": None}}, "error.code", "required"),
    ("ErrorResponse", {"error": {"message": "x", "type": "t", "param": 3, "code": None}}, "error.param", "type"),
    ("ErrorResponse", {"message": "x"}, "error", "required"),
]  # fmt: skip
