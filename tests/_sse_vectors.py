"""Byte vectors for the strict SSE reader, and the helpers that feed them to one.

A vector is chunks of bytes with the exact events and problems a reader must produce from them. Here:
openai-python's streaming tests (tests/test_streaming.py, chunked the same way) and the WHATWG
event-stream interpretation rules; tests/test_sse.py adds the malformed streams and runs them all.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from compat_suite.sse import SSEEvent, SSEReader

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
