"""Named sets of check ids: what one exchange of a kind can prove, defined once for every suite."""

from __future__ import annotations

TRANSPORT = ("transport.complete", "transport.json-body")
PYTHON_CLIENTS = ("clients.python-sdk.parse", "clients.python-async-sdk.parse")
REFUSAL = (*TRANSPORT, "errors.envelope")  # a 4xx answer in OpenAI's error envelope

_GENERATED = (
    "response.schema",
    "response.object",
    "response.id",
    "response.created",
    "usage.present",
    "usage.sum",
    "usage.counts",
    "finish-reason.enum",
    "n.indexed",
    "max-tokens.respected",
)
_SHAPES = {
    "chat": tuple(f"chat.{aspect}" for aspect in _GENERATED),
    "completions": tuple(f"completions.{aspect}" for aspect in _GENERATED),
    "embeddings": (
        "embeddings.response.schema",
        "embeddings.response.object",
        "embeddings.usage.present",
        "embeddings.dimensions.consistent",
        "embeddings.order.index",
    ),
    "models": ("models.list.schema",),
}

STREAM_FRAMING = (
    "stream.is-event-stream",
    "stream.content-type",
    "stream.done-terminator",
    "stream.sse.utf8",
    "stream.sse.blank-line",
    "stream.sse.event-has-data",
    "stream.sse.json-data",
    "stream.sse.after-done",
    "stream.sse.complete",
)
_STREAM_CHUNKS = (
    "stream.chunk.schema",
    "stream.chunk.object",
    "stream.id.consistent",
    "stream.created.consistent",
    "stream.finish-reason.once-last",
    "stream.usage.final-chunk",
    "stream.usage.null-elsewhere",
    "stream.usage.unrequested",
    "stream.error.event",
)


def response_shape(endpoint: str) -> tuple[str, ...]:
    """The checks one successful unary answer of `endpoint` can prove (transport included)."""
    return (*TRANSPORT, *_SHAPES[endpoint])


def stream_chunks(endpoint: str) -> tuple[str, ...]:
    """The chunk-level checks one stream of `endpoint` can prove (the role comes first in chat only)."""
    return (*_STREAM_CHUNKS, "stream.role.first") if endpoint == "chat" else _STREAM_CHUNKS


def stream_checks(endpoint: str) -> tuple[str, ...]:
    """Everything one stream of `endpoint` can prove: its framing and its chunks."""
    return (*STREAM_FRAMING, *stream_chunks(endpoint))
