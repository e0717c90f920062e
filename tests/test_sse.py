"""The strict SSE reader: byte vectors with exact events and problems, under every chunking.

The vectors (tests/_sse_vectors.py) cover openai-python's streaming tests, the WHATWG event-stream
interpretation rules, and here the malformed streams the suite must report. Every vector is also fed
whole, split at every byte boundary, byte by byte, and in random chunkings (hypothesis): the events
(arrival stamps aside) and problems must not change. The reader beyond the vectors: test_sse_reader.py.
"""

from __future__ import annotations

import json

import pytest
from _sse_vectors import (
    JSON,
    NO_DONE,
    NO_TERMINATOR,
    OPENAI,
    WHATWG,
    Vector,
    ev,
    kinds,
    read,
    summary,
    unstamped,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


def test_openai_sdk_reads_the_same_json_from_every_openai_vector() -> None:
    """The SDK's decoder and ours agree on every dispatched event's JSON (the raw reader is stricter)."""
    SSEDecoder = getattr(pytest.importorskip("openai._streaming"), "SSEDecoder", None)
    if SSEDecoder is None:
        pytest.skip("openai-python moved its private SSEDecoder")
    for vector in OPENAI:
        sdk = [e for e in SSEDecoder().iter_bytes(iter(vector.chunks)) if e.data]
        ours = read(vector.chunks, **vector.options).events
        assert [json.loads(e.data) for e in ours] == [e.json() for e in sdk], vector.name
