"""OpenAI generation semantics above the engine: parameters, stop sequences, `n`, usage, shapes.

Every engine gets these identically: a route turns a request body into a `Job` (`chat_job`,
`completion_job`), runs it (`run_unary` or `run_stream`), and shapes the result with the
`*_body` / `*_chunk` functions. Stop sequences are matched on the decoded text, and streamed text
that could still become a stop sequence is held back until it cannot, so that the streamed text
joined equals the unary text for the same request.

The concurrent fan-out of `n` choices is a small queue merge of our own: it is the only piece of
`aiostream.merge` we need, and it must close each engine generator on cancellation, which we then
control directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import math
import secrets
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from . import tools as tl
from .engines.base import ChatMessage, Engine, GenerationRequest, Structure, TokenDelta
from .errors import APIError

Json = dict[str, Any]

DEFAULT_CHAT_MAX_TOKENS = 1024  # OpenAI's default is "up to the context"; a bound keeps the CPU honest
DEFAULT_COMPLETION_MAX_TOKENS = 16  # OpenAI's documented default for /completions
MAX_STOP_SEQUENCES = 4
MAX_N = 128
MAX_TOP_LOGPROBS = 20
MAX_COMPLETION_LOGPROBS = 5
MIN_LOGPROB = -9999.0  # what OpenAI reports for a token of probability 0 (JSON has no -inf)

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


# -- jobs ------------------------------------------------------------------------------------------


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


# -- running ---------------------------------------------------------------------------------------


@dataclass
class Piece:
    """Text a choice adds, the tokens first shown with it, and (on the last piece) why it ended."""

    text: str
    tokens: list[TokenDelta] = field(default_factory=list)
    finish_reason: str | None = None
    generated: int = 0  # tokens the engine produced for this choice so far (usage)


@dataclass
class ChoiceResult:
    index: int
    text: str
    tokens: list[TokenDelta]
    finish_reason: str
    completion_tokens: int


class StopMatcher:
    """Finds stop sequences in generated text and says how much text is safe to show yet."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = tuple(s for s in stops if s)
        self._longest = max((len(s) for s in self.stops), default=0)

    def find(self, text: str, since: int) -> int | None:
        """Start of the earliest stop sequence that ends after `since`, or None."""
        start = max(0, since - self._longest + 1)
        hits = [i for i in (text.find(s, start) for s in self.stops) if i >= 0]
        return min(hits) if hits else None

    def safe_end(self, text: str) -> int:
        """How much of `text` cannot be the beginning of a stop sequence."""
        for k in range(min(self._longest - 1, len(text)), 0, -1):
            tail = text[-k:]
            if any(s.startswith(tail) for s in self.stops):
                return len(text) - k
        return len(text)


async def choice_pieces(
    engine: Engine, request: GenerationRequest, stops: Sequence[str]
) -> AsyncIterator[Piece]:
    """The pieces of one choice; the last one has `finish_reason`. Closes the engine's generator
    when the choice ends early (stop sequence, token limit) or the consumer is cancelled."""
    if request.max_tokens <= 0:
        yield Piece("", [], "length", 0)
        return
    matcher = StopMatcher(stops)
    text = ""
    shown = 0  # characters of `text` already yielded
    pending: list[tuple[int, TokenDelta]] = []  # (start offset, token) not yet yielded
    generated = 0
    finish: str | None = None
    stopped_by_sequence = False
    async with _closing(engine.generate(request)) as deltas:
        async for delta in deltas:
            generated += 1
            if not (delta.finish_reason and not delta.text):  # an end-of-sequence token shows nothing
                pending.append((len(text), delta))
            text += delta.text
            cut = matcher.find(text, shown) if matcher.stops else None
            if cut is not None:
                finish, text, stopped_by_sequence = "stop", text[:cut], True
                break
            if delta.finish_reason or generated >= request.max_tokens:
                finish = delta.finish_reason or "length"
                break
            end = matcher.safe_end(text) if matcher.stops else len(text)
            if end > shown:
                yield Piece(text[shown:end], _take(pending, end), None, generated)
                shown = end
    if finish is None:  # the engine ended without saying why
        finish = "length" if generated >= request.max_tokens else "stop"
    # Tokens of a stop sequence are not shown; every other remaining token is.
    rest = _take(pending, len(text)) if stopped_by_sequence else [tok for _, tok in pending]
    yield Piece(text[shown:], rest, finish, generated)


def _take(pending: list[tuple[int, TokenDelta]], end: int) -> list[TokenDelta]:
    """Remove and return the tokens that start before `end`."""
    taken = [tok for start, tok in pending if start < end]
    del pending[: len(taken)]
    return taken


@contextlib.asynccontextmanager
async def _closing(gen: AsyncIterator[TokenDelta]) -> AsyncIterator[AsyncIterator[TokenDelta]]:
    try:
        yield gen
    finally:
        aclose = getattr(gen, "aclose", None)
        if aclose is not None:
            await aclose()


