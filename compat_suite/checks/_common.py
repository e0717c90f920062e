"""Helpers every check area shares: reading a body safely, and the policy for what a check does
when its subject is missing.

The policy, the same in every area:

- A check never raises anything but `Finding` on hostile input (None json, garbage, wrong types).
- Only `transport.complete` reports a transport failure *as such*. Every other check that needs a
  body fails with "no JSON body" (naming the transport error when there was one), so one broken
  exchange fails loudly everywhere instead of passing silently.
- A check whose subject is owned by another check passes when that subject is absent: for
  example `chat.usage.sum` passes when there is no `usage` (that is `chat.usage.present`'s
  failure), `chat.stop.honoured` passes when the request sent no `stop`. One fault then fails
  one check, and the report names the real cause once.
- Evidence is `exchange.evidence(...)` plus the exact offending values; never a key.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from typing import Any

import schemas

from ..exchange import Exchange, StreamExchange
from ._registry import Finding

MAX_SCHEMA_ERRORS = 10  # enough to see the pattern, short enough to read in a report


def evidence(exchange: Exchange, **extra: Any) -> dict[str, Any]:
    """The exchange as evidence, plus the offending values."""
    return exchange.evidence(**extra)


def body(exchange: Exchange) -> dict[str, Any]:
    """The response body as a JSON object, or a Finding that says why there is none."""
    payload = exchange.json
    if isinstance(payload, dict):
        return payload
    if exchange.transport_error:
        why = f"no JSON body: the exchange failed in transport ({exchange.transport_error})"
    elif not exchange.body:
        why = f"no JSON body: the response (status {exchange.status}) was empty"
    elif payload is None:
        why = f"no JSON body: the response (status {exchange.status}) does not parse as JSON"
    else:
        why = f"no JSON body: the response is JSON {type(payload).__name__}, not an object"
    raise Finding(why, evidence(exchange))


def request_body(exchange: Exchange) -> dict[str, Any]:
    """The request's JSON object ({} when the request had none)."""
    payload = exchange.request.json
    return payload if isinstance(payload, dict) else {}


def choices(exchange: Exchange, payload: dict[str, Any]) -> list[dict[str, Any]]:
    """`payload["choices"]` as a non-empty list of objects, or a Finding."""
    items = payload.get("choices")
    if not isinstance(items, list) or not items:
        raise Finding(
            f"`choices` is {_short(items)}, not a non-empty list", evidence(exchange, choices=items)
        )
    bad = [i for i, c in enumerate(items) if not isinstance(c, dict)]
    if bad:
        raise Finding(f"choices {bad} are not objects", evidence(exchange, choices=items))
    return items


def schema_check(exchange: Exchange, component: str, instance: Any) -> None:
    """Fail with every schema error (up to MAX_SCHEMA_ERRORS) of `instance` against `component`."""
    found = schemas.errors(component, instance)
    if found:
        listed = [{"param": e.param, "message": e.message, "keyword": e.validator} for e in found]
        first = found[0]
        where = f" at `{first.param}`" if first.param else ""
        raise Finding(
            f"{len(found)} schema error(s) against {component}; first{where}: {first.message}",
            evidence(exchange, schema_errors=listed[:MAX_SCHEMA_ERRORS]),
        )


def is_int(value: Any) -> bool:
    """An integer that is not a bool (JSON `true` is not a count)."""
    return isinstance(value, int) and not isinstance(value, bool)


def index_of(choice: dict[str, Any], position: int) -> int:
    """A choice's `index` when it is an integer, else its position (hostile indices stay hashable)."""
    value = choice.get("index")
    return value if is_int(value) else position


def is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def stop_sequences(request: dict[str, Any]) -> list[str]:
    """The request's `stop` as a list of non-empty strings."""
    stop = request.get("stop")
    if isinstance(stop, str):
        return [stop] if stop else []
    if isinstance(stop, list):
        return [s for s in stop if isinstance(s, str) and s]
    return []


