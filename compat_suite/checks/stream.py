"""Checks of streamed chat and completions: the SSE framing, the chunks, and how they arrived.

Framing checks read the strict reader's problems (compat_suite/sse.py) and, where the raw bytes
allow it, confirm them independently, so a reader bug cannot hide a broken stream. Chunk checks
skip error events (`{"error": ...}`): those are judged by `stream.error.event` alone.
"""

from __future__ import annotations

from typing import Any

from ..exchange import Exchange, StreamExchange
from . import _common as c
from ._registry import MUST, SHOULD, Finding, Unjudged, check
from ._stream_reading import (
    DONE,
    as_stream,
    chunk_choices,
    delta_text,
    endpoint_kind,
    expect_same,
    finish_reason_problems,
    first_choices,
    include_usage,
    is_json_payload,
    streamed_texts,
    unary_texts,
)
from .chat import reasoning_leaks

ENDPOINTS = ("chat", "completions")
CHUNK_COMPONENT = {
    "chat": "CreateChatCompletionStreamResponse",
    "completions": "CreateCompletionStreamResponse",
}
CHUNK_OBJECT = {"chat": "chat.completion.chunk", "completions": "text_completion"}


def _problems(exchange: StreamExchange, *kinds: str) -> list[dict[str, Any]]:
    return c.problems_of(exchange, kinds)


def _framing_finding(stream: StreamExchange, found: list[dict[str, Any]], message: str) -> Finding:
    """A framing Finding: the first problems, and the raw bytes around the first one."""
    around = c.excerpt(stream.body, found[0]["offset"])
    return Finding(message, c.evidence(stream, problems=found[:10], around=around))


# -- HTTP and SSE framing -------------------------------------------------------------------------
@check("stream.is-event-stream", severity=MUST, endpoints=ENDPOINTS)
def stream_is_event_stream(exchange: Exchange) -> None:
    """A request for a stream that is served (2xx) gets an event stream, not one JSON document.

    The root cause of every stream proof: when it fails, the framing and chunk checks are blocked
    instead of each reading a JSON body as a broken stream ("stream ended inside an event")."""
    stream = as_stream(exchange)
    if stream.status is None or not 200 <= stream.status < 300:
        return  # not served: request.accepted's failure
    body = stream.body.strip()
    if body[:1] in (b"{", b"[") and stream.json is not None:
        raise Finding(
            f"asked for a stream, got one JSON document ({exchange.content_type or 'no Content-Type'})",
            c.evidence(stream, content_type=exchange.content_type),
        )
    if not stream.events and not stream.transport_error:
        raise Finding(
            f"asked for a stream, got {len(stream.body)} bytes holding no event",
            c.evidence(stream, content_type=exchange.content_type),
        )


@check("stream.content-type", severity=MUST, endpoints=ENDPOINTS)
def stream_content_type(exchange: Exchange) -> None:
    """A stream is served as `text/event-stream`."""
    c.expect_media_type(exchange, "text/event-stream")


@check("stream.done-terminator", severity=MUST, endpoints=ENDPOINTS)
def stream_done_terminator(exchange: Exchange) -> None:
    """The stream ends with `data: [DONE]`."""
    stream = as_stream(exchange)
    if not stream.done:
        raise Finding("no `data: [DONE]` terminator", c.evidence(stream, tail=stream.tail(512)))


@check("stream.sse.utf8", severity=MUST, endpoints=ENDPOINTS)
def stream_sse_utf8(exchange: Exchange) -> None:
    """The event stream is valid UTF-8."""
    stream = as_stream(exchange)
    found = _problems(stream, "invalid-utf8")
    if not found and not stream.truncated:  # a body cut at our size limit may end mid-character
        try:
            stream.body.decode("utf-8")
        except UnicodeDecodeError as exc:
            found = [{"kind": "invalid-utf8", "offset": exc.start, "detail": exc.reason}]
    if found:
        offset = found[0]["offset"]
        raise Finding(
            f"invalid UTF-8 at byte {offset}",
            c.evidence(stream, problems=found, around=c.excerpt(stream.body, offset)),
        )


@check("stream.sse.blank-line", severity=MUST, endpoints=ENDPOINTS)
def stream_sse_blank_line(exchange: Exchange) -> None:
    """Each event ends with a blank line (no two JSON payloads run together in one event)."""
    stream = as_stream(exchange)
    found = _problems(stream, "missing-blank-line")
    for event in stream.events:
        lines = event.data.split("\n")
        # Several lines that are each a JSON payload: the blank line between events is missing.
        if len(lines) > 1 and all(is_json_payload(line) for line in lines):
            found.append({"kind": "missing-blank-line", "offset": event.offset, "detail": "joined payloads"})
    if found:
        raise _framing_finding(
            stream, found, f"an event does not end with a blank line (byte {found[0]['offset']})"
        )


