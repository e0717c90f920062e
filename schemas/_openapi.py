"""The OpenAPI document as validators: the one source of truth for shapes, read by the suite and the server.

`schemas/openapi.yaml` is an OpenAPI 3.1 document whose `components.schemas` are JSON Schema
(draft 2020-12). Component names follow OpenAI's own (`CreateChatCompletionRequest`, ...), with
our additions named in the same style.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

OPENAPI_PATH = Path(__file__).with_name("openapi.yaml")
_DOC_URI = "urn:compat-suite:openapi"


@dataclass(frozen=True)
class SchemaError:
    """One validation error: where (`param`, dotted OpenAI style) and what."""

    param: str | None
    message: str
    validator: str  # the JSON Schema keyword that failed (type, enum, maximum, required, ...)


@cache
def load_openapi() -> dict[str, Any]:
    with OPENAPI_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@cache
def _registry() -> Registry:
    resource = Resource.from_contents(load_openapi(), default_specification=DRAFT202012)
    return Registry().with_resource(_DOC_URI, resource)


@cache
def validator(component: str) -> Draft202012Validator:
    """A validator for `#/components/schemas/<component>`, with refs resolved in the document."""
    if component not in load_openapi()["components"]["schemas"]:
        raise KeyError(f"no schema component {component!r} in {OPENAPI_PATH.name}")
    schema = {"$ref": f"{_DOC_URI}#/components/schemas/{component}"}
    return Draft202012Validator(schema, registry=_registry())


def component_schema(component: str) -> dict[str, Any]:
    """A self-contained JSON Schema for one component (the document's components under `$defs`).

    For tools that cannot follow refs into another document (hypothesis-jsonschema).
    """
    doc = load_openapi()
    defs = doc["components"]["schemas"]
    return _rewrite_refs({**defs[component], "$defs": defs})


def _rewrite_refs(node: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str) and value.startswith("#/components/schemas/"):
                out[key] = "#/$defs/" + value.rsplit("/", 1)[1]
            else:
                out[key] = _rewrite_refs(value)
        return out
    if isinstance(node, list):
        return [_rewrite_refs(v) for v in node]
    return node


def param_path(path: Any) -> str | None:
    """`["messages", 0, "role"]` -> `"messages[0].role"`, the way OpenAI names params."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or None


def _discriminated(error: ValidationError) -> list[ValidationError]:
    """The errors inside the variant that an `anyOf`/`oneOf` with a `discriminator` picks, if one matches.

    OpenAPI's `discriminator` names the property whose value selects the variant (`role`, `type`); an
    error in that variant names the offending field (`messages[0].content`) where the bare `anyOf`
    error could only name the whole object (`messages[0]`).
    """
    if error.validator not in ("anyOf", "oneOf") or not isinstance(error.schema, dict):
        return []
    # `x-discriminator`: the same, for an open union (other values valid), which OpenAPI's cannot say
    chosen = error.schema.get("discriminator") or error.schema.get("x-discriminator") or {}
    name = chosen.get("propertyName")
    if not name or not isinstance(error.instance, dict):
        return []
    by_variant: dict[Any, list[ValidationError]] = {}
    for sub in error.context or ():
        by_variant.setdefault(sub.relative_schema_path[0], []).append(sub)
    for variant, subs in by_variant.items():
        # the variant whose discriminator accepted the value (or its absence, where the variant does
        # not require it: a Responses message may leave out `type`) is the one the client meant
        if not any(_about(sub, name) for sub in subs):
            return [deeper for sub in by_variant[variant] for deeper in [sub, *_discriminated(sub)]]
    return []


def _about(error: ValidationError, name: str) -> bool:
    """Whether `error` rejects the property `name` itself (its value, or its absence)."""
    if list(error.relative_path) == [name]:
        return True
    return error.validator == "required" and error.message.startswith(repr(name))


def errors(component: str, instance: Any) -> list[SchemaError]:
    """All validation errors of `instance` against a component, most specific first.

    Inside a discriminated union (`discriminator` beside `anyOf`), the errors of the variant that the
    discriminator picks are included, so the first error names the offending field.
    """
    top = list(validator(component).iter_errors(instance))
    found: list[ValidationError] = sorted(
        [deeper for err in top for deeper in [err, *_discriminated(err)]],
        key=lambda e: (-len(e.absolute_path), str(e.message)),
    )
    out = []
    for err in found:
        path = list(err.absolute_path)
        if err.validator == "required" and isinstance(err.validator_value, list):
            # jsonschema reports each missing property as its own error, named only in the message
            absent = [f for f in err.validator_value if f not in (err.instance or {})]
            missing = next(
                (f for f in absent if err.message.startswith(repr(f))), absent[0] if absent else None
            )
            if missing is not None:
                path.append(missing)
        if err.validator == "additionalProperties" and isinstance(err.instance, dict):
            allowed = set(err.schema.get("properties", {}))
            extra = sorted(k for k in err.instance if k not in allowed)
            if extra:
                path.append(extra[0])
        out.append(SchemaError(param_path(path), err.message, str(err.validator)))
    return out
