"""OpenAI's shapes of a generation's result: unary bodies, stream chunks, deltas, logprobs, usage."""

from __future__ import annotations

import functools
import math
import secrets
import time
import uuid
from collections.abc import Sequence
from typing import Any

from .. import tools as tl
from ..engines.base import Engine, TokenDelta
from ._job import Job
from ._run import ChoiceResult

Json = dict[str, Any]
MIN_LOGPROB = -9999.0  # what OpenAI reports for a token of probability 0 (JSON has no -inf)


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
    return _unary(job, "chat.completion", choices, results, id=id, created=created)


def chat_chunk(job: Job, choices: list[Json], *, id: str, created: int, usage_: Json | None = None) -> Json:
    """One `chat.completion.chunk`; `usage` is null on every chunk but the last when it is asked for."""
    chunk = _chunk(job, "chat.completion.chunk", choices, id=id, created=created, usage_=usage_)
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
    return _unary(job, "text_completion", choices, results, id=id, created=created)


def completion_chunk(
    job: Job, choices: list[Json], *, id: str, created: int, usage_: Json | None = None
) -> Json:
    """One streamed `text_completion` chunk."""
    return _chunk(job, "text_completion", choices, id=id, created=created, usage_=usage_)


def _head(job: Job, kind: str, choices: list[Json], *, id: str, created: int) -> Json:
    """The fields every body and chunk of a job begins with."""
    return {
        "id": id,
        "object": kind,
        "created": created,
        "model": job.model,
        "system_fingerprint": fingerprint(job.model),
        "choices": choices,
    }


def _unary(
    job: Job, kind: str, choices: list[Json], results: Sequence[ChoiceResult], *, id: str, created: int
) -> Json:
    completion_tokens = sum(r.completion_tokens for r in results)
    return {
        **_head(job, kind, choices, id=id, created=created),
        "usage": usage(job.prompt_tokens, completion_tokens),
    }


def _chunk(job: Job, kind: str, choices: list[Json], *, id: str, created: int, usage_: Json | None) -> Json:
    """A stream chunk; `usage` is null on every chunk but the last when it is asked for."""
    chunk = _head(job, kind, choices, id=id, created=created)
    if job.include_usage:
        chunk["usage"] = usage_
    return chunk
