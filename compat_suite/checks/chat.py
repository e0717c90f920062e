"""Checks of unary chat completions (`POST /chat/completions`, no `stream`)."""

from __future__ import annotations

import json
import re
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError as JSONSchemaDefinitionError

from ..exchange import Exchange
from . import _choices
from . import _common as c
from ._registry import MUST, SHOULD, Finding, check
from .request import request_accepted

ENDPOINTS = ("chat",)
LOGPROB_EPSILON = 1e-6  # float rounding may put a certain token's logprob a hair above 0
# Where servers put reasoning: vLLM before 0.9 and DeepSeek `reasoning_content`, vLLM >= 0.9 `reasoning`.
REASONING_FIELDS = ("reasoning_content", "reasoning")
THINK_MARKUP = re.compile(r"</?think>|<\|begin_of_thought\|>|<\|end_of_thought\|>", re.IGNORECASE)


def message_content(choice: dict[str, Any]) -> Any:
    """The text of one chat choice (None when it has no message or content)."""
    message = choice.get("message")
    return message.get("content") if isinstance(message, dict) else None


@check("chat.response.schema", severity=MUST, endpoints=ENDPOINTS)
def chat_response_schema(exchange: Exchange) -> None:
    """The response body validates against CreateChatCompletionResponse."""
    c.schema_check(exchange, "CreateChatCompletionResponse", c.body(exchange))


@check("chat.response.object", severity=MUST, endpoints=ENDPOINTS)
def chat_response_object(exchange: Exchange) -> None:
    """`object` is "chat.completion"."""
    c.expect_object(exchange, "chat.completion")


@check("chat.response.id", severity=MUST, endpoints=ENDPOINTS)
def chat_response_id(exchange: Exchange) -> None:
    """`id` is a non-empty string."""
    c.expect_id(exchange)


@check("chat.response.created", severity=MUST, endpoints=ENDPOINTS)
def chat_response_created(exchange: Exchange) -> None:
    """`created` is an integer of plausible Unix seconds (not milliseconds, not a string)."""
    _choices.expect_created(exchange)


@check("chat.usage.present", severity=MUST, endpoints=ENDPOINTS)
def chat_usage_present(exchange: Exchange) -> None:
    """`usage` reports prompt, completion and total tokens as non-negative integers."""
    c.expect_usage(exchange, ("prompt_tokens", "completion_tokens", "total_tokens"))


@check("chat.usage.sum", severity=MUST, endpoints=ENDPOINTS)
def chat_usage_sum(exchange: Exchange) -> None:
    """`usage.total_tokens` equals prompt_tokens + completion_tokens."""
    _choices.expect_usage_sum(exchange)


@check("chat.usage.counts", severity=MUST, endpoints=ENDPOINTS)
def chat_usage_counts(exchange: Exchange) -> None:
    """`usage` counts what was sent and made: prompt_tokens above 0, completion_tokens above 0 when a choice has text."""
    _choices.expect_usage_counts(exchange, message_content)


@check("chat.finish-reason.length", severity=MUST, endpoints=ENDPOINTS)
def chat_finish_reason_length(exchange: Exchange) -> None:
    """A choice that reached the token limit has finish_reason "length", not "stop"."""
    _choices.expect_length_when_cut(exchange, "max_completion_tokens", "max_tokens")


@check("chat.finish-reason.enum", severity=MUST, endpoints=ENDPOINTS)
def chat_finish_reason_enum(exchange: Exchange) -> None:
    """Every choice's finish_reason is one of the documented values."""
    _choices.expect_finish_reasons(exchange)


@check("chat.n.indexed", severity=MUST, endpoints=ENDPOINTS)
def chat_n_indexed(exchange: Exchange) -> None:
    """A request for n choices gets exactly n, indexed 0..n-1."""
    _choices.expect_n_indexed(exchange)


@check("chat.max-tokens.respected", severity=MUST, endpoints=ENDPOINTS)
def chat_max_tokens_respected(exchange: Exchange) -> None:
    """No choice generates more than max_completion_tokens / max_tokens: at most that per choice in usage."""
    _choices.expect_max_tokens(exchange, "max_completion_tokens", "max_tokens")


@check("chat.stop.honoured", severity=MUST, endpoints=ENDPOINTS)
def chat_stop_honoured(exchange: Exchange) -> None:
    """No choice's content contains a requested stop sequence."""
    _choices.expect_stop_honoured(exchange, message_content)


@check("chat.seed.determinism", severity=SHOULD, endpoints=ENDPOINTS)
def chat_seed_determinism(first: Exchange, second: Exchange) -> None:
    """The same request with the same seed gives the same content twice."""
    _choices.expect_same_texts(first, second, message_content)


@check("chat.logprobs.valid", severity=SHOULD, endpoints=ENDPOINTS)
def chat_logprobs_valid(exchange: Exchange) -> None:
    """Requested logprobs come per token, each <= 0, with the requested number of alternatives."""
    request = c.request_body(exchange)
    if request.get("logprobs") is not True:
        return  # not requested
    k = request.get("top_logprobs")
    k = k if c.is_int(k) and k > 0 else 0
    problems: list[str] = []
    for i, choice in enumerate(c.choices(exchange, c.body(exchange))):
        where = f"choices[{c.index_of(choice, i)}].logprobs"
        logprobs = choice.get("logprobs")
        if not isinstance(logprobs, dict):
            shown = "absent" if "logprobs" not in choice else c.short(logprobs)
            problems.append(f"{where} is {shown}, expected an object with `content`")
            continue
        content = logprobs.get("content")
        if not isinstance(content, list):
            problems.append(f"{where}.content is {c.short(content)}, expected a list")
            continue
        if not content and message_content(choice):
            problems.append(f"{where}.content is empty but the message has content")
        for j, entry in enumerate(content):
            problems += _token_logprob_problems(f"{where}.content[{j}]", entry, k)
            if len(problems) >= c.MAX_SCHEMA_ERRORS:
                break
    if problems:
        raise Finding(
            f"{len(problems)} logprobs problem(s); first: {problems[0]}",
            c.evidence(exchange, problems=problems),
        )


