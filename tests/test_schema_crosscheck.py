"""schemas/openapi.yaml against OpenAI's own document: every difference is intentional and written down.

The comparison walks each of our components beside its OpenAI counterpart and derives, at every
property both describe, the facts a client relies on: types, nullability, enums (including `const`),
numeric and length ranges, and required fields; for a closed (request) object, also which properties
exist. Every fact that differs must be listed in schemas/differences.yaml with its reason, and every
listed difference must still be found — so the list can neither hide a change nor rot.

The official document's response examples for these endpoints are validated against our response
components; the ones that are wrong on the wire are listed too.

Written here rather than taken from a library: the OpenAPI diff tools compare two versions of one API
path by path, not two differently-factored schemas fact by fact, and none knows OpenAI's 3.0-style
`nullable` inside a 3.1 document.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from typing import Any

import pytest
import yaml
from _repo import SHARED_DIR

import schemas
from schemas import OPENAPI_PATH

OFFICIAL_PATH = SHARED_DIR / "reference" / "openai-openapi.yaml"
DIFFERENCES_PATH = OPENAPI_PATH.with_name("differences.yaml")

pytestmark = pytest.mark.skipif(
    not OFFICIAL_PATH.is_file(),
    reason=f"OpenAI's document is not beside the checkout ({OFFICIAL_PATH}); CI places it there",
)

# ours -> OpenAI's. OpenAI streams completions with CreateCompletionResponse and describes no base64
# embedding response; ModelHealth has no counterpart (an extension).
PAIRS = {
    "CreateChatCompletionRequest": "CreateChatCompletionRequest",
    "CreateChatCompletionResponse": "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse": "CreateChatCompletionStreamResponse",
    "CreateCompletionRequest": "CreateCompletionRequest",
    "CreateCompletionResponse": "CreateCompletionResponse",
    "CreateCompletionStreamResponse": "CreateCompletionResponse",
    "CreateEmbeddingRequest": "CreateEmbeddingRequest",
    "CreateEmbeddingResponse": "CreateEmbeddingResponse",
    "CreateEmbeddingResponseBase64": "CreateEmbeddingResponse",
    "ListModelsResponse": "ListModelsResponse",
    "Model": "Model",
    "ErrorResponse": "ErrorResponse",
    "CreateResponse": "CreateResponse",
    "Response": "Response",
    "ResponseItemList": "ResponseItemList",
    "ResponseCreatedEvent": "ResponseCreatedEvent",
    "ResponseInProgressEvent": "ResponseInProgressEvent",
    "ResponseCompletedEvent": "ResponseCompletedEvent",
    "ResponseIncompleteEvent": "ResponseIncompleteEvent",
    "ResponseFailedEvent": "ResponseFailedEvent",
    "ResponseOutputItemAddedEvent": "ResponseOutputItemAddedEvent",
    "ResponseOutputItemDoneEvent": "ResponseOutputItemDoneEvent",
    "ResponseContentPartAddedEvent": "ResponseContentPartAddedEvent",
    "ResponseContentPartDoneEvent": "ResponseContentPartDoneEvent",
    "ResponseTextDeltaEvent": "ResponseTextDeltaEvent",
    "ResponseTextDoneEvent": "ResponseTextDoneEvent",
    "ResponseFunctionCallArgumentsDeltaEvent": "ResponseFunctionCallArgumentsDeltaEvent",
    "ResponseFunctionCallArgumentsDoneEvent": "ResponseFunctionCallArgumentsDoneEvent",
    "ResponseErrorEvent": "ResponseErrorEvent",
}

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

MAX_DEPTH = 8  # property nesting compared; deeper structure is free-form (JSON Schema, tool parameters)
FACTS = ("type", "nullable", "enum", "minimum", "maximum", "minItems", "maxItems", "minLength", "maxLength",
         "required")  # fmt: skip


@dataclass(frozen=True)
class Difference:
    component: str
    pointer: str  # JSON pointer into our component, through properties and items
    what: str  # a fact name, "property-absent" (OpenAI has it, we reject it) or "property-extra"
    ours: Any
    official: Any


class View:
    """One schema node with its refs followed and its allOf/anyOf/oneOf branches gathered."""

    def __init__(self, doc: dict[str, Any], node: dict[str, Any]) -> None:
        self.doc = doc
        self.root = node
        self.all: list[dict[str, Any]] = []  # the node and allOf members: all apply
        self.alternatives: list[list[dict[str, Any]]] = []  # each anyOf/oneOf: one of them applies
        self._gather(node, self.all)

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in node and seen < 32:
            ref = node["$ref"]
            target: Any = self.doc
            for part in ref.removeprefix("#/").split("/"):
                target = target[part]
            # siblings of $ref (3.1) still apply; the ref's own keys fill in
            node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
            seen += 1
        return node

    def _gather(self, node: dict[str, Any], into: list[dict[str, Any]]) -> None:
        node = self._resolve(node)
        into.append(node)
        for member in node.get("allOf", ()):
            self._gather(member, into)
        for keyword in ("anyOf", "oneOf"):
            if keyword in node:
                branches: list[dict[str, Any]] = []
                for member in node[keyword]:
                    self._gather(member, branches)
                self.alternatives.append(branches)

    def _required(self, node: dict[str, Any]) -> set[str]:
        """Names required whichever alternative applies: own and allOf's, plus those every alternative requires."""
        node = self._resolve(node)
        required = set(node.get("required", ()))
        for member in node.get("allOf", ()):
            required |= self._required(member)
        for keyword in ("anyOf", "oneOf"):
            members = [m for m in node.get(keyword, ()) if self._resolve(m).get("type") != "null"]
            if members:
                required |= set.intersection(*(self._required(m) for m in members))
        return required

    def nodes(self) -> Iterator[dict[str, Any]]:
        yield from self.all
        for branches in self.alternatives:
            yield from branches

    def _values(self, keyword: str) -> list[Any]:
        return [n[keyword] for n in self.nodes() if keyword in n]

    def _bound(self, keyword: str, pick: Any) -> Any:
        values = [v for v in self._values(keyword) if isinstance(v, int | float)]
        return pick(values) if values else None

    def _fewest_items(self) -> int | None:
        """The fewest items an array here may hold, whichever alternative applies (None: not stated).

        An array branch that states no `minItems` allows none, so it lowers the bound to 0: `[]` is
        valid there even when a sibling branch asks for one item."""
        arrays = [n for n in self.nodes() if "minItems" in n or "array" in _types(n)]
        if not any(isinstance(n.get("minItems"), int) for n in arrays):
            return None
        return min(n.get("minItems", 0) for n in arrays)

    def facts(self) -> dict[str, Any]:
        types: set[str] = set()
        for node in self.nodes():
            types.update(_types(node))
        enum: set[Any] = set(self._values("const"))
        for values in self._values("enum"):
            enum.update(values)
        nullable = "null" in types or None in enum or any(n.get("nullable") is True for n in self.nodes())
        required = self._required(self.root)
        return {
            "type": sorted(types - {"null"}) or None,
            "nullable": nullable,
            "enum": sorted(enum - {None}, key=str) or None,
            "minimum": self._bound("minimum", min),
            "maximum": self._bound("maximum", max),
            "minItems": self._fewest_items(),
            "maxItems": self._bound("maxItems", max),
            "minLength": self._bound("minLength", min),
            "maxLength": self._bound("maxLength", max),
            "required": sorted(required) or None,
        }

    def properties(self) -> dict[str, dict[str, Any]]:
        """Each property's schema; one described by several alternatives is their `anyOf`."""
        merged: dict[str, list[dict[str, Any]]] = {}
        for n in self.nodes():
            for name, schema in n.get("properties", {}).items():
                merged.setdefault(name, []).append(schema)
        return {name: _union(found) for name, found in merged.items()}

    def closed(self, node: dict[str, Any] | None = None) -> bool:
        """Whether unknown properties are rejected, whichever alternative applies."""
        node = self._resolve(self.root if node is None else node)
        if node.get("additionalProperties") is False or any(self.closed(m) for m in node.get("allOf", ())):
            return True
        for keyword in ("anyOf", "oneOf"):
            members = [m for m in node.get(keyword, ()) if self._resolve(m).get("type") != "null"]
            if members and all(self.closed(m) for m in members):
                return True
        return False

    def items(self) -> dict[str, Any] | None:
        found = [n["items"] for n in self.nodes() if isinstance(n.get("items"), dict)]
        return _union(found) if found else None


