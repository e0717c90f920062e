"""The stream checks on synthetic exchanges (chat and completions streams): each passes on a good input and
fails on its fault's effect (the builders are in tests/_check_cases.py)."""

from __future__ import annotations

from _check_cases import (
    CHAT,
    CHAT_REQ,
    ERROR,
    Case,
    Cases,
    case_tests,
    chat,
    chat_chunks,
    lazy,
    stream,
    with_,
)

from compat_suite.checks import run


def _framed(fault_id: str, endpoint: str = "chat") -> tuple[Case, Case]:
    """(passing, failing): a clean stream, then the same stream served with the fault."""
    return lazy(lambda: stream(endpoint)), lazy(lambda: stream(endpoint, faults=(fault_id,)))


CASES: Cases = {
    "stream.content-type": _framed("stream-content-type-json"),
    "stream.is-event-stream": _framed("stream-bare-json-lines"),
    "stream.chunk.schema": _framed("stream-chunk-model-missing"),
    "stream.chunk.object": _framed("stream-chunk-object-wrong", "completions"),
    "stream.id.consistent": _framed("stream-id-changes"),
    "stream.created.consistent": _framed("stream-created-changes"),
    "stream.role.first": _framed("stream-no-role"),
    "stream.finish-reason.once-last": _framed("stream-finish-twice", "completions"),
    "stream.usage.final-chunk": _framed("stream-usage-chunk-missing"),
    "stream.usage.null-elsewhere": _framed("stream-usage-every-chunk"),
    "stream.done-terminator": _framed("stream-no-done"),
    "stream.sse.utf8": _framed("stream-invalid-utf8"),
    "stream.sse.blank-line": _framed("stream-missing-blank-line"),
    "stream.sse.json-data": _framed("stream-non-json-data"),
    "stream.sse.after-done": _framed("stream-data-after-done"),
    "stream.sse.complete": _framed("stream-truncated"),
    "stream.text.matches-unary": (
        lazy(lambda: (stream(), chat())),
        lazy(lambda: (stream(faults=("stream-text-differs",)), chat())),
    ),
    "stream.error.event": (
        lazy(lambda: stream(chunks=[*chat_chunks()[:2], ERROR])),  # an error in the envelope passes
        lazy(lambda: stream(faults=("stream-error-bare",))),
    ),
    "stream.is-streamed": _framed("stream-not-streamed"),
    "stream.sse.event-has-data": _framed("stream-ping-events"),
    "stream.usage.unrequested": (
        lazy(lambda: stream(chunks=chat_chunks(usage=False), request=NO_USAGE_REQ)),
        lazy(
            lambda: stream(
                chunks=chat_chunks(usage=False), request=NO_USAGE_REQ, faults=("stream-usage-unrequested",)
            )
        ),
    ),
    "stream.usage.matches-unary": (
        lazy(
            lambda: (
                stream(),
                chat(with_(CHAT, usage={"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7})),
            )
        ),
        lazy(
            lambda: (
                stream(faults=("stream-usage-prompt-inflated",)),
                chat(with_(CHAT, usage={"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7})),
            )
        ),
    ),
    "stream.reasoning.separate": _framed("stream-reasoning-in-content"),
}
NO_USAGE_REQ = {**CHAT_REQ, "stream": True}

test_check_passes_on_good_input, test_check_fails_on_fault_effect = case_tests(CASES)


def test_created_in_milliseconds_fails_even_when_every_chunk_agrees() -> None:
    assert not run("stream.created.consistent", stream(faults=("stream-created-ms",))).passed


def test_a_usage_chunk_whose_total_is_not_its_sum_fails() -> None:
    outcome = run("stream.usage.final-chunk", stream(faults=("stream-usage-total-wrong",)))
    assert not outcome.passed and "total_tokens" in outcome.message


def test_a_stream_with_no_error_event_leaves_the_error_check_nothing_to_judge() -> None:
    outcome = run("stream.error.event", stream())
    assert outcome.unjudged == "not-applicable" and not outcome.passed
