"""What shows a Responses parameter silently ignored, for the `responses.*` parameter-effect checks:
each verdict reads the answer's Response and says what it shows of the parameter being ignored, or
None (the tools area's `parameter_effect` turns it into honoured, refused or ignored)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..exchange import Exchange
from . import _common as c
from . import _response_stream as rs
from . import _tools_reading as tr

Json = dict[str, Any]
Ignored = Callable[[Json], str | None]
_NOT_JSON = object()


def effect(exchange: Exchange, param: str, asked: bool, ignored: Ignored, opens: str = "") -> str:
    """The tools area's verdict on a parameter's effect, for a Response: a response the token limit cut
    is not judged (its output may stop short of what was asked), except by how its text began: where
    `opens` says what a JSON answer starts with, cut text that never began so shows it was ignored."""

    def unless_cut(payload: Json) -> str | None:
        if payload.get("status") != "incomplete":
            return ignored(payload)
        text = rs.output_text(payload)
        if opens and not tr.began_as_json(text, opens):
            return f"cut at the token limit, and the text {c.short(text.lstrip())} never began as JSON"
        return None

    return tr.parameter_effect(exchange, param, asked, unless_cut)


def instructions_ignored(longer: Exchange | None) -> Ignored:
    """Longer instructions (the `longer` exchange) did not cost more input tokens."""

    def ignored(payload: Json) -> str | None:
        few, more = rs.usage_counts(payload), rs.usage_counts(c.body(longer)) if longer is not None else None
        if few is not None and more is not None and more[0] <= few[0]:
            return f"input_tokens {few[0]} with short instructions and {more[0]} with longer ones"
        return None

    return ignored


def text_not_json_object(payload: Json) -> str | None:
    return None if isinstance(_parsed(rs.output_text(payload)), dict) else "the text is not a JSON object"


def text_off_schema(schema: Json) -> Ignored:
    """The text is not JSON, or not valid against `schema`."""

    def ignored(payload: Json) -> str | None:
        text = rs.output_text(payload)
        value = _parsed(text)
        if value is _NOT_JSON:
            return f"the text {c.short(text)} is not JSON"
        problem = tr.argument_problem(text, schema)
        return problem.replace("arguments", "the text", 1) if problem else None

    return ignored


def tool_choice_ignored(choice: Any, named: str | None) -> Ignored:
    """The calls made break `tool_choice` (none: no call; required: a call; `named`: calls to it alone)."""

    def ignored(payload: Json) -> str | None:
        names = [i.get("name") for i in rs.output_items(payload) if i.get("type") == "function_call"]
        if choice == "none":  # a call begun is a call made, even one the token limit cut
            return f"{len(names)} call(s) made" if names else None
        if not names:
            return None if payload.get("status") == "incomplete" else "no call made"
        return (
            None if named is None or set(names) == {named} else f"asked for calls to {named!r}, got {names}"
        )

    return ignored


def text_format(exchange: Exchange) -> Json:
    """The request's `text.format` ({} when it sent none)."""
    text = c.request_body(exchange).get("text")
    fmt = text.get("format") if isinstance(text, dict) else None
    return fmt if isinstance(fmt, dict) else {}


def _parsed(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return _NOT_JSON