def requested_n(request: dict[str, Any]) -> int:
    n = request.get("n", 1)
    return n if is_int(n) and n >= 1 else 1


def token_limit(request: dict[str, Any], *names: str) -> int | None:
    """The first of `names` the request sets to a positive integer."""
    for name in names:
        value = request.get(name)
        if is_int(value) and value > 0:
            return value
    return None


def is_error_chunk(chunk: Any) -> bool:
    """A streamed event that reports an error (judged by `stream.error.event`, skipped elsewhere)."""
    return isinstance(chunk, dict) and "error" in chunk


def stream_chunks(exchange: StreamExchange) -> list[dict[str, Any]]:
    """The stream's JSON chunks that are objects and not error events, or a Finding when none are."""
    if not isinstance(exchange, StreamExchange):
        raise Finding("not a streamed exchange", evidence(exchange))
    out = [c for c in exchange.chunks if isinstance(c, dict) and not is_error_chunk(c)]
    if not out:
        why = f" (transport error: {exchange.transport_error})" if exchange.transport_error else ""
        raise Finding(
            f"no JSON chunks in the stream (status {exchange.status}){why}",
            evidence(exchange, events=len(exchange.events)),
        )
    return out


def chunk_ref(chunk: dict[str, Any], position: int) -> dict[str, Any]:
    """Where a chunk is, for evidence: its position and the chunk itself (short)."""
    return {"position": position, "chunk": _truncate_json(chunk)}


def _truncate_json(value: Any, limit: int = 600) -> Any:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return value if len(text) <= limit else text[:limit] + "…"


def _short(value: Any, limit: int = 80) -> str:
    """`value` as short JSON, for a message."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


short = _short


def problems_of(exchange: StreamExchange, kinds: Sequence[str]) -> list[dict[str, Any]]:
    """The reader's problems of the given kinds, as evidence."""
    return [
        {"kind": p.kind, "offset": p.offset, "detail": p.detail} for p in exchange.problems if p.kind in kinds
    ]


def excerpt(data: bytes, offset: int, radius: int = 80) -> str:
    """Raw bytes around `offset`, escaped, for evidence."""
    start = max(0, offset - radius)
    return data[start : offset + radius].decode("utf-8", errors="backslashreplace")


# -- what chat and completions share -----------------------------------------------------------
# Plausible Unix seconds: after 2020-01-01, before 2100. Milliseconds (1.7e12) fall outside.
CREATED_MIN, CREATED_MAX = 1_577_836_800, 4_102_444_800
FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter", "function_call"})

TextOf = Callable[[dict[str, Any]], Any]


def expect_object(exchange: Exchange, expected: str) -> None:
    payload = body(exchange)
    if payload.get("object") != expected:
        raise Finding(
            f"`object` is {_short(payload.get('object'))}, expected {expected!r}",
            evidence(exchange, object=payload.get("object")),
        )


def expect_id(exchange: Exchange) -> None:
    value = body(exchange).get("id")
    if not isinstance(value, str) or not value.strip():
        raise Finding(f"`id` is {_short(value)}, expected a non-empty string", evidence(exchange, id=value))


def expect_created(exchange: Exchange) -> None:
    value = body(exchange).get("created")
    if not is_int(value):
        raise Finding(
            f"`created` is {_short(value)}, expected integer Unix seconds", evidence(exchange, created=value)
        )
    if not CREATED_MIN <= value < CREATED_MAX:
        hint = " (milliseconds?)" if value >= CREATED_MAX else ""
        raise Finding(
            f"`created` {value} is not plausible Unix seconds{hint}", evidence(exchange, created=value)
        )


def expect_usage(exchange: Exchange, fields: Sequence[str]) -> dict[str, Any]:
    """`usage` with each of `fields` a non-negative integer, or a Finding."""
    usage = body(exchange).get("usage")
    if not isinstance(usage, dict):
        raise Finding(f"`usage` is {_short(usage)}, expected an object", evidence(exchange, usage=usage))
    bad = {f: usage.get(f) for f in fields if not (is_int(usage.get(f)) and usage[f] >= 0)}
    if bad:
        raise Finding(
            f"usage fields not non-negative integers: {_short(bad)}", evidence(exchange, usage=usage)
        )
    return usage