@check("stream.sse.event-has-data", severity=MUST, endpoints=ENDPOINTS)
def stream_sse_event_has_data(exchange: Exchange) -> None:
    """Every event block carries data: openai-python and the Node SDK hand a block with fields but no
    data (`event: ping`, a `retry:`-only block) to JSON.parse and fail. Comment lines are fine."""
    stream = as_stream(exchange)
    found = _problems(stream, "data-less-event")
    if found:
        first = found[0]
        message = (
            f"{len(found)} event block(s) with no data (first at byte {first['offset']}: {first['detail']})"
        )
        raise _framing_finding(stream, found, message)


@check("stream.sse.json-data", severity=MUST, endpoints=ENDPOINTS)
def stream_sse_json_data(exchange: Exchange) -> None:
    """Every data event before [DONE] is a JSON object."""
    stream = as_stream(exchange)
    found = _problems(stream, "non-json-data")
    for event, chunk in zip(stream.data_events, stream.chunks, strict=False):
        if not isinstance(chunk, dict) and event.data.strip():
            found.append({"kind": "non-json-data", "offset": event.offset, "detail": event.data[:200]})
    if found:
        raise Finding(
            f"{len(found)} data event(s) are not JSON objects", c.evidence(stream, problems=found[:10])
        )


@check("stream.sse.after-done", severity=MUST, endpoints=ENDPOINTS)
def stream_sse_after_done(exchange: Exchange) -> None:
    """Nothing follows `data: [DONE]`."""
    stream = as_stream(exchange)
    found = _problems(stream, "data-after-done")
    seen_done = False
    for event in stream.events:
        if seen_done:
            found.append({"kind": "data-after-done", "offset": event.offset, "detail": event.data[:200]})
        seen_done = seen_done or event.data == DONE
    if found:
        raise Finding(f"{len(found)} event(s) after [DONE]", c.evidence(stream, problems=found[:10]))


@check("stream.sse.complete", severity=MUST, endpoints=ENDPOINTS)
def stream_sse_complete(exchange: Exchange) -> None:
    """The stream is not cut off mid-event or mid-body."""
    stream = as_stream(exchange)
    found = _problems(stream, "truncated", "oversized-event")
    if stream.transport_error:
        found.append({"kind": "transport", "offset": len(stream.body), "detail": stream.transport_error})
    if stream.truncated:
        found.append(
            {"kind": "size-limit", "offset": len(stream.body), "detail": "cut at the suite's size limit"}
        )
    if found:
        raise Finding(
            f"the stream is incomplete: {found[0]['detail']}",
            c.evidence(stream, problems=found, tail=stream.tail(256)),
        )


# -- the chunks ------------------------------------------------------------------------------------
@check("stream.chunk.schema", severity=MUST, endpoints=ENDPOINTS)
def stream_chunk_schema(exchange: Exchange) -> None:
    """Every chunk validates against the endpoint's stream-response schema."""
    stream = as_stream(exchange)
    component = CHUNK_COMPONENT[endpoint_kind(stream)]
    for position, chunk in enumerate(c.stream_chunks(stream)):
        try:
            c.schema_check(stream, component, chunk)
        except Finding as finding:
            finding.evidence.update(c.chunk_ref(chunk, position))
            raise Finding(f"chunk {position}: {finding.message}", finding.evidence) from None


@check("stream.chunk.object", severity=MUST, endpoints=ENDPOINTS)
def stream_chunk_object(exchange: Exchange) -> None:
    """Every chunk's `object` is "chat.completion.chunk" (chat) or "text_completion" (completions)."""
    stream = as_stream(exchange)
    expected = CHUNK_OBJECT[endpoint_kind(stream)]
    for position, chunk in enumerate(c.stream_chunks(stream)):
        if chunk.get("object") != expected:
            raise Finding(
                f"chunk {position}: `object` is {c.short(chunk.get('object'))}, expected {expected!r}",
                c.evidence(stream, **c.chunk_ref(chunk, position)),
            )


@check("stream.id.consistent", severity=MUST, endpoints=ENDPOINTS)
def stream_id_consistent(exchange: Exchange) -> None:
    """Every chunk carries the same non-empty `id`."""
    expect_same(exchange, "id")