async def collect(
    engine: Engine,
    request: GenerationRequest,
    stops: Sequence[str],
    index: int,
    produced: list[int] | None = None,
) -> ChoiceResult:
    """Run one choice to its end; `produced[index]` follows its token count as it grows (so that a
    cancelled request still knows what it generated)."""
    text, tokens, finish, generated = "", [], "stop", 0
    async for piece in choice_pieces(engine, request, stops):
        text += piece.text
        tokens += piece.tokens
        generated = piece.generated
        if produced is not None:
            produced[index] = generated
        finish = piece.finish_reason or finish
    return ChoiceResult(index, text, tokens, finish, generated)


async def run_unary(engine: Engine, job: Job, produced: list[int] | None = None) -> list[ChoiceResult]:
    """Every choice of the job, generated concurrently, in index order. `produced`, when given
    (one slot per choice), follows each choice's token count as it is generated."""
    requests = job.choice_requests()
    if len(requests) == 1:
        return [await collect(engine, requests[0], job.stops, 0, produced)]
    tasks = [
        asyncio.ensure_future(collect(engine, r, job.stops, i, produced)) for i, r in enumerate(requests)
    ]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_stream(engine: Engine, job: Job) -> AsyncIterator[tuple[int, Piece]]:
    """(choice index, piece) as the choices produce them, all choices concurrently."""
    streams = [choice_pieces(engine, r, job.stops) for r in job.choice_requests()]
    async for item in merge(streams):
        yield item


async def merge(
    streams: Sequence[AsyncIterator[Piece]], buffer: int = 64
) -> AsyncIterator[tuple[int, Piece]]:
    """Interleave async iterators as their items arrive; cancelling the consumer cancels them all."""
    if len(streams) == 1:
        async with _closing(streams[0]) as only:
            async for item in only:
                yield 0, item
        return
    queue: asyncio.Queue[tuple[int, Piece | BaseException | None]] = asyncio.Queue(buffer)

    async def pump(i: int, stream: AsyncIterator[Piece]) -> None:
        try:
            async with _closing(stream) as items:
                async for item in items:
                    await queue.put((i, item))
        except Exception as exc:  # handed to the consumer, which re-raises it
            await queue.put((i, exc))
            return
        await queue.put((i, None))

    tasks = [asyncio.ensure_future(pump(i, s)) for i, s in enumerate(streams)]
    try:
        running = len(tasks)
        while running:
            i, item = await queue.get()
            if item is None:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield i, item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


# -- shapes ----------------------------------------------------------------------------------------


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


def now() -> int:
    return int(time.time())


def usage(prompt_tokens: int, completion_tokens: int) -> Json:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


def _logprob(value: float | None) -> float:
    if value is None or math.isnan(value):
        return MIN_LOGPROB
    return max(value, MIN_LOGPROB)


def chat_logprobs(tokens: Sequence[TokenDelta]) -> Json:
    """`choices[].logprobs` of a chat completion: token, logprob, bytes and alternatives per token."""
    content = [
        {
            "token": tok.text,
            "logprob": _logprob(tok.logprob),
            "bytes": list(tok.text.encode("utf-8")),
            "top_logprobs": [
                {
                    "token": alt.token,
                    "logprob": _logprob(alt.logprob),
                    "bytes": alt.bytes if alt.bytes is not None else list(alt.token.encode("utf-8")),
                }
                for alt in tok.top_logprobs
            ],
        }
        for tok in tokens
    ]
    return {"content": content, "refusal": None}


def completion_logprobs(tokens: Sequence[TokenDelta], offset: int, prompt: Sequence[str] = ()) -> Json:
    """`choices[].logprobs` of a text completion. `prompt` holds echoed prompt tokens' texts, which
    come first with no log-probabilities (the engine does not score prompts); `offset` is where
    the first token starts in the choice's text."""
    out: Json = {"tokens": [], "token_logprobs": [], "top_logprobs": [], "text_offset": []}
    for piece in prompt:
        out["tokens"].append(piece)
        out["token_logprobs"].append(None)
        out["top_logprobs"].append(None)
        out["text_offset"].append(offset)
        offset += len(piece)
    for tok in tokens:
        out["tokens"].append(tok.text)
        out["token_logprobs"].append(_logprob(tok.logprob))
        out["top_logprobs"].append({alt.token: _logprob(alt.logprob) for alt in tok.top_logprobs})
        out["text_offset"].append(offset)
        offset += len(tok.text)
    return out


@functools.cache
def fingerprint(model: str) -> str:
    return "fp_" + uuid.uuid5(uuid.NAMESPACE_URL, model).hex[:10]


def chat_message(job: Job, result: ChoiceResult) -> tuple[Json, str]:
    """One choice's message and finish_reason; where tools are offered, the calls in its text
    become `tool_calls` (content null beside them) and a finished answer that called ends with
    "tool_calls"."""
    if not job.calls:
        return {"role": "assistant", "content": result.text, "refusal": None}, result.finish_reason
    content, calls = tl.parse_output(result.text, tools=True, cut=result.finish_reason == "length")
    message: Json = {"role": "assistant", "content": content or (None if calls else ""), "refusal": None}
    if calls:
        message["tool_calls"] = [tool_call_json(call) for call in calls]
    return message, finish_with_calls(result.finish_reason, bool(calls))