def expect_usage_sum(exchange: Exchange) -> None:
    usage = body(exchange).get("usage")
    if not isinstance(usage, dict):
        return  # absent usage is *.usage.present's failure
    parts = (usage.get("prompt_tokens"), usage.get("completion_tokens"), usage.get("total_tokens"))
    if not all(is_int(p) for p in parts):
        return
    prompt, completion, total = parts
    if prompt + completion != total:
        raise Finding(
            f"total_tokens {total} != prompt_tokens {prompt} + completion_tokens {completion}",
            evidence(exchange, usage=usage),
        )


def expect_usage_counts(exchange: Exchange, text_of: TextOf) -> None:
    """Usage counts what was sent and made: a prompt is at least one token, and a choice with text
    took at least one completion token (all-zero usage beside content is made up)."""
    usage = body(exchange).get("usage")
    if not isinstance(usage, dict):
        return  # absent usage is *.usage.present's failure
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    problems = []
    if is_int(prompt) and prompt == 0:
        problems.append("prompt_tokens is 0, but the request had a prompt")
    texts = [t for t in texts_by_index(exchange, text_of).values() if isinstance(t, str) and t]
    if texts and is_int(completion) and completion == 0:
        problems.append(f"completion_tokens is 0, but {len(texts)} choice(s) have text")
    if problems:
        raise Finding("; ".join(problems), evidence(exchange, usage=usage))


def expect_length_when_cut(exchange: Exchange, *limit_names: str) -> None:
    """A choice that used the whole token limit stopped for `length`, not `stop`: the spec's
    finish_reason is "length" when the maximum number of tokens in the request was reached."""
    request = request_body(exchange)
    limit = token_limit(request, *limit_names)
    if limit is None:
        return  # no limit to reach
    payload = body(exchange)
    items = choices(exchange, payload)
    usage = payload.get("usage")
    used = usage.get("completion_tokens") if isinstance(usage, dict) else None
    if not is_int(used) or len(items) != 1 or used < limit:
        return  # one choice whose usage shows the limit reached: what can be judged without a tokenizer
    reason = items[0].get("finish_reason")
    if reason == "stop":
        raise Finding(
            f'finish_reason is "stop", but the answer used all {used} of {limit_names[0]}={limit} tokens '
            '(expected "length")',
            evidence(exchange, limit=limit, completion_tokens=used),
        )


def expect_finish_reasons(exchange: Exchange) -> None:
    items = choices(exchange, body(exchange))
    bad = {index_of(c, i): c.get("finish_reason") for i, c in enumerate(items)}
    bad = {k: v for k, v in bad.items() if v not in FINISH_REASONS}
    if bad:
        raise Finding(
            f"finish_reason not one of {sorted(FINISH_REASONS)}: {_short(bad)}",
            evidence(exchange, finish_reasons=bad),
        )


def expect_n_indexed(exchange: Exchange) -> None:
    n = requested_n(request_body(exchange))
    items = choices(exchange, body(exchange))
    indices = [c.get("index") for c in items]
    if len(items) != n or sorted(i for i in indices if is_int(i)) != list(range(n)):
        raise Finding(
            f"requested n={n}; got {len(items)} choice(s) with indices {indices}",
            evidence(exchange, n=n, indices=indices),
        )