@check("stream.created.consistent", severity=MUST, endpoints=ENDPOINTS)
def stream_created_consistent(exchange: Exchange) -> None:
    """Every chunk carries the same `created`, an integer of plausible Unix seconds (not milliseconds, not 0)."""
    value = expect_same(exchange, "created")
    if not c.is_int(value) or not c.CREATED_MIN <= value < c.CREATED_MAX:
        hint = " (milliseconds?)" if c.is_int(value) and value >= c.CREATED_MAX else ""
        raise Finding(
            f"`created` is {c.short(value)} in every chunk: not plausible Unix seconds{hint}",
            c.evidence(exchange, created=value),
        )


@check("stream.role.first", severity=MUST, endpoints=("chat",))
def stream_role_first(exchange: Exchange) -> None:
    """Each choice's first chunk has `delta.role` "assistant"."""
    stream = as_stream(exchange)
    firsts = first_choices(c.stream_chunks(stream))
    if not firsts:
        raise Finding("no chunk carries a choice", c.evidence(stream))
    for index, (position, choice) in sorted(firsts.items()):
        delta = choice.get("delta")
        role = delta.get("role") if isinstance(delta, dict) else None
        if role != "assistant":
            raise Finding(
                f'choice {index}\'s first delta (chunk {position}) has role {c.short(role)}, expected "assistant"',
                c.evidence(stream, position=position, choice=choice),
            )


@check("stream.finish-reason.once-last", severity=MUST, endpoints=ENDPOINTS)
def stream_finish_reason_once_last(exchange: Exchange) -> None:
    """Each choice gets exactly one non-null finish_reason, and no content after it."""
    stream = as_stream(exchange)
    problems = finish_reason_problems(c.stream_chunks(stream))
    if problems:
        raise Finding(problems[0], c.evidence(stream, problems=problems[:10]))


@check("stream.usage.final-chunk", severity=MUST, endpoints=ENDPOINTS)
def stream_usage_final_chunk(exchange: Exchange) -> None:
    """With stream_options.include_usage, the last chunk has `usage` and empty `choices`."""
    stream = as_stream(exchange)
    if not include_usage(stream):
        return  # not requested
    last = c.stream_chunks(stream)[-1]
    usage = last.get("usage")
    fields = ("prompt_tokens", "completion_tokens", "total_tokens")
    if not isinstance(usage, dict) or not all(c.is_int(usage.get(f)) and usage[f] >= 0 for f in fields):
        raise Finding(f"the last chunk's usage is {c.short(usage)}", c.evidence(stream, last_chunk=last))
    if last.get("choices") != []:
        raise Finding(
            f"the usage chunk's choices is {c.short(last.get('choices'))}, expected []",
            c.evidence(stream, last_chunk=last),
        )
    prompt, completion, total = (usage[f] for f in fields)
    if prompt + completion != total:
        raise Finding(
            f"the usage chunk's total_tokens {total} != prompt_tokens {prompt} + completion_tokens {completion}",
            c.evidence(stream, last_chunk=last),
        )


@check("stream.usage.unrequested", severity=MUST, endpoints=ENDPOINTS)
def stream_usage_unrequested(exchange: Exchange) -> None:
    """Without stream_options.include_usage, no chunk carries usage (clients reading choices[0] of every
    chunk break on a usage chunk they did not ask for)."""
    stream = as_stream(exchange)
    if include_usage(stream):
        return  # requested: stream.usage.final-chunk judges it
    chunks = c.stream_chunks(stream)
    carrying = [p for p, chunk in enumerate(chunks) if chunk.get("usage") is not None]
    if carrying:
        raise Finding(
            f"usage on {len(carrying)} chunk(s) although include_usage was not asked for (first: chunk {carrying[0]})",
            c.evidence(stream, **c.chunk_ref(chunks[carrying[0]], carrying[0])),
        )


@check("stream.usage.matches-unary", severity=MUST, endpoints=ENDPOINTS)
def stream_usage_matches_unary(stream_exchange: Exchange, unary_exchange: Exchange) -> None:
    """The streamed usage counts the same prompt as the unary answer to the same request (and the same
    completion tokens where the text is the same)."""
    stream = as_stream(stream_exchange)
    streamed = c.stream_chunks(stream)[-1].get("usage")
    unary = c.body(unary_exchange).get("usage")
    if not isinstance(streamed, dict) or not isinstance(unary, dict):
        return  # absent usage is stream.usage.final-chunk's or *.usage.present's failure
    compared = ["prompt_tokens"]
    if streamed_texts(stream) == unary_texts(unary_exchange):
        compared.append("completion_tokens")  # the same text, the same tokens
    differ = {f: (streamed.get(f), unary.get(f)) for f in compared if streamed.get(f) != unary.get(f)}
    if differ:
        shown = ", ".join(f"{f} {s} streamed vs {u} unary" for f, (s, u) in differ.items())
        raise Finding(
            f"the same request counts differently streamed and unary: {shown}",
            {"streamed_usage": streamed, "unary_usage": unary, "stream": c.evidence(stream)},
        )


