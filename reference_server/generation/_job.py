"""A request body as the engine sees it: the parameters a schema cannot check, validated, and the
`Job` of prompts x `n` choices they make."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from .. import tools as tl
from ..engines.base import ChatMessage, Engine, GenerationRequest, Structure
from ..errors import APIError

Json = dict[str, Any]

DEFAULT_CHAT_MAX_TOKENS = 1024  # OpenAI's default is "up to the context"; a bound keeps the CPU honest
DEFAULT_COMPLETION_MAX_TOKENS = 16  # OpenAI's documented default for /completions
MAX_STOP_SEQUENCES = 4
MAX_N = 128
MAX_TOP_LOGPROBS = 20
MAX_COMPLETION_LOGPROBS = 5

# Chat parameters that change what a model does and that this server cannot honour: a request
# that sets one is refused with 400 naming it, never silently served without it.
UNSUPPORTED_CHAT_PARAMS = (
    "functions",  # deprecated by OpenAI in favour of `tools`, which this server runs
    "function_call",
    "audio",
    "prediction",
    "web_search_options",
    "verbosity",
    "logit_bias",
)
UNSUPPORTED_COMPLETION_PARAMS = ("suffix", "logit_bias")
# Accepted with no effect on the output (tags, hints, identifiers): user, metadata, service_tier,
# safety_identifier, prompt_cache_key, store=false.


@dataclass(frozen=True)
class Job:
    """One generation request as the engine sees it: prompts x `n` choices, plus output options."""

    model: str
    prompts: list[list[int]]  # token ids, one entry per prompt
    n: int
    base: GenerationRequest  # sampling parameters; prompt_ids and seed are set per choice
    stops: tuple[str, ...] = ()
    stream: bool = False
    include_usage: bool = False
    obfuscate: bool = False  # stream_options.include_obfuscation: pad chat chunks with random text
    logprobs: bool = False
    echo_texts: list[str] | None = None  # completions `echo`: the prompt text of each prompt

    @property
    def calls(self) -> bool:
        """Whether the model's text is read for tool calls (tools offered, tool_choice not none)."""
        structure = self.base.structure
        return structure is not None and structure.kind == "tools" and structure.mode != "none"

    @property
    def prompt_tokens(self) -> int:
        """Prompt tokens as OpenAI counts them: each prompt once, whatever `n` is."""
        return sum(len(p) for p in self.prompts)

    def choice_requests(self) -> list[GenerationRequest]:
        """One request per choice, index = prompt_index * n + j; choice j uses seed + j."""
        out = []
        for ids in self.prompts:
            for j in range(self.n):
                seed = None if self.base.seed is None else self.base.seed + j
                out.append(replace(self.base, prompt_ids=list(ids), seed=seed))
        return out


def chat_job(body: Json, engine: Engine) -> Job:
    """Validate the parameters a schema cannot and build the job for a chat completion."""
    _refuse_unsupported(body, UNSUPPORTED_CHAT_PARAMS)
    modalities = body.get("modalities")
    if modalities is not None and list(modalities) != ["text"]:
        raise _unsupported("modalities", "only the text modality is supported")
    if body.get("reasoning_effort") not in (None, "none"):
        raise _unsupported("reasoning_effort", "this model does not reason; reasoning_effort must be 'none'")
    if body.get("store") is True:
        raise _unsupported("store", "stored completions are not supported")
    structure, shown_tools = tl.structure_of(body)
    if structure is not None:
        engine.check_structure(structure)
    messages = [_chat_message(m, i) for i, m in enumerate(_list(body, "messages"))]
    if not messages:
        raise APIError(400, "messages must contain at least one message", param="messages")
    tl.check_round_trip(messages)
    logprobs = _bool(body, "logprobs", False)
    top = _int(body, "top_logprobs", None, 0, MAX_TOP_LOGPROBS)
    if top is not None and not logprobs:
        raise APIError(400, "top_logprobs requires logprobs to be true", param="top_logprobs")
    max_tokens = _max_tokens(body, DEFAULT_CHAT_MAX_TOKENS)
    base = _sampling(body, max_tokens, top_logprobs=(top or 0) if logprobs else None, structure=structure)
    stream, include_usage, obfuscate = _stream_flags(body)
    return Job(
        model=body["model"],
        prompts=[engine.chat_prompt(messages, shown_tools)],
        n=_int(body, "n", 1, 1, MAX_N),
        base=base,
        stops=_stops(body),
        stream=stream,
        include_usage=include_usage,
        obfuscate=obfuscate,
        logprobs=logprobs,
    )