def expect_max_tokens(exchange: Exchange, *limit_names: str) -> None:
    """The limit holds per choice: `usage.completion_tokens` is at most the limit times the number of
    choices (n per prompt, a batch of prompts included), and no choice whose logprobs list its
    generated tokens lists more than the limit."""
    request = request_body(exchange)
    limit = token_limit(request, *limit_names)
    if limit is None:
        return  # nothing to respect
    payload = body(exchange)
    items = payload.get("choices")
    items = [ch for ch in items if isinstance(ch, dict)] if isinstance(items, list) else []
    over = {}
    for i, choice in enumerate(items):
        generated = generated_token_count(choice, echo=request.get("echo") is True)
        if generated is not None and generated > limit:
            over[index_of(choice, i)] = generated
    if over:
        raise Finding(
            f"choice(s) {list(over)} generated more than {limit_names[0]}={limit} tokens: {over}",
            evidence(exchange, limit=limit, tokens_by_choice=over),
        )
    echo = request.get("echo") is True  # the prompt's words come first: not generated
    words = {} if echo else {index_of(ch, i): _word_count(ch) for i, ch in enumerate(items)}
    over_words = {i: n for i, n in words.items() if n is not None and n > limit}
    if over_words:  # the server's own usage is not trusted: a word takes at least one token
        raise Finding(
            f"choice(s) {list(over_words)} hold more words than {limit_names[0]}={limit} allows tokens: "
            f"{over_words}",
            evidence(exchange, limit=limit, words_by_choice=over_words),
        )
    usage = payload.get("usage")
    used = usage.get("completion_tokens") if isinstance(usage, dict) else None
    if not is_int(used):
        return  # no token count to judge by: *.usage.present's failure
    count = len(items) or requested_n(request)
    if used > limit * count:
        raise Finding(
            f"completion_tokens {used} exceeds {limit_names[0]}={limit}"
            + (f" x {count} choices" if count > 1 else ""),
            evidence(exchange, limit=limit, choices=count, completion_tokens=used),
        )


def _word_count(choice: dict[str, Any]) -> int | None:
    """Whitespace-separated words of a choice's generated text (chat content, or completion text)."""
    message = choice.get("message")
    text = message.get("content") if isinstance(message, dict) else choice.get("text")
    return len(text.split()) if isinstance(text, str) else None


def generated_token_count(choice: dict[str, Any], *, echo: bool = False) -> int | None:
    """The tokens a choice generated, where its logprobs list them (chat: `content` and `refusal`
    entries; completions: `tokens`, unless echo put the prompt's tokens first); None where they do not."""
    logprobs = choice.get("logprobs")
    if not isinstance(logprobs, dict):
        return None
    if "message" in choice:  # chat: one entry per generated token
        listed = [logprobs.get(k) for k in ("content", "refusal")]
        lists = [entries for entries in listed if isinstance(entries, list)]
        return sum(map(len, lists)) if lists else None
    tokens = logprobs.get("tokens")
    return len(tokens) if isinstance(tokens, list) and not echo else None


def expect_stop_honoured(exchange: Exchange, text_of: TextOf) -> None:
    stops = stop_sequences(request_body(exchange))
    if not stops:
        return  # the request set no stop sequence
    items = choices(exchange, body(exchange))
    hits = {}
    for i, choice in enumerate(items):
        text = text_of(choice)
        if isinstance(text, str):
            found = [s for s in stops if s in text]
            if found:
                hits[index_of(choice, i)] = {"stop": found, "text": text}
    if hits:
        raise Finding(f"the output contains a stop sequence: {_short(hits)}", evidence(exchange, hits=hits))


def texts_by_index(exchange: Exchange, text_of: TextOf) -> dict[Any, Any]:
    items = choices(exchange, body(exchange))
    return {index_of(c, i): text_of(c) for i, c in enumerate(items)}


def expect_same_texts(first: Exchange, second: Exchange, text_of: TextOf) -> None:
    """Two answers to the same seeded request carry the same text in every choice."""
    if first.request.json != second.request.json:
        raise Finding(
            "the two exchanges answer different requests; determinism needs the same request twice",
            evidence(first, other_request=second.request.body[:2048].decode("utf-8", "backslashreplace")),
        )
    a, b = texts_by_index(first, text_of), texts_by_index(second, text_of)
    if a != b:
        raise Finding(
            "the same seeded request gave different outputs",
            {"first": evidence(first), "second": evidence(second), "texts": {"first": a, "second": b}},
        )