@check("stream.usage.null-elsewhere", severity=MUST, endpoints=ENDPOINTS)
def stream_usage_null_elsewhere(exchange: Exchange) -> None:
    """Every chunk but the last has no usage (absent or null)."""
    stream = as_stream(exchange)
    chunks = c.stream_chunks(stream)
    bad = [position for position, chunk in enumerate(chunks[:-1]) if chunk.get("usage") is not None]
    if bad:
        raise Finding(
            f"usage on {len(bad)} chunk(s) before the last (first: chunk {bad[0]})",
            c.evidence(stream, **c.chunk_ref(chunks[bad[0]], bad[0])),
        )


@check("stream.error.event", severity=MUST, endpoints=ENDPOINTS)
def stream_error_event(exchange: Exchange) -> None:
    """An error inside a started stream is `data: {"error": {...}}` with the OpenAI envelope."""
    stream = as_stream(exchange)
    judged = 0
    for position, event in enumerate(stream.data_events):
        chunk = stream.chunks[position]
        if not c.is_error_chunk(chunk) and event.event != "error":
            continue
        judged += 1
        if not isinstance(chunk, dict):
            raise Finding(
                f"event {position} is an `event: error` whose data is not a JSON error envelope",
                c.evidence(stream, data=event.data[:500]),
            )
        try:
            c.schema_check(stream, "ErrorResponse", chunk)
        except Finding as finding:
            raise Finding(
                f"error event {position}: {finding.message}", {**finding.evidence, "event": chunk}
            ) from None
    if not judged:
        raise Unjudged("not-applicable", "no error event in this stream: nothing to judge")


# -- comparisons and timing ---------------------------------------------------------------------------
@check("stream.text.matches-unary", severity=SHOULD, endpoints=ENDPOINTS)
def stream_text_matches_unary(stream_exchange: Exchange, unary_exchange: Exchange) -> None:
    """The streamed text equals the unary answer to the same (deterministic) request."""
    stream = as_stream(stream_exchange)
    streamed = streamed_texts(stream)
    unary = unary_texts(unary_exchange)
    c.expect_stream_matches_unary(
        "streamed text differs from the unary answer",
        streamed,
        unary,
        stream=stream,
        unary_exchange=unary_exchange,
    )


@check("stream.reasoning.separate", severity=MUST, endpoints=("chat",))
def stream_reasoning_separate(exchange: Exchange) -> None:
    """No streamed content carries reasoning (`<think>` ... `</think>`), joined across its deltas."""
    stream = as_stream(exchange)
    if not any(isinstance(ch, dict) and not c.is_error_chunk(ch) for ch in stream.chunks):
        return  # no chunks: stream.sse.json-data's failure, no content to judge
    leaks = {index: text for index, text in streamed_texts(stream).items() if reasoning_leaks(text)}
    if leaks:
        raise Finding(
            f"reasoning leaks into the streamed content of choice(s) {list(leaks)}",
            c.evidence(stream, texts=leaks),
        )


@check("stream.is-streamed", severity=SHOULD, endpoints=ENDPOINTS)
def stream_is_streamed(exchange: Exchange) -> None:
    """Content arrives in more than one event, spread over more than one read (not one buffered burst)."""
    stream = as_stream(exchange)
    arrivals = []
    for event, chunk in zip(stream.data_events, stream.chunks, strict=False):
        if isinstance(chunk, dict) and not c.is_error_chunk(chunk):
            if any(delta_text(chunk, choice) for _, choice in chunk_choices(chunk)):
                arrivals.append(event.received_ns)
    if len(arrivals) < 2:
        raise Finding(
            f"{len(arrivals)} content event(s); a stream sends content in several", c.evidence(stream)
        )
    spread_ms = (max(arrivals) - min(arrivals)) / 1e6
    if len(set(arrivals)) < 2:
        raise Finding(
            f"all {len(arrivals)} content events arrived at once (spread {spread_ms:.3f} ms): the answer was buffered",
            c.evidence(stream, content_events=len(arrivals), spread_ms=spread_ms),
        )