def _union(schemas_: list[dict[str, Any]]) -> dict[str, Any]:
    return schemas_[0] if len(schemas_) == 1 else {"anyOf": schemas_}


_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", dict: "object", list: "array"}


def _types(node: dict[str, Any]) -> set[str]:
    """The JSON types a node names, or implies (by `const`/`enum` values, or by `properties`)."""
    if "type" in node:
        return {node["type"]} if isinstance(node["type"], str) else set(node["type"])
    values = [node["const"]] if "const" in node else list(node.get("enum", ()))
    implied = {_JSON_TYPES[type(v)] for v in values if type(v) in _JSON_TYPES}
    if "properties" in node:
        implied.add("object")
    return implied


def _compare(component: str, ours: View, official: View, pointer: str, depth: int) -> Iterator[Difference]:
    mine, theirs = ours.facts(), official.facts()
    for fact in FACTS:
        if mine[fact] != theirs[fact]:
            yield Difference(component, pointer or "/", fact, _freeze(mine[fact]), _freeze(theirs[fact]))
    if depth >= MAX_DEPTH:
        return
    our_props, their_props = ours.properties(), official.properties()
    for name in sorted(set(our_props) | set(their_props)):
        where = f"{pointer}/properties/{name}"
        if name not in their_props:
            yield Difference(component, where, "property-extra", True, None)
        elif name not in our_props:
            if ours.closed():  # an open response simply does not describe it; a closed request rejects it
                yield Difference(component, where, "property-absent", None, True)
        else:
            yield from _compare(
                component,
                View(ours.doc, our_props[name]),
                View(official.doc, their_props[name]),
                where,
                depth + 1,
            )
    our_items, their_items = ours.items(), official.items()
    if our_items is not None and their_items is not None:
        yield from _compare(
            component,
            View(ours.doc, our_items),
            View(official.doc, their_items),
            f"{pointer}/items",
            depth + 1,
        )