def completion_job(body: Json, engine: Engine) -> Job:
    """Validate the parameters a schema cannot and build the job for a text completion."""
    _refuse_unsupported(body, UNSUPPORTED_COMPLETION_PARAMS)
    best_of = _int(body, "best_of", None, 1, MAX_N)
    if best_of is not None and best_of != 1:
        raise _unsupported("best_of", "best_of other than 1 is not supported")
    prompts = _completion_prompts(body.get("prompt"), engine)
    top = _int(body, "logprobs", None, 0, MAX_COMPLETION_LOGPROBS)
    echo = _bool(body, "echo", False)
    max_tokens = _max_tokens(body, DEFAULT_COMPLETION_MAX_TOKENS, least=0)  # 0 with echo: the prompt alone
    base = _sampling(body, max_tokens, top_logprobs=top, structure=None)
    stream, include_usage, _ = _stream_flags(body)  # obfuscation is a chat-only field
    return Job(
        model=body["model"],
        prompts=[ids for ids, _ in prompts],
        n=_int(body, "n", 1, 1, MAX_N),
        base=base,
        stops=_stops(body),
        stream=stream,
        include_usage=include_usage,
        logprobs=top is not None,
        echo_texts=[text for _, text in prompts] if echo else None,
    )


def _chat_message(message: Any, i: int) -> ChatMessage:
    where = f"messages[{i}]"
    if not isinstance(message, dict):
        raise APIError(400, f"{where} must be an object", param=where)
    role = message.get("role")
    if role == "developer":  # OpenAI's newer name for system instructions
        role = "system"
    if role not in ("system", "user", "assistant", "tool"):
        raise APIError(400, f"{where}.role {role!r} is not supported", param=f"{where}.role")
    for key in ("function_call", "audio"):
        if message.get(key):
            raise _unsupported(f"{where}.{key}", f"{where}.{key} is not supported (use tool_calls)")
    calls = tl.message_tool_calls(message, where) if role == "assistant" else ()
    content = message.get("content")
    if content is None:
        if role != "assistant":
            raise APIError(400, f"{where}.content is required", param=f"{where}.content")
        content = ""
    elif isinstance(content, list):
        content = "\n".join(_text_part(part, f"{where}.content[{j}]") for j, part in enumerate(content))
    elif not isinstance(content, str):
        raise APIError(400, f"{where}.content must be a string or an array", param=f"{where}.content")
    tool_call_id = message.get("tool_call_id") if role == "tool" else None
    return ChatMessage(role=role, content=content, tool_calls=calls, tool_call_id=tool_call_id)


def _text_part(part: Any, where: str) -> str:
    kind = part.get("type") if isinstance(part, dict) else None
    if kind == "text" and isinstance(part.get("text"), str):
        return part["text"]
    if kind == "refusal" and isinstance(part.get("refusal"), str):
        return part["refusal"]
    raise _unsupported(f"{where}.type", f"content part type {kind!r} is not supported (text only)")


def _completion_prompts(prompt: Any, engine: Engine) -> list[tuple[list[int], str]]:
    """(token ids, text) per prompt: a string, strings, a token array or token arrays."""
    if isinstance(prompt, str):
        return [(engine.tokenize(prompt), prompt)]
    if isinstance(prompt, list) and prompt:
        if all(isinstance(p, str) for p in prompt):
            return [(engine.tokenize(p), p) for p in prompt]
        if all(_is_token_id(p) for p in prompt):
            return [(list(prompt), _detokenize(engine, prompt, "prompt"))]
        if all(isinstance(p, list) and p and all(_is_token_id(t) for t in p) for p in prompt):
            return [(list(p), _detokenize(engine, p, f"prompt[{i}]")) for i, p in enumerate(prompt)]
    raise APIError(
        400,
        "prompt must be a non-empty string, a list of strings, a token array or a list of token arrays",
        param="prompt",
    )


