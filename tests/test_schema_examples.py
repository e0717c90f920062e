"""OpenAI's own examples against our schemas: each response example of these endpoints (and the request
in its curl) validates against our component, or its problem is listed in schemas/differences.yaml
(`examples`), and every listed problem still occurs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from _official_openapi import listed, needs_official_document, official_document

import schemas

pytestmark = needs_official_document

# (path, method, example title or None for a single example) -> the component its response is.
EXAMPLE_COMPONENTS = {
    ("/chat/completions", "post", "Default"): "CreateChatCompletionResponse",
    ("/chat/completions", "post", "Image input"): "CreateChatCompletionResponse",
    ("/chat/completions", "post", "Streaming"): "CreateChatCompletionStreamResponse",
    ("/chat/completions", "post", "Functions"): "CreateChatCompletionResponse",
    ("/chat/completions", "post", "Logprobs"): "CreateChatCompletionResponse",
    ("/completions", "post", "No streaming"): "CreateCompletionResponse",
    ("/completions", "post", "Streaming"): "CreateCompletionStreamResponse",
    ("/embeddings", "post", None): "CreateEmbeddingResponse",
    ("/models", "get", None): "ListModelsResponse",
    ("/models/{model}", "get", None): "Model",
    ("/responses", "post", "Text input"): "Response",
    ("/responses", "post", "Streaming"): "ResponseStreamEvent",
    ("/responses", "post", "Functions"): "Response",
    ("/responses/{response_id}", "get", None): "Response",
    ("/responses/{response_id}", "delete", None): "DeleteResponseResponse",
    ("/responses/{response_id}/input_items", "get", None): "ResponseItemList",
}
REQUEST_COMPONENTS = {"/chat/completions": "CreateChatCompletionRequest", "/completions": "CreateCompletionRequest",
                      "/embeddings": "CreateEmbeddingRequest", "/responses": "CreateResponse"}  # fmt: skip


def _tolerant(text: str) -> str:
    """Hand-written example JSON made parseable: elision lines dropped, trailing commas removed,
    a comma missing between two members (a line break and then a key) put back."""
    text = re.sub(r"^[ \t]*\.{3,}.*\n?", "", text, flags=re.MULTILINE)
    text = re.sub(r",(\s*[\]}])", r"\1", text)
    return re.sub(r'(["\d\]}el])([ \t]*\n[ \t]*")', r"\1,\2", text)


def _example_documents(text: str) -> list[Any] | None:
    """The JSON values in an example response: one document, or a stream's events (`....` elided)."""
    text = _tolerant(text)
    try:
        return [json.loads(text)]
    except json.JSONDecodeError:
        pass
    decoder, values, position = json.JSONDecoder(), [], 0
    for match in re.finditer(r"^(?:data: )?(\{)", text, flags=re.MULTILINE):
        if match.start(1) < position:
            continue
        try:
            value, position = decoder.raw_decode(text, match.start(1))
        except json.JSONDecodeError:
            return None
        values.append(value)
    return values or None


def _examples() -> Iterator[tuple[str, str, str | None, dict[str, Any]]]:
    paths = official_document()["paths"]
    for (path, method, title), _component in EXAMPLE_COMPONENTS.items():
        examples = paths[path][method]["x-oaiMeta"]["examples"]
        if isinstance(examples, dict):
            yield path, method, title, examples
        else:
            yield path, method, title, next(e for e in examples if e.get("title") == title)


def example_problems() -> set[tuple[str, str, str]]:
    """(operation, title, problem) for every official example our schemas reject."""
    problems: set[tuple[str, str, str]] = set()
    for path, method, title, example in _examples():
        operation = f"{method.upper()} {path}"
        label = title or "(single example)"
        component = EXAMPLE_COMPONENTS[(path, method, title)]
        documents = _example_documents(example["response"])
        if documents is None:
            problems.add((operation, label, "response is not JSON"))
            continue
        for document in documents:
            for error in schemas.errors(component, document):
                problems.add((operation, label, f"response {error.param}: {error.validator}"))
        body = re.search(r"-d '(\{.*?\})'", example["request"].get("curl", ""), flags=re.DOTALL)
        if path in REQUEST_COMPONENTS and body:
            for error in schemas.errors(REQUEST_COMPONENTS[path], json.loads(body.group(1))):
                problems.add((operation, label, f"request {error.param}: {error.validator}"))
    return problems


def test_official_examples_validate_or_are_listed() -> None:
    found = example_problems()
    documented = {(e["operation"], e["title"], e["problem"]) for e in listed("examples")}
    assert not found - documented, (
        f"official examples our schemas reject, not listed: {sorted(found - documented)}"
    )
    assert not documented - found, (
        f"listed example problems that no longer occur: {sorted(documented - found)}"
    )


def test_every_example_is_checked() -> None:
    """Each example named here exists and is read (a renamed or unreadable one fails here, not silently)."""
    seen = list(_examples())
    assert len(seen) == len(EXAMPLE_COMPONENTS)
    for _path, _method, title, example in seen:
        documents = _example_documents(example["response"])
        assert documents, title
        assert (
            len(documents) > 1
            if title == "Streaming" and _path in ("/chat/completions", "/responses")
            else len(documents) == 1
        )


def test_example_check_can_fail() -> None:
    """An official example with a wrong finish_reason would be reported."""
    _, _, _, example = next(e for e in _examples() if e[2] == "Default")
    document = _example_documents(example["response"])[0]
    document["choices"][0]["finish_reason"] = "eos"
    assert [e.param for e in schemas.errors("CreateChatCompletionResponse", document)] == [
        "choices[0].finish_reason"
    ]