def tool_call_json(call: tl.ToolCall) -> Json:
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}


def finish_with_calls(reason: str, called: bool) -> str:
    """A choice that called tools and ended by itself finished with "tool_calls"."""
    return "tool_calls" if called and reason == "stop" else reason


class ChatChoiceStream:
    """The deltas of one streamed chat choice: its content, and its tool calls in OpenAI's delta
    grammar (a call's first delta carries `index`, `id`, `type` and the function's `name` with empty
    `arguments`; the later ones carry the same `index` and fragments of `arguments` only)."""

    def __init__(self, job: Job) -> None:
        self._parser = tl.CallParser(tools=job.calls)

    def deltas(self, text: str) -> list[Json]:
        return [_delta(event) for event in self._parser.feed(text)]

    def finish(self, reason: str) -> tuple[list[Json], str]:
        """The last deltas, and the choice's finish_reason."""
        deltas = [_delta(event) for event in self._parser.finish(cut=reason == "length")]
        return deltas, finish_with_calls(reason, bool(self._parser.calls))


def _delta(event: tl.OutputEvent) -> Json:
    if isinstance(event, tl.TextOut):
        return {"content": event.text}
    if isinstance(event, tl.CallStart):
        function = {"name": event.name, "arguments": ""}
        return {
            "tool_calls": [{"index": event.index, "id": event.id, "type": "function", "function": function}]
        }
    return {"tool_calls": [{"index": event.index, "function": {"arguments": event.fragment}}]}


def chat_body(job: Job, results: Sequence[ChoiceResult], *, id: str, created: int) -> Json:
    """A unary `chat.completion`."""
    choices = []
    for r in results:
        message, finish_reason = chat_message(job, r)
        choices.append(
            {
                "index": r.index,
                "message": message,
                "logprobs": chat_logprobs(r.tokens) if job.logprobs else None,
                "finish_reason": finish_reason,
            }
        )
    return {
        "id": id,
        "object": "chat.completion",
        "created": created,
        "model": job.model,
        "system_fingerprint": fingerprint(job.model),
        "choices": choices,
        "usage": usage(job.prompt_tokens, sum(r.completion_tokens for r in results)),
    }


def chat_chunk(job: Job, choices: list[Json], *, id: str, created: int, usage_: Json | None = None) -> Json:
    """One `chat.completion.chunk`; `usage` is null on every chunk but the last when it is asked for."""
    chunk: Json = {
        "id": id,
        "object": "chat.completion.chunk",
        "created": created,
        "model": job.model,
        "system_fingerprint": fingerprint(job.model),
        "choices": choices,
    }
    if job.include_usage:
        chunk["usage"] = usage_
    if job.obfuscate:  # random-length padding so that chunk sizes do not reveal token lengths
        chunk["obfuscation"] = secrets.token_urlsafe(secrets.randbelow(12) + 1)
    return chunk


def chat_delta(
    index: int, delta: Json, *, logprobs: Json | None = None, finish_reason: str | None = None
) -> Json:
    return {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}


def echo_tokens(job: Job, engine: Engine, prompt_index: int) -> list[str]:
    """The echoed prompt's tokens, as text, for completions logprobs."""
    return [engine.detokenize([t]) for t in job.prompts[prompt_index]]


def completion_body(
    job: Job, engine: Engine, results: Sequence[ChoiceResult], *, id: str, created: int
) -> Json:
    """A unary `text_completion`."""
    choices = []
    for r in results:
        prefix = job.echo_texts[r.index // job.n] if job.echo_texts is not None else ""
        logprobs = None
        if job.logprobs:
            prompt = echo_tokens(job, engine, r.index // job.n) if job.echo_texts is not None else ()
            logprobs = completion_logprobs(r.tokens, len(prefix) if not prompt else 0, prompt)
        choices.append(
            {
                "index": r.index,
                "text": prefix + r.text,
                "logprobs": logprobs,
                "finish_reason": r.finish_reason,
            }
        )
    return {
        "id": id,
        "object": "text_completion",
        "created": created,
        "model": job.model,
        "system_fingerprint": fingerprint(job.model),
        "choices": choices,
        "usage": usage(job.prompt_tokens, sum(r.completion_tokens for r in results)),
    }


def completion_chunk(
    job: Job, choices: list[Json], *, id: str, created: int, usage_: Json | None = None
) -> Json:
    """One streamed `text_completion` chunk."""
    chunk: Json = {
        "id": id,
        "object": "text_completion",
        "created": created,
        "model": job.model,
        "system_fingerprint": fingerprint(job.model),
        "choices": choices,
    }
    if job.include_usage:
        chunk["usage"] = usage_
    return chunk
