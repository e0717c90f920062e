"""schemas/openapi.yaml: a valid OpenAPI 3.1 document whose components accept and reject what they should.

The reference server turns the first `errors()` entry into its 400's `param`, so the known-bad cases
pin both the parameter named and the JSON Schema keyword that failed.
"""

from __future__ import annotations

import base64
import struct
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate as validate_openapi
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

import schemas

FIXED_COMPONENTS = (
    "CreateChatCompletionRequest",
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "CreateCompletionRequest",
    "CreateCompletionResponse",
    "CreateCompletionStreamResponse",
    "CreateEmbeddingRequest",
    "CreateEmbeddingResponse",
    "CreateEmbeddingResponseBase64",
    "ListModelsResponse",
    "Model",
    "ModelHealth",
    "ErrorResponse",
)
REQUEST_COMPONENTS = ("CreateChatCompletionRequest", "CreateCompletionRequest", "CreateEmbeddingRequest")
RESPONSE_COMPONENTS = tuple(c for c in FIXED_COMPONENTS if c not in REQUEST_COMPONENTS)
ERROR_STATUSES = ("400", "401", "404", "405", "413", "415", "429", "500")

DOC = schemas.load_openapi()
COMPONENTS = DOC["components"]["schemas"]


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


def _walk(node: Any):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _reachable(component: str) -> set[str]:
    """The component and every component its refs reach."""
    seen, todo = set(), [component]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for node in _walk(COMPONENTS[name]):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
                todo.append(ref.rsplit("/", 1)[1])
    return seen


def test_document_is_valid_openapi_3_1() -> None:
    assert DOC["openapi"].startswith("3.1.")
    assert DOC["jsonSchemaDialect"] == "https://json-schema.org/draft/2020-12/schema"
    assert DOC["servers"] == [{"url": "/v1"}]
    validate_openapi(DOC)  # raises OpenAPIValidationError with the location of the problem


def test_invalid_document_is_caught() -> None:
    """The validator used above does reject a broken document (so the test above can fail)."""
    broken = {**DOC, "paths": {"/models": {"get": {"responses": {"200": {"content": {}}}}}}}
    with pytest.raises(OpenAPIValidationError, match=r"description.? is a required property"):
        validate_openapi(broken)


@pytest.mark.parametrize("component", sorted(COMPONENTS))
def test_component_is_valid_draft_2020_12(component: str) -> None:
    Draft202012Validator.check_schema(COMPONENTS[component])
    schemas.validator(component)  # every ref resolves inside the document


def test_fixed_components_exist() -> None:
    assert set(FIXED_COMPONENTS) <= set(COMPONENTS)


def test_every_ref_points_at_a_component() -> None:
    refs = {node["$ref"] for node in _walk(DOC) if isinstance(node.get("$ref"), str)}
    for ref in refs:
        kind, name = ref.removeprefix("#/components/").split("/")
        assert name in DOC["components"][kind], ref


@pytest.mark.parametrize(
    ("path", "method", "request_component", "response_components"),
    [
        ("/chat/completions", "post", "CreateChatCompletionRequest", {"CreateChatCompletionResponse"}),
        ("/completions", "post", "CreateCompletionRequest", {"CreateCompletionResponse"}),
        (
            "/embeddings",
            "post",
            "CreateEmbeddingRequest",
            {"CreateEmbeddingResponse", "CreateEmbeddingResponseBase64"},
        ),
        ("/models", "get", None, {"ListModelsResponse"}),
        ("/models/{model}", "get", None, {"Model"}),
        ("/models/{model}/health", "get", None, {"ModelHealth"}),
    ],
)
def test_paths(path: str, method: str, request_component: str | None, response_components: set[str]) -> None:
    operation = DOC["paths"][path][method]
    if request_component:
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": f"#/components/schemas/{request_component}"}
    ok = operation["responses"]["200"]["content"]
    named = {node["$ref"].rsplit("/", 1)[1] for node in _walk(ok["application/json"]) if "$ref" in node}
    assert named == response_components
    if path in ("/chat/completions", "/completions"):
        assert "text/event-stream" in ok
    responses = DOC["components"]["responses"]
    for status, answer in operation["responses"].items():
        if status.startswith(("4", "5")):
            target = responses[answer["$ref"].rsplit("/", 1)[1]]
            assert target["content"]["application/json"]["schema"] == {
                "$ref": "#/components/schemas/ErrorResponse"
            }
    expected = set(ERROR_STATUSES) if request_component else set(ERROR_STATUSES) - {"400", "413", "415"}
    if path == "/models":
        expected -= {"404"}
    assert set(operation["responses"]) - {"200"} == expected


