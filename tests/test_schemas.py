"""schemas/openapi.yaml: a valid OpenAPI 3.1 document whose components accept and reject what they should.

The reference server turns the first `errors()` entry into its 400's `param`, so the known-bad cases
pin both the parameter named and the JSON Schema keyword that failed (the instances are in
tests/_schema_instances.py).
"""

from __future__ import annotations

from typing import Any

import pytest
from _schema_instances import BAD, CHAT, GOOD
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
    bad_content = schemas.errors("CreateChatCompletionRequest", {**CHAT, "messages": [{"role": "tool"}]})
    assert {e.param for e in bad_content} == {
        "messages[0].content",
        "messages[0].tool_call_id",
        "messages[0]",
    }
    unknown = schemas.errors("CreateChatCompletionRequest", {**CHAT, "messages": [{"role": "robot"}]})
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
