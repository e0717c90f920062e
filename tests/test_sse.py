"""The strict SSE reader: byte vectors with exact events and problems, under every chunking.

Vectors cover openai-python's streaming tests (tests/test_streaming.py, chunked the same way),
the WHATWG event-stream interpretation rules, and the malformed streams the suite must report.
Every vector is also fed whole, split at every byte boundary, byte by byte, and in random
chunkings (hypothesis): the events (arrival stamps aside) and problems must not change.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compat_suite.sse import DEFAULT_MAX_EVENT_BYTES, ProblemKind, SSEEvent, SSEProblem, SSEReader

BOM = b"\xef\xbb\xbf"


def ev(
    data: str, *, at: int, ns: int, event: str | None = None, id: str | None = None, retry: int | None = None
):
    """An expected event: `at` is its byte offset, `ns` the 1-based index of the chunk completing it."""
    return SSEEvent(data=data, event=event, id=id, retry=retry, received_ns=ns, offset=at)


@dataclass(frozen=True)
class Vector:
    name: str
    chunks: list[bytes]
    events: list[SSEEvent]
    problems: list[tuple[str, int]]  # (kind, offset), in the reader's (offset, kind) order
    options: dict[str, Any] = field(default_factory=dict)
    complete: bool = True

    @property
    def body(self) -> bytes:
        return b"".join(self.chunks)


def read(chunks: list[bytes], *, complete: bool = True, **options: Any) -> SSEReader:
    """Feed `chunks` (chunk i stamped i + 1), checking feed() returns exactly what it adds; close."""
    reader = SSEReader(**options)
    for i, chunk in enumerate(chunks, start=1):
        before = len(reader.events)
        returned = reader.feed(chunk, i)
        assert returned == reader.events[before:]
        assert all(e.received_ns == i for e in returned)
    assert reader.close(complete=complete) == []
    return reader


def unstamped(events: list[SSEEvent]) -> list[SSEEvent]:
    return [dataclasses.replace(e, received_ns=0) for e in events]


def kinds(reader: SSEReader) -> list[tuple[str, int]]:
    return [(p.kind, p.offset) for p in reader.problems]


def summary(reader: SSEReader) -> tuple[Any, ...]:
    """Everything a reader concludes that must not depend on how the bytes were chunked."""
    return (
        unstamped(reader.events),
        reader.problems,
        reader.comments,
        reader.fields_seen,
        reader.retry,
        reader.last_event_id,
        reader.done,
        reader.bytes_read,
    )


NO_DONE = "no-done"
JSON = {"expect_json": True}
NO_TERMINATOR = {"terminator": None}

# -- openai-python's tests/test_streaming.py, same chunks, our own expectations -------------------
OPENAI = [
    Vector(
        "basic",
        [b"event: completion\n", b'data: {"foo":true}\n', b"\n"],
        [ev('{"foo":true}', event="completion", at=0, ns=3)],
        [],
        NO_TERMINATOR | JSON,
    ),
    Vector(
        "data-missing-event",
        [b'data: {"foo":true}\n', b"\n"],
        [ev('{"foo":true}', at=0, ns=2)],
        [],
        NO_TERMINATOR | JSON,
    ),
    # openai-python dispatches an event with data ""; WHATWG dispatches nothing when no data came.
    # The reader records it, since the SDKs would fail on that empty data.
    Vector("event-missing-data", [b"event: ping\n", b"\n"], [], [("data-less-event", 0)], NO_TERMINATOR),
    Vector(
        "multiple-events",
        [b"event: ping\n", b"\n", b"event: completion\n", b"\n"],
        [],
        [("data-less-event", 0), ("data-less-event", 13)],
        NO_TERMINATOR,
    ),
    Vector("retry-only-block", [b"retry: 1000\n", b"\n"], [], [("data-less-event", 0)], NO_TERMINATOR),
    Vector("comment-only-block", [b": keep-alive\n", b"\n"], [], [], NO_TERMINATOR),
    Vector(
        "multiple-events-with-data",
        [
            b"event: ping\n",
            b'data: {"foo":true}\n',
            b"\n",
            b"event: completion\n",
            b'data: {"bar":false}\n',
            b"\n",
        ],
        [ev('{"foo":true}', event="ping", at=0, ns=3), ev('{"bar":false}', event="completion", at=32, ns=6)],
        [],
        NO_TERMINATOR | JSON,
    ),
    Vector(
        "multiple-data-lines-with-empty-line",
        [
            b"event: ping\n",
            b"data: {\n",
            b'data: "foo":\n',
            b"data: \n",
            b"data:\n",
            b"data: true}\n",
            b"\n\n",
        ],
        [ev('{\n"foo":\n\n\ntrue}', event="ping", at=0, ns=7)],
        [],
        NO_TERMINATOR | JSON,
    ),
    Vector(
        "data-json-escaped-double-new-line",
        [b"event: ping\n", b'data: {"foo": "my long\\n\\ncontent"}', b"\n\n"],
        [ev('{"foo": "my long\\n\\ncontent"}', event="ping", at=0, ns=3)],
        [],
        NO_TERMINATOR | JSON,
    ),
    Vector(
        "multiple-data-lines",
        [b"event: ping\n", b"data: {\n", b'data: "foo":\n', b"data: true}\n", b"\n\n"],
        [ev('{\n"foo":\ntrue}', event="ping", at=0, ns=5)],
        [],
        NO_TERMINATOR | JSON,
    ),
    # U+2028 LINE SEPARATOR is data, not a line break (str.splitlines() would split there).
    Vector(
        "special-new-line-character",
        [
            b'data: {"content":" culpa"}\n',
            b"\n",
            b'data: {"content":" \xe2\x80\xa8"}\n',
            b"\n",
            b'data: {"content":"foo"}\n',
            b"\n",
        ],
        [
            ev('{"content":" culpa"}', at=0, ns=2),
            ev('{"content":" \u2028"}', at=28, ns=4),
            ev('{"content":"foo"}', at=54, ns=6),
        ],
        [],
        NO_TERMINATOR | JSON,
    ),
    Vector(
        "multi-byte-character-multiple-chunks",
        [
            b'data: {"content":"',
            b"\xd0",
            b"\xb8\xd0\xb7\xd0",
            b"\xb2\xd0\xb5\xd1\x81\xd1\x82\xd0\xbd\xd0\xb8",
            b'"}\n',
            b"\n",
        ],
        [ev('{"content":"известни"}', at=0, ns=6)],
        [],
        NO_TERMINATOR | JSON,
    ),
]

# -- WHATWG event stream interpretation ---------------------------------------------------------
WHATWG = [
    Vector("lf", [b"data: a\n\n", b"data: [DONE]\n\n"], [ev("a", at=0, ns=1), ev("[DONE]", at=9, ns=2)], []),
    Vector(
        "cr",
        [b"data: a\r\r", b"data: [DONE]\r\r"],
        [ev("a", at=0, ns=1), ev("[DONE]", at=9, ns=2)],
        [("cr-line-endings", 7)],
    ),
    Vector(
        "crlf",
        [b"data: a\r\n\r\n", b"data: [DONE]\r\n\r\n"],
        [ev("a", at=0, ns=1), ev("[DONE]", at=11, ns=2)],
        [("crlf-line-endings", 7)],
    ),
    # The CR ends the line at once; the LF at the start of the next chunk belongs to it, so it is
    # not a blank line (which would dispatch "a" alone).
    Vector(
        "crlf-split-across-chunks",
        [b"data: a\r", b"\ndata: b\r\n\r", b"\n", b"data: [DONE]\r\n\r\n"],
        [ev("a\nb", at=0, ns=2), ev("[DONE]", at=20, ns=4)],
        [("crlf-line-endings", 7)],
    ),
    # A CR that ends a chunk dispatches the event now, not when the next chunk comes: the blank
    # line's lone CR completes "a" in chunk 2 (the same bytes as "cr", cut after each CR).
    Vector(
        "cr-at-chunk-end-dispatches-now",
        [b"data: a\r", b"\r", b"data: [DONE]\r\r"],
        [ev("a", at=0, ns=2), ev("[DONE]", at=9, ns=3)],
        [("cr-line-endings", 7)],
    ),
    Vector(
        "mixed-line-endings",
        [b"data: a\rdata: b\ndata: c\r\n\n", b"data: [DONE]\n\n"],
        [ev("a\nb\nc", at=0, ns=1), ev("[DONE]", at=26, ns=2)],
        [("cr-line-endings", 7), ("crlf-line-endings", 23)],
    ),
    Vector(
        "bom",
        [BOM + b"data: a\n\n", b"data: [DONE]\n\n"],
        [ev("a", at=3, ns=1), ev("[DONE]", at=12, ns=2)],
        [("bom", 0)],
    ),
    Vector(
        "bom-split",
        [b"\xef", b"\xbb", b"\xbfdata: [DONE]\n\n"],
        [ev("[DONE]", at=3, ns=3)],
        [("bom", 0)],
    ),
    # Only one leading BOM is stripped: the second makes the field name "\ufeffdata", unknown.
    Vector("second-bom-is-not-stripped", [BOM + BOM + b"data: a\n\n"], [], [("bom", 0), (NO_DONE, 15)]),
    Vector(
        "comments",
        [b": keep-alive\n\n", b"data: a\n: inside\n\n", b":\n", b"data: [DONE]\n\n"],
        [ev("a", at=14, ns=2), ev("[DONE]", at=34, ns=4)],
        [],
    ),
    Vector(
        "space-after-colon",
        [b"data:a\n\ndata:  b\n\ndata:\n\ndata: [DONE]\n\n"],
        [ev("a", at=0, ns=1), ev(" b", at=8, ns=1), ev("", at=18, ns=1), ev("[DONE]", at=25, ns=1)],
        [],
    ),
    Vector(
        "field-without-colon",
        [b"data\n\ndata\ndata\n\ndata: [DONE]\n\n"],
        [ev("", at=0, ns=1), ev("\n", at=6, ns=1), ev("[DONE]", at=17, ns=1)],
        [],
    ),
    Vector(
        "colons-in-value",
        [b"data: a: b:c\n\ndata: [DONE]\n\n"],
        [ev("a: b:c", at=0, ns=1), ev("[DONE]", at=14, ns=1)],
        [],
    ),
    Vector(
        "event-type",
        [b"event: add\ndata: 1\n\nevent:\ndata: 2\n\ndata: 3\n\ndata: [DONE]\n\n"],
        [
            ev("1", event="add", at=0, ns=1),
            ev("2", at=20, ns=1),
            ev("3", at=36, ns=1),
            ev("[DONE]", at=45, ns=1),
        ],
        [],
    ),
    # The last event ID carries over; an `id` without data still sets it; NUL makes it ignored.
    Vector(
        "id-carries-over",
        [b"id: 1\ndata: a\n\ndata: b\n\nid: 2\n\nid: 3\x004\ndata: c\n\nid\ndata: d\n\ndata: [DONE]\n\n"],
        [
            ev("a", id="1", at=0, ns=1),
            ev("b", id="1", at=15, ns=1),
            ev("c", id="2", at=31, ns=1),
            ev("d", id="", at=48, ns=1),
            ev("[DONE]", id="", at=60, ns=1),
        ],
        [("data-less-event", 24)],  # `id: 2` alone: the SDKs dispatch it with empty data
    ),
    Vector(
        "retry-digits-only",
        [b"retry: 1000\ndata: a\n\nretry: 1x\ndata: b\n\nretry: +5\ndata: c\n\nretry: \xd9\xa3\ndata: d\n\n"],
        [
            ev("a", retry=1000, at=0, ns=1),
            ev("b", at=21, ns=1),
            ev("c", at=40, ns=1),
            ev("d", at=59, ns=1),
        ],
        [(NO_DONE, 78)],
    ),
    Vector(
        "unknown-fields-ignored",
        [b"foo: bar\ndata: a\n\n data: b\n\nDATA: c\n\ndata: [DONE]\n\n"],
        [ev("a", at=0, ns=1), ev("[DONE]", at=37, ns=1)],
        [],
    ),
    Vector(
        "blank-lines-only",
        [b"\n\n\r\n\r\r"],
        [],
        [("crlf-line-endings", 2), ("cr-line-endings", 4), (NO_DONE, 6)],
    ),
    Vector(
        "nul-and-unicode-in-data",
        ["data: a\0b — 🙂\n\ndata: [DONE]\n\n".encode()],
        [ev("a\0b — 🙂", at=0, ns=1), ev("[DONE]", at=20, ns=1)],
        [],
    ),
    Vector(
        "format-agnostic-by-default",
        [b"data: not json\n\ndata: [DONE]\n\n"],
        [ev("not json", at=0, ns=1), ev("[DONE]", at=16, ns=1)],
        [],
    ),
]

# -- malformed streams ----------------------------------------------------------------------------
MALFORMED = [
    Vector(
        "missing-blank-line",
        [b'data: {"a":1}\n', b'data: {"b":2}\n\n', b"data: [DONE]\n\n"],
        [ev('{"a":1}\n{"b":2}', at=0, ns=2), ev("[DONE]", at=29, ns=3)],
        [("missing-blank-line", 0)],
        JSON,
    ),
    Vector(
        "done-glued-to-last-chunk",
        [b'data: {"a":1}\ndata: [DONE]\n\n'],
        [ev('{"a":1}\n[DONE]', at=0, ns=1)],
        [("missing-blank-line", 0), (NO_DONE, 28)],
        JSON,
    ),
    Vector(
        "non-json-data",
        [b'data: {"a":1}\n\ndata: hello\n\ndata: NaN\n\ndata: [DONE]\n\n'],
        [
            ev('{"a":1}', at=0, ns=1),
            ev("hello", at=15, ns=1),
            ev("NaN", at=28, ns=1),
            ev("[DONE]", at=39, ns=1),
        ],
        [("non-json-data", 15), ("non-json-data", 28)],
        JSON,
    ),
    # A multi-line event whose lines are not each JSON is plain non-JSON, not a missing blank line.
    Vector(
        "non-json-multiline",
        [b'data: {"a":1}\ndata: oops\n\ndata: [DONE]\n\n'],
        [ev('{"a":1}\noops', at=0, ns=1), ev("[DONE]", at=26, ns=1)],
        [("non-json-data", 0)],
        JSON,
    ),
    Vector(
        "json-with-whitespace",
        [b'data:  {"a": 1} \n\ndata: [DONE]\n\n'],
        [ev(' {"a": 1} ', at=0, ns=1), ev("[DONE]", at=18, ns=1)],
        [],
        JSON,
    ),
    Vector(
        "data-after-done",
        [b"data: {}\n\ndata: [DONE]\n\n", b"data: {}\n\ndata: [DONE]\n\n"],
        [ev("{}", at=0, ns=1), ev("[DONE]", at=10, ns=1), ev("{}", at=24, ns=2), ev("[DONE]", at=34, ns=2)],
        [("data-after-done", 24), ("data-after-done", 34)],
        JSON,
    ),
    Vector("no-done", [b"data: {}\n\n"], [ev("{}", at=0, ns=1)], [(NO_DONE, 10)], JSON),
    Vector(
        "no-done-unless-a-terminator-is-expected",
        [b"data: {}\n\n"],
        [ev("{}", at=0, ns=1)],
        [],
        NO_TERMINATOR,
    ),
    Vector("empty-stream", [], [], [(NO_DONE, 0)]),
    Vector(
        "closed-mid-event",
        [b'data: {"a":1}\n\n', b'data: {"b"'],
        [ev('{"a":1}', at=0, ns=1)],
        [("truncated", 15), (NO_DONE, 25)],
        JSON,
    ),
    # A complete line but no blank line: the spec discards the event at the end of the stream.
    Vector(
        "closed-before-blank-line",
        [b"data: a\n\ndata: [DONE]\n"],
        [ev("a", at=0, ns=1)],
        [("truncated", 9), (NO_DONE, 22)],
    ),
    Vector(
        "connection-broke-mid-event",
        [b"event: x\ndata: a\n\nid: 7\ndata: b"],
        [ev("a", event="x", at=0, ns=1)],
        [("truncated", 18)],
        complete=False,
    ),
    Vector(
        "connection-broke-between-events",
        [b"data: a\n\n"],
        [ev("a", at=0, ns=1)],
        [("truncated", 9)],
        complete=False,
    ),
    Vector("closed-inside-bom", [b"\xef\xbb"], [], [(NO_DONE, 0), ("truncated", 0)]),
    Vector("closed-after-unterminated-comment", [b": ping"], [], [("truncated", 0), (NO_DONE, 6)]),
    Vector(
        "invalid-utf8",
        [b"data: \xff\xfeok\n\ndata: \xd0\n\n: \xc3\x28\n\ndata: [DONE]\n\n"],
        [ev("\ufffd\ufffdok", at=0, ns=1), ev("\ufffd", at=12, ns=1), ev("[DONE]", at=27, ns=1)],
        [("invalid-utf8", 6), ("invalid-utf8", 18), ("invalid-utf8", 23)],
    ),
    Vector(
        "invalid-utf8-is-not-json",
        [b'data: {"a":"\xff"}\n\ndata: [DONE]\n\n'],
        [ev('{"a":"\ufffd"}', at=0, ns=1), ev("[DONE]", at=17, ns=1)],
        [("invalid-utf8", 12)],
        JSON,
    ),
    Vector(
        "oversized-event",
        [b"data: " + b"a" * 40 + b"\n\ndata: ok\n\n", b"data: [DONE]\n\n"],
        [ev("ok", at=48, ns=1), ev("[DONE]", at=58, ns=2)],
        [("oversized-event", 0)],
        {"max_event_bytes": 32},
    ),
    Vector(
        "oversized-by-many-lines",
        [b"data: aaaa\n" * 4 + b"\ndata: [DONE]\n\n"],
        [ev("[DONE]", at=45, ns=1)],
        [("oversized-event", 0)],
        {"max_event_bytes": 32},
    ),
    Vector(
        "oversized-endless-line",
        [b"data: " + b"a" * 100],
        [],
        [("oversized-event", 0), ("truncated", 0)],
        {"max_event_bytes": 32},
        complete=False,
    ),
]

VECTORS = OPENAI + WHATWG + MALFORMED


def test_vector_names_are_unique() -> None:
    names = [v.name for v in VECTORS]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_vector_as_chunked(vector: Vector) -> None:
    reader = read(vector.chunks, complete=vector.complete, **vector.options)
    assert reader.events == vector.events
    assert kinds(reader) == vector.problems
    assert reader.bytes_read == len(vector.body)
    assert reader.buffered_bytes <= reader.max_event_bytes


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.name)
def test_vector_is_chunking_independent(vector: Vector) -> None:
    body = vector.body
    expected = summary(read([body], complete=vector.complete, **vector.options))
    assert expected[0] == unstamped(vector.events)
    for cut in range(1, len(body)):
        split = read([body[:cut], body[cut:]], complete=vector.complete, **vector.options)
        assert summary(split) == expected, f"split at byte {cut}"
    bytewise = read([body[i : i + 1] for i in range(len(body))], complete=vector.complete, **vector.options)
    assert summary(bytewise) == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_random_chunkings(data: st.DataObject) -> None:
    vector = data.draw(st.sampled_from(VECTORS), label="vector")
    body = vector.body
    cuts = sorted(set(data.draw(st.lists(st.integers(0, len(body)), max_size=12), label="cuts")))
    chunks = [body[a:b] for a, b in zip([0, *cuts], [*cuts, len(body)], strict=True)]
    chunked = read(chunks, complete=vector.complete, **vector.options)
    whole = read([body], complete=vector.complete, **vector.options)
    assert summary(chunked) == summary(whole)
    assert unstamped(chunked.events) == unstamped(vector.events)


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


def test_openai_sdk_reads_the_same_json_from_every_openai_vector() -> None:
    """The SDK's decoder and ours agree on every dispatched event's JSON (the raw reader is stricter)."""
    SSEDecoder = getattr(pytest.importorskip("openai._streaming"), "SSEDecoder", None)
    if SSEDecoder is None:
        pytest.skip("openai-python moved its private SSEDecoder")
    for vector in OPENAI:
        sdk = [e for e in SSEDecoder().iter_bytes(iter(vector.chunks)) if e.data]
        ours = read(vector.chunks, **vector.options).events
        assert [json.loads(e.data) for e in ours] == [e.json() for e in sdk], vector.name
