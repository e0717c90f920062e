"""The recorded exchange: what checks see of a body."""

from compat_suite.checks import run
from compat_suite.exchange import Exchange, RecordedRequest, StreamExchange
from compat_suite.sse import SSEEvent


def _exchange(body: bytes) -> Exchange:
    return Exchange("chat", RecordedRequest("POST", "http://t/v1/chat/completions", {}), 200, {}, body)


def test_nan_and_infinity_are_not_json() -> None:
    for constant in (b"NaN", b"Infinity", b"-Infinity"):
        assert _exchange(b'{"temperature": ' + constant + b"}").json is None
    assert _exchange(b'{"temperature": 1.5}').json == {"temperature": 1.5}


def test_a_body_with_nan_fails_the_schema_check() -> None:
    outcome = run("chat.response.schema", _exchange(b'{"id": "x", "usage": {"total_tokens": NaN}}'))
    assert not outcome.passed


def test_deeply_nested_body_is_not_json_rather_than_a_crash() -> None:
    assert _exchange(b"[" * 100_000 + b"]" * 100_000).json is None


def test_stream_chunks_reject_nan() -> None:
    ex = StreamExchange("chat", RecordedRequest("POST", "u", {}), 200, {})
    ex.events = [SSEEvent(data='{"x": NaN}'), SSEEvent(data='{"x": 1}'), SSEEvent(data="[DONE]")]
    assert ex.chunks == [None, {"x": 1}]
