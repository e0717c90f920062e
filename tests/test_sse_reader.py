"""The strict SSE reader beyond the byte vectors: arbitrary bytes never crash it nor depend on
chunking, well-formed streams round-trip, and its stamps, limits, counters, problems and API misuse."""

from __future__ import annotations

import pytest
from _sse_vectors import BOM, read, summary
from hypothesis import given, settings
from hypothesis import strategies as st

from compat_suite.sse import DEFAULT_MAX_EVENT_BYTES, ProblemKind, SSEEvent, SSEProblem, SSEReader

# Bytes that exercise the interesting paths: field names, separators, CR/LF, BOM and bad UTF-8.
_FRAGMENTS = st.sampled_from(
    [
        *(
            b"data",
            b"event",
            b"id",
            b"retry",
            b":",
            b" ",
            b"\n",
            b"\r",
            b"\r\n",
            b"[DONE]",
            b"{}",
            b"1",
            b"\0",
        ),
        *(BOM, b"\xef", b"\xff", b"\xd0", b"\xb8", b"x"),
    ]
)


@settings(max_examples=300, deadline=None)
@given(
    fragments=st.lists(_FRAGMENTS, max_size=40),
    cuts=st.lists(st.integers(0, 200), max_size=8),
    expect_json=st.booleans(),
    complete=st.booleans(),
)
def test_arbitrary_bytes_never_crash_and_do_not_depend_on_chunking(
    fragments: list[bytes], cuts: list[int], expect_json: bool, complete: bool
) -> None:
    body = b"".join(fragments)
    points = sorted({c for c in cuts if c <= len(body)})
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    options = {"expect_json": expect_json, "max_event_bytes": 24}
    whole = read([body], complete=complete, **options)
    assert summary(read(chunks, complete=complete, **options)) == summary(whole)
    assert all(p.kind in {k.value for k in ProblemKind} for p in whole.problems)


def _encode(events: list[tuple[str | None, list[str], str | None]], newline: bytes) -> bytes:
    out = []
    for event_type, lines, event_id in events:
        if event_type is not None:
            out.append(b"event: " + event_type.encode() + newline)
        if event_id is not None:
            out.append(b"id: " + event_id.encode() + newline)  # the one space after the colon is dropped
        out.extend(b"data: " + line.encode() + newline for line in lines)
        out.append(newline)
    return b"".join(out)


_LINE_TEXT = st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=20)
_NAME = st.text(
    st.characters(blacklist_characters="\r\n:\0", blacklist_categories=("Cs",)), min_size=1, max_size=8
)


@settings(max_examples=200, deadline=None)
@given(
    events=st.lists(
        st.tuples(st.none() | _NAME, st.lists(_LINE_TEXT, min_size=1, max_size=3), st.none() | _NAME),
        max_size=6,
    ),
    newline=st.sampled_from([b"\n", b"\r", b"\r\n"]),
    cuts=st.lists(st.integers(0, 400), max_size=6),
)
def test_well_formed_streams_round_trip(
    events: list[tuple[str | None, list[str], str | None]], newline: bytes, cuts: list[int]
) -> None:
    body = _encode(events, newline)
    points = sorted({c for c in cuts if c <= len(body)})
    chunks = [body[a:b] for a, b in zip([0, *points], [*points, len(body)], strict=True)]
    reader = read(chunks, terminator=None)
    last_id = None
    expected = []
    for event_type, lines, event_id in events:
        last_id = event_id if event_id is not None else last_id
        expected.append((event_type or None, "\n".join(lines), last_id))
    assert [(e.event, e.data, e.id) for e in reader.events] == expected
    assert not [p for p in reader.problems if not p.informational]


# -- behaviour beyond the vectors -------------------------------------------------------------------