@cache
def official_document() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with OFFICIAL_PATH.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)


def found_differences() -> set[Difference]:
    ours, theirs = schemas.load_openapi(), official_document()
    found: set[Difference] = set()
    for mine, official in PAIRS.items():
        found.update(
            _compare(
                mine,
                View(ours, ours["components"]["schemas"][mine]),
                View(theirs, theirs["components"]["schemas"][official]),
                "",
                0,
            )
        )
    return found


def _freeze(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def listed(section: str) -> list[dict[str, Any]]:
    with DIFFERENCES_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)[section]


def test_differences_file_is_well_formed() -> None:
    for entry in listed("schema") + listed("examples"):
        assert isinstance(entry.get("reason"), str) and len(entry["reason"]) > 20, entry
    assert all({"component", "pointer", "what", "reason"} <= set(e) for e in listed("schema"))
    keys = [(e["component"], e["pointer"], e["what"]) for e in listed("schema")]
    assert len(keys) == len(set(keys)), "a difference is listed twice"


def _covers(entry: dict[str, Any], difference: Difference) -> bool:
    """Whether a listed entry describes a found difference (`component`, `pointer`, `what` may be globs)."""
    return (
        fnmatchcase(difference.component, entry["component"])
        and fnmatchcase(difference.pointer, entry["pointer"])
        and fnmatchcase(difference.what, entry["what"])
        and all(
            _freeze(entry[side]) == getattr(difference, side)
            for side in ("ours", "official")
            if side in entry
        )
    )