def _is_token_id(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _detokenize(engine: Engine, ids: list[int], where: str) -> str:
    try:
        return engine.detokenize(ids)
    except (IndexError, KeyError, ValueError, OverflowError, TypeError):
        raise APIError(400, f"{where} holds token ids this model does not know", param=where) from None


def _sampling(
    body: Json, max_tokens: int, *, top_logprobs: int | None, structure: Structure | None
) -> GenerationRequest:
    if _int(body, "min_tokens", 0, 0, 2**31):
        # The engine interface has no minimum length: refusing beats silently ignoring it.
        raise _unsupported("min_tokens", "min_tokens above 0 is not supported by this server")
    return GenerationRequest(
        prompt_ids=[],
        max_tokens=max_tokens,
        temperature=_num(body, "temperature", 1.0, 0.0, 2.0),
        top_p=_num(body, "top_p", 1.0, 0.0, 1.0),
        seed=_int(body, "seed", None, -(2**63), 2**63 - 1),
        presence_penalty=_num(body, "presence_penalty", 0.0, -2.0, 2.0),
        frequency_penalty=_num(body, "frequency_penalty", 0.0, -2.0, 2.0),
        top_logprobs=top_logprobs,
        structure=structure,
        ignore_eos=_bool(body, "ignore_eos", False),
    )


def _max_tokens(body: Json, default: int, *, least: int = 1) -> int:
    legacy = _int(body, "max_tokens", None, least, 2**31)
    modern = _int(body, "max_completion_tokens", None, 1, 2**31)
    if legacy is not None and modern is not None and legacy != modern:
        raise APIError(400, "set max_tokens or max_completion_tokens, not both", param="max_tokens")
    for value in (modern, legacy):
        if value is not None:
            return value
    return default


def _stops(body: Json) -> tuple[str, ...]:
    stop = body.get("stop")
    if stop is None:
        return ()
    stops = [stop] if isinstance(stop, str) else stop
    if not isinstance(stops, list) or not all(isinstance(s, str) for s in stops):
        raise APIError(400, "stop must be a string or a list of strings", param="stop")
    if len(stops) > MAX_STOP_SEQUENCES:
        raise APIError(400, f"stop takes at most {MAX_STOP_SEQUENCES} sequences", param="stop")
    return tuple(s for s in stops if s)


def _stream_flags(body: Json) -> tuple[bool, bool, bool]:
    """(stream, include_usage, include_obfuscation)."""
    stream = _bool(body, "stream", False)
    options = body.get("stream_options")
    if options is None:
        return stream, False, False
    if not stream:
        raise APIError(400, "stream_options is only allowed when stream is true", param="stream_options")
    if not isinstance(options, dict):
        raise APIError(400, "stream_options must be an object", param="stream_options")
    include_usage = _bool(options, "include_usage", False, where="stream_options.include_usage")
    obfuscate = _bool(options, "include_obfuscation", False, where="stream_options.include_obfuscation")
    return stream, include_usage, obfuscate


def _refuse_unsupported(body: Json, names: Sequence[str]) -> None:
    for name in names:
        value = body.get(name)
        if value is not None and value not in ("", {}, []):
            raise _unsupported(name, f"{name} is not supported by this server")


def _unsupported(param: str, message: str) -> APIError:
    return APIError(400, message, param=param, code="unsupported_parameter")


def _list(body: Json, name: str) -> list[Any]:
    value = body.get(name)
    if not isinstance(value, list):
        raise APIError(400, f"{name} must be an array", param=name)
    return value


def _bool(body: Json, name: str, default: bool, *, where: str | None = None) -> bool:
    value = body.get(name)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise APIError(400, f"{where or name} must be a boolean", param=where or name)
    return value


def _int(body: Json, name: str, default: int | None, lo: int, hi: int) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise APIError(400, f"{name} must be an integer", param=name)
    if not lo <= value <= hi:
        raise APIError(400, f"{name} must be between {lo} and {hi}", param=name)
    return value


def _num(body: Json, name: str, default: float, lo: float, hi: float) -> float:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise APIError(400, f"{name} must be a number", param=name)
    if not lo <= value <= hi:
        raise APIError(400, f"{name} must be between {lo:g} and {hi:g}", param=name)
    return float(value)
