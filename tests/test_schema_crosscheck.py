"""schemas/openapi.yaml against OpenAI's own document: every difference is intentional and written down.

The comparison walks each of our components beside its OpenAI counterpart and derives, at every
property both describe, the facts a client relies on: types, nullability, enums (including `const`),
numeric and length ranges, and required fields; for a closed (request) object, also which properties
exist. Every fact that differs must be listed in schemas/differences.yaml with its reason, and every
listed difference must still be found — so the list can neither hide a change nor rot.

The official document's examples are validated against our components in test_schema_examples.py.

Written here rather than taken from a library: the OpenAPI diff tools compare two versions of one API
path by path, not two differently-factored schemas fact by fact, and none knows OpenAI's 3.0-style
`nullable` inside a 3.1 document.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import pytest
from _official_openapi import DIFFERENCES_PATH, listed, needs_official_document, official_document

import schemas

pytestmark = needs_official_document

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
