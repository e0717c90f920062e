"""Reading a streamed chat or completions answer, for the stream checks: the exchange as a stream,
each chunk's choices and the text they add, each choice's text joined, a field every chunk repeats,
and the unary answer's texts to hold a stream to."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from ..exchange import Exchange, StreamExchange
from . import _common as c
from ._registry import Finding

DONE = "[DONE]"


def as_stream(exchange: Exchange) -> StreamExchange:
    """The exchange as a stream, or a Finding when no events were read."""
    if not isinstance(exchange, StreamExchange):
        raise Finding("not a streamed exchange (no events were read)", c.evidence(exchange))
    return exchange


def endpoint_kind(exchange: Exchange) -> str:
    return "completions" if exchange.endpoint == "completions" else "chat"


def delta_text(chunk: dict[str, Any], choice: dict[str, Any]) -> str:
    """The text one streamed choice adds (chat: delta.content; completions: text)."""
    delta = choice.get("delta")
    text = delta.get("content") if isinstance(delta, dict) else choice.get("text")
    return text if isinstance(text, str) else ""


def chunk_choices(chunk: dict[str, Any]) -> list[tuple[int, dict[str, Any]]]:
    items = chunk.get("choices")
    if not isinstance(items, list):
        return []
    return [(c.index_of(ch, i), ch) for i, ch in enumerate(items) if isinstance(ch, dict)]


def first_choices(chunks: list[dict[str, Any]]) -> dict[int, tuple[int, dict[str, Any]]]:
    """Each choice's first appearance: index -> (chunk position, the choice)."""
    firsts: dict[int, tuple[int, dict[str, Any]]] = {}
    for position, chunk in enumerate(chunks):
        for index, choice in chunk_choices(chunk):
            firsts.setdefault(index, (position, choice))
    return firsts


def include_usage(exchange: Exchange) -> bool:
    options = c.request_body(exchange).get("stream_options")
    return isinstance(options, dict) and options.get("include_usage") is True


def streamed_texts(exchange: StreamExchange) -> dict[int, str]:
    """Each choice's text, joined from its deltas."""
    texts: dict[int, str] = defaultdict(str)
    for chunk in c.stream_chunks(exchange):
        for index, choice in chunk_choices(chunk):
            texts[index] += delta_text(chunk, choice)
    return dict(texts)


def unary_texts(exchange: Exchange) -> dict[int, str]:
    """Each choice's text in a unary answer ("" where it has none), to compare with `streamed_texts`."""
    out = {}
    for i, choice in enumerate(c.choices(exchange, c.body(exchange))):
        message = choice.get("message")
        text = message.get("content") if isinstance(message, dict) else choice.get("text")
        out[c.index_of(choice, i)] = text if isinstance(text, str) else ""
    return out


def expect_same(exchange: Exchange, field: str) -> Any:
    """The one non-empty value `field` takes in every chunk, or a Finding."""
    stream = as_stream(exchange)
    distinct: list[Any] = []
    first_change = None
    for position, chunk in enumerate(c.stream_chunks(stream)):
        value = chunk.get(field)
        if value not in distinct:
            distinct.append(value)
            if len(distinct) == 2:
                first_change = position
    if len(distinct) > 1:
        raise Finding(
            f"`{field}` takes {len(distinct)} values across the stream: {c.short(distinct[0], 60)} until chunk "
            f"{first_change}, then {c.short(distinct[1], 60)}",
            c.evidence(stream, values=distinct[:10]),
        )
    if distinct[0] in (None, ""):
        raise Finding(f"`{field}` is {c.short(distinct[0])} in every chunk", c.evidence(stream))
    return distinct[0]


def is_json_payload(line: str) -> bool:
    """A data line that is a whole JSON object or [DONE] (several such in one event: a missing blank line)."""
    try:
        return line == DONE or isinstance(json.loads(line), dict)
    except (ValueError, RecursionError):
        return False


def finish_reason_problems(chunks: list[dict[str, Any]]) -> list[str]:
    """Where a choice's finish_reason is missing, repeated, or followed by more of that choice."""
    finished: dict[int, int] = {}
    problems: list[str] = []
    seen: set[int] = set()
    for position, chunk in enumerate(chunks):
        for index, choice in chunk_choices(chunk):
            seen.add(index)
            reason = choice.get("finish_reason")
            if index in finished and (reason is not None or delta_text(chunk, choice)):
                problems.append(
                    f"choice {index}: chunk {position} follows its finish_reason (chunk {finished[index]})"
                )
            if reason is not None and index not in finished:
                finished[index] = position
    problems += [f"choice {index}: no finish_reason" for index in sorted(seen - set(finished))]
    if not seen:
        problems.append("no chunk carries a choice")
    return problems