def test_every_difference_is_listed_and_every_listed_one_still_exists() -> None:
    found = found_differences()
    entries = listed("schema")
    unlisted = sorted(
        (d for d in found if not any(_covers(e, d) for e in entries)), key=lambda d: (d.component, d.pointer)
    )
    stale = [e for e in entries if not any(_covers(e, d) for d in found)]
    overlapping = [d for d in found if sum(_covers(e, d) for e in entries) > 1]
    assert not unlisted, f"differences from OpenAI's document not in {DIFFERENCES_PATH.name}: " + "\n".join(
        map(repr, unlisted)
    )
    assert not stale, f"listed differences that no longer exist (or whose values changed): {stale}"
    assert not overlapping, f"differences explained by more than one entry: {overlapping}"


@pytest.mark.parametrize(
    ("component", "pointer", "fact", "value"),
    [
        ("CreateChatCompletionRequest", "/properties/temperature", "maximum", 2),
        ("CreateChatCompletionRequest", "/properties/top_p", "maximum", 1),
        ("CreateChatCompletionRequest", "/properties/n", "maximum", 128),
        ("CreateChatCompletionRequest", "/properties/stop", "maxItems", 4),
        ("CreateChatCompletionRequest", "/properties/top_logprobs", "maximum", 20),
        ("CreateChatCompletionRequest", "/properties/presence_penalty", "minimum", -2),
        ("CreateChatCompletionRequest", "/properties/frequency_penalty", "maximum", 2),
        ("CreateChatCompletionStreamResponse", "/properties/choices/items/properties/delta/properties/role", "enum",
         ["assistant", "developer", "system", "tool", "user"]),
        ("CreateChatCompletionRequest", "", "required", ["messages", "model"]),
        ("CreateCompletionRequest", "/properties/logprobs", "maximum", 5),
        ("CreateCompletionRequest", "/properties/stop", "maxItems", 4),
        ("CreateEmbeddingRequest", "/properties/encoding_format", "enum", ["base64", "float"]),
        ("CreateChatCompletionResponse", "/properties/choices/items/properties/finish_reason", "enum",
         ["content_filter", "function_call", "length", "stop", "tool_calls"]),
        ("CreateChatCompletionStreamResponse", "/properties/object", "enum", ["chat.completion.chunk"]),
        ("ErrorResponse", "/properties/error", "required", ["code", "message", "param", "type"]),
    ],
)  # fmt: skip
def test_agreement_is_real(component: str, pointer: str, fact: str, value: Any) -> None:
    """The walk reaches the places the issue names, and ours and OpenAI's agree there."""
    ours, theirs = schemas.load_openapi(), official_document()

    def at(doc: dict[str, Any], name: str) -> View:
        view = View(doc, doc["components"]["schemas"][name])
        for step in [s for s in pointer.split("/") if s and s != "properties"]:
            node = view.items() if step == "items" else view.properties()[step]
            assert node is not None
            view = View(doc, node)
        return view

    assert at(ours, component).facts()[fact] == value
    assert at(theirs, PAIRS[component]).facts()[fact] == value


def test_comparison_detects_a_change() -> None:
    """A changed range in our document shows up as a difference (the comparison can fail)."""
    ours, theirs = schemas.load_openapi(), official_document()
    changed = json.loads(json.dumps(ours))
    changed["components"]["schemas"]["CreateChatCompletionRequest"]["properties"]["temperature"][
        "maximum"
    ] = 3
    component = "CreateChatCompletionRequest"
    found = set(_compare(component, View(changed, changed["components"]["schemas"][component]),
                         View(theirs, theirs["components"]["schemas"][component]), "", 0))  # fmt: skip
    assert Difference(component, "/properties/temperature", "maximum", 3, 2) in found
    assert not any(
        d.pointer == "/properties/temperature" for d in found_differences() if d.component == component
    )


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