def test_events_carry_the_arrival_time_of_the_chunk_that_completed_them() -> None:
    reader = SSEReader()
    assert reader.feed(b"data: a", 100) == []
    assert reader.feed(b"\n", 200) == []
    first, second = reader.feed(b"\ndata: b\n\ndata: [DO", 300)
    assert (first.data, first.received_ns, first.offset) == ("a", 300, 0)
    assert second == SSEEvent("b", received_ns=300, offset=9)
    [done] = reader.feed(b"NE]\n\n", 400)
    assert (done.data, done.received_ns, done.offset) == ("[DONE]", 400, 18)
    assert reader.done
    reader.close()
    assert reader.problems == []


def test_endless_line_with_the_default_limit_stays_bounded() -> None:
    reader = SSEReader()
    chunk = b"a" * 65536
    reader.feed(b"data: ", 0)
    for i in range(40):  # 2.5 MiB, more than twice the 1 MiB default
        assert reader.feed(chunk, i) == []
        assert reader.buffered_bytes <= DEFAULT_MAX_EVENT_BYTES
    # The reader resumes at the next blank line.
    assert [e.data for e in reader.feed(b"\n\ndata: [DONE]\n\n", 41)] == ["[DONE]"]
    reader.close()
    [problem] = reader.problems
    assert (problem.kind, problem.offset) == ("oversized-event", 0)
    assert str(DEFAULT_MAX_EVENT_BYTES) in problem.detail


def test_hostile_json_nesting_is_reported_not_raised() -> None:
    depth = 100_000
    reader = read([b"data: " + b"[" * depth + b"]" * depth + b"\n\ndata: [DONE]\n\n"], expect_json=True)
    assert [p.kind for p in reader.problems] == ["non-json-data"]


def test_framing_counters() -> None:
    body = b": hi\n\nevent: a\nid: 1\nretry: 5\nx-custom: y\ndata: 1\n\n:\ndata: [DONE]\n\n"
    reader = read([body])
    assert reader.comments == 2
    assert reader.fields_seen == {"event", "id", "retry", "x-custom", "data"}
    assert (reader.retry, reader.last_event_id) == (5, "1")


def test_last_event_id_is_committed_only_at_a_blank_line() -> None:
    reader = read([b"id: 1\ndata: a\n\nid: 2\ndata: b"], terminator=None)
    assert reader.last_event_id == "1"
    assert [p.kind for p in reader.problems] == ["truncated"]


def test_informational_problems() -> None:
    reader = read([BOM + b"data: a\r\n\r\ndata: [DONE]\r\r"])
    assert {p.kind for p in reader.problems} == {"bom", "crlf-line-endings", "cr-line-endings"}
    assert all(p.informational for p in reader.problems)
    assert not SSEProblem("no-done", 0, "").informational


def test_problem_kinds_are_stable() -> None:
    assert {k.value for k in ProblemKind} == {
        "invalid-utf8",
        "missing-blank-line",
        "non-json-data",
        "data-after-done",
        "no-done",
        "truncated",
        "oversized-event",
        "data-less-event",
        "bom",
        "cr-line-endings",
        "crlf-line-endings",
    }


def test_misuse_gets_a_clear_error() -> None:
    reader = SSEReader()
    with pytest.raises(TypeError, match="bytes"):
        reader.feed("data: a\n\n", 0)  # type: ignore[arg-type]
    reader.close()
    assert reader.close() == []  # a second close is harmless and records nothing new
    assert [p.kind for p in reader.problems] == ["no-done"]
    with pytest.raises(RuntimeError, match="after close"):
        reader.feed(b"data: a\n\n", 0)
    with pytest.raises(ValueError, match="max_event_bytes"):
        SSEReader(max_event_bytes=0)


def test_bytes_like_chunks_are_accepted() -> None:
    reader = SSEReader()
    reader.feed(bytearray(b"data: a\n"), 1)
    reader.feed(memoryview(b"\ndata: [DONE]\n\n"), 2)
    reader.close()
    assert [e.data for e in reader.events] == ["a", "[DONE]"]
    assert reader.problems == []