@pytest.mark.parametrize("component", REQUEST_COMPONENTS)
def test_requests_are_closed_and_extensions_are_marked(component: str) -> None:
    schema = COMPONENTS[component]
    assert schema["additionalProperties"] is False
    extensions = {name for name, prop in schema["properties"].items() if prop.get("x-extension")}
    if component == "CreateEmbeddingRequest":
        assert extensions == set()
    else:
        assert extensions == {"ignore_eos", "min_tokens"}
        assert all(schema["properties"][name].get("description") for name in extensions)


@pytest.mark.parametrize("component", RESPONSE_COMPONENTS)
def test_responses_are_open(component: str) -> None:
    """Providers and OpenAI add response fields; a response schema never forbids an unknown one."""
    for name in _reachable(component):
        for node in _walk(COMPONENTS[name]):
            assert node.get("additionalProperties") is not False, name
            assert "unevaluatedProperties" not in node, name


@pytest.mark.parametrize(("component", "instance"), GOOD, ids=[f"{c}-{i}" for i, (c, _) in enumerate(GOOD)])
def test_known_good(component: str, instance: Any) -> None:
    assert schemas.errors(component, instance) == []


@pytest.mark.parametrize(
    ("component", "instance", "param", "keyword"), BAD, ids=[f"{c}-{p}-{k}" for c, _, p, k in BAD]
)
def test_known_bad(component: str, instance: Any, param: str | None, keyword: str) -> None:
    found = schemas.errors(component, instance)
    assert found, "accepted"
    assert (found[0].param, found[0].validator) == (param, keyword), found


def test_every_fixed_component_has_a_good_and_a_bad_case() -> None:
    assert {c for c, _ in GOOD} == set(FIXED_COMPONENTS)
    assert {c for c, *_ in BAD} == set(FIXED_COMPONENTS)


# Chat requests are big (45 properties, nested unions); a few examples prove the schema generates.
_EXAMPLES = {"CreateChatCompletionRequest": 12, "CreateCompletionRequest": 25, "CreateEmbeddingRequest": 25}


@pytest.mark.parametrize("component", REQUEST_COMPONENTS)
def test_hypothesis_generates_valid_requests(component: str) -> None:
    strategy = from_schema(schemas.component_schema(component))
    drawn: list[Any] = []

    @settings(
        max_examples=_EXAMPLES[component],
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )
    @given(strategy)
    def generated_instances_validate(instance: Any) -> None:
        drawn.append(instance)
        assert schemas.errors(component, instance) == []

    generated_instances_validate()
    assert len(drawn) >= _EXAMPLES[component] // 2
    assert all({"model"} <= set(instance) for instance in drawn)


def test_discriminator_descends_only_into_the_named_variant() -> None:
    """A valid role with a bad field names the field; an unknown role names `role` (not a variant's field)."""
    bad_content = schemas.errors("CreateChatCompletionRequest", _with(CHAT, messages=[{"role": "tool"}]))
    assert {e.param for e in bad_content} == {
        "messages[0].content",
        "messages[0].tool_call_id",
        "messages[0]",
    }
    unknown = schemas.errors("CreateChatCompletionRequest", _with(CHAT, messages=[{"role": "robot"}]))
    assert [e.param for e in unknown] == ["messages[0].role", "messages[0]"]


@pytest.mark.parametrize(
    ("component", "instance", "missing"),
    [
        ("CreateChatCompletionRequest", {}, {"model", "messages"}),
        ("CreateCompletionRequest", {}, {"model", "prompt"}),
        ("CreateEmbeddingRequest", {}, {"model", "input"}),
        (
            "CreateChatCompletionResponse",
            {"object": "chat.completion"},
            {"id", "choices", "created", "model"},
        ),
        ("Model", {}, {"id", "object", "created", "owned_by"}),
        ("ErrorResponse", {"error": {}}, {"error.message", "error.type"}),
    ],
)
def test_each_missing_required_field_is_named_once(component: str, instance: Any, missing: set[str]) -> None:
    """Several required fields missing at once: one `required` error per field, each naming its own."""
    required = [e for e in schemas.errors(component, instance) if e.validator == "required"]
    params = [e.param for e in required]
    assert missing <= set(params), required
    assert len(params) == len(set(params)), f"a field named twice: {required}"
    for error in required:  # the param is the field the message is about, not a sibling's
        assert error.message.startswith(repr(error.param.rsplit(".", 1)[-1])), error