def _token_logprob_problems(where: str, entry: Any, k: int) -> list[str]:
    if not isinstance(entry, dict):
        return [f"{where} is {c.short(entry)}, expected an object"]
    out = []
    if not isinstance(entry.get("token"), str):
        out.append(f"{where}.token is {c.short(entry.get('token'))}")
    logprob = entry.get("logprob")
    if not c.is_number(logprob) or logprob > LOGPROB_EPSILON:
        out.append(f"{where}.logprob is {c.short(logprob)}, expected a number <= 0")
    top = entry.get("top_logprobs")
    if not isinstance(top, list):
        out.append(f"{where}.top_logprobs is {c.short(top)}, expected a list")
    else:
        if k and not 1 <= len(top) <= k:
            out.append(f"{where}.top_logprobs has {len(top)} entries, requested {k}")
        for alt in top:
            value = alt.get("logprob") if isinstance(alt, dict) else None
            if not c.is_number(value) or value > LOGPROB_EPSILON:
                out.append(f"{where}.top_logprobs has logprob {c.short(value)}, expected a number <= 0")
                break
    return out


@check("chat.response-format.json", severity=SHOULD, endpoints=ENDPOINTS)
def chat_response_format_json(exchange: Exchange) -> None:
    """With response_format json_object/json_schema, finished content parses as (valid) JSON."""
    fmt = c.request_body(exchange).get("response_format")
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind not in ("json_object", "json_schema"):
        return  # not requested
    schema = _requested_schema(fmt) if kind == "json_schema" else None
    problems = {}
    for i, choice in enumerate(c.choices(exchange, c.body(exchange))):
        if choice.get("finish_reason") == "length":
            continue  # documented: output cut at the token limit may be incomplete JSON
        text = message_content(choice)
        index = c.index_of(choice, i)
        try:
            value = json.loads(text) if isinstance(text, str) else None
        except (ValueError, RecursionError) as exc:
            problems[index] = {"content": text, "error": str(exc)}
            continue
        if value is None and text != "null":
            problems[index] = {"content": text, "error": "no content"}
        elif kind == "json_object" and not isinstance(value, dict):
            problems[index] = {"content": text, "error": "json_object mode, but the JSON is not an object"}
        elif schema is not None:
            errs = [e.message for e in Draft202012Validator(schema).iter_errors(value)]
            if errs:
                problems[index] = {
                    "content": text,
                    "error": f"does not match the requested schema: {errs[0]}",
                }
    if problems:
        raise Finding(
            f"response_format {kind}: content of choice(s) {list(problems)} is not valid JSON for the request",
            c.evidence(exchange, problems=problems),
        )


def _requested_schema(fmt: dict[str, Any]) -> dict[str, Any] | None:
    spec = fmt.get("json_schema")
    schema = spec.get("schema") if isinstance(spec, dict) else None
    if not isinstance(schema, dict):
        return None
    try:
        Draft202012Validator.check_schema(schema)
    except JSONSchemaDefinitionError:
        return None  # the request's own schema is broken: nothing fair to hold the answer to
    return schema


@check("chat.developer-role.accepted", severity=MUST, endpoints=ENDPOINTS, refines=request_accepted.id)
def chat_developer_role_accepted(exchange: Exchange) -> None:
    """A request with a `developer` message (OpenAI's newer name for system instructions) is answered."""
    c.expect_answered(exchange, "a developer message", issue="pi#6238")


def reasoning_leaks(text: Any) -> bool:
    """Reasoning markup in text a client shows as the answer (`<think>` ... `</think>`)."""
    return isinstance(text, str) and bool(THINK_MARKUP.search(text))


@check("chat.reasoning.separate", severity=MUST, endpoints=ENDPOINTS)
def chat_reasoning_separate(exchange: Exchange) -> None:
    """No choice's content carries reasoning (`<think>` ... `</think>`): a client that ignores unknown
    fields still gets clean content."""
    leaks = {
        c.index_of(choice, i): message_content(choice)
        for i, choice in enumerate(c.choices(exchange, c.body(exchange)))
        if reasoning_leaks(message_content(choice))
    }
    if leaks:
        raise Finding(
            f"reasoning leaks into the content of choice(s) {list(leaks)}",
            c.evidence(exchange, contents=leaks),
        )


@check("chat.reasoning.field", severity=SHOULD, endpoints=ENDPOINTS)
def chat_reasoning_field(exchange: Exchange) -> str:
    """Reasoning, where returned, is a string in one field, `reasoning_content` or `reasoning`; the
    finding says which field this server uses."""
    used: set[str] = set()
    problems = []
    for i, choice in enumerate(c.choices(exchange, c.body(exchange))):
        message = choice.get("message")
        for field in REASONING_FIELDS:
            value = message.get(field) if isinstance(message, dict) else None
            if value is None:
                continue
            used.add(field)
            if not isinstance(value, str):
                problems.append(f"choice {c.index_of(choice, i)}'s {field} is {c.short(value)}, not a string")
    if problems:
        raise Finding(problems[0], c.evidence(exchange, problems=problems))
    if len(used) > 1:
        raise Finding(f"reasoning in two fields at once: {sorted(used)}", c.evidence(exchange))
    return f"reasoning in `{used.pop()}`" if used else "no reasoning returned"
