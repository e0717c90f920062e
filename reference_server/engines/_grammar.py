"""The grammar a `Structure` puts on the transformers engine's output, for llguidance.

llguidance (Microsoft's Low-level Guidance, a Rust library with no Python dependencies) compiles a
JSON Schema or a Lark grammar lazily against the tokenizer and answers, per decoding step, which
tokens keep the text inside the grammar. Chosen over xgrammar, which needs triton and an unpinned
torch; benchmarks/bench_constrained.py measured both on this CPU (README: Benchmarks).

- `json_object`: any JSON object. `json_schema`: the request's schema.
- `tools`, `required`: `<tool_call>` + a JSON list of 1 (or, with parallel calls, up to
  MAX_PARALLEL_CALLS) call objects, each `{"name": <one of the tools>, "arguments": <its parameters>}`,
  + `</tool_call>`; nothing else.
- `tools`, `none` (tools shown, no call allowed): text without "<".
- `tools`, `auto`: that, or free text that does not open with "<" (so the model chooses, and a
  call it starts is a valid one); with a response_format, JSON of its schema instead of free text.

JSON is written compactly with one space after ":" and ",", as SmolLM2 writes it.
"""

from __future__ import annotations

import json
from typing import Any

import llguidance

from ..errors import APIError
from ..tools import CALL_CLOSE, CALL_OPEN
from .base import Structure, ToolSpec

MAX_PARALLEL_CALLS = 8
JSON_STYLE = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}


def grammar_for(structure: Structure) -> str:
    """The llguidance grammar (serialized) of `structure`."""
    if structure.kind == "json_object":
        return llguidance.LLMatcher.grammar_from_json_schema({"type": "object"}, defaults=JSON_STYLE)
    if structure.kind == "json_schema":
        return llguidance.LLMatcher.grammar_from_json_schema(
            dict(structure.schema or {}), defaults=JSON_STYLE
        )
    if structure.mode == "none":  # text with no "<" at all: no tool-call block can open
        return llguidance.LLMatcher.grammar_from_lark("start: TEXT\nTEXT: /[^<]*/\n")
    calls = json.dumps(_calls_schema(structure.tools, structure.parallel))
    forced = f"{_lark_string(CALL_OPEN)} calls {_lark_string(CALL_CLOSE)}"
    if structure.mode == "required":
        lark = f"start: {forced}\ncalls: %json {calls}\n"
    elif structure.schema is not None:  # an answer instead of a call keeps to the response_format
        answer = json.dumps({**dict(structure.schema), "x-guidance": JSON_STYLE})
        lark = f"start: {forced} | answer\ncalls: %json {calls}\nanswer: %json {answer}\n"
    else:
        lark = f'start: {forced} | TEXT\nTEXT: /[^<][\\s\\S]*/ | ""\ncalls: %json {calls}\n'
    return llguidance.LLMatcher.grammar_from_lark(lark)


def _calls_schema(tools: tuple[ToolSpec, ...], parallel: bool) -> dict[str, Any]:
    one_of = [
        {
            "type": "object",
            "properties": {"name": {"const": t.name}, "arguments": dict(t.parameters)},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for t in tools
    ]
    return {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_PARALLEL_CALLS if parallel else 1,
        "items": {"anyOf": one_of},
        "x-guidance": JSON_STYLE,
    }


def _lark_string(text: str) -> str:
    return json.dumps(text)


class Grammars:
    """The tokenizer llguidance reads with (built once: it costs about half a second) and the
    matchers made from it."""

    def __init__(self, hf_tokenizer: Any, vocab_size: int, eos_ids: list[int]) -> None:
        import llguidance.hf

        self.tokenizer = llguidance.hf.from_tokenizer(hf_tokenizer, n_vocab=vocab_size, eos_token=eos_ids)
        self.executor = llguidance.LLExecutor()
        self.words = (vocab_size + 31) // 32  # int32 words of one token bitmask

    def matcher(self, structure: Structure) -> llguidance.LLMatcher:
        """A fresh matcher for one sequence; 400 naming the parameter when the grammar cannot be
        built (a schema feature llguidance does not implement)."""
        matcher = llguidance.LLMatcher(self.tokenizer, grammar_for(structure), log_level=0)
        if matcher.is_error():
            param = "response_format.json_schema.schema" if structure.kind == "json_schema" else "tools"
            raise APIError(
                400,
                f"{param} cannot be enforced: {matcher.get_error()[:300]}",
                param=param,
                code="invalid_value",
            )
        return matcher

    def fill(self, matchers: list[tuple[llguidance.LLMatcher, int]], pointer: int, rows: int) -> None:
        """Each matcher's allowed tokens as a bitmask, into row `index` of the int32 buffer at `pointer`."""
        self.executor.unsafe_compute_mask_ptr(matchers, pointer, self.words * 4, rows)
