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


# What one chat answer to a request with tools proves (each a no-op where no call was made), what the
# parameters' effect checks judge (each a no-op where the request did not ask), and what one stream does.
TOOL_CALLS = (
    "tools.call.shape",
    "tools.call.id",
    "tools.call.name-declared",
    "tools.call.arguments-string",
    "tools.call.arguments-valid",
    "tools.finish-reason",
    "tools.call.not-in-content",
)
TOOL_EFFECTS = (
    "tools.choice.none",
    "tools.choice.required",
    "tools.choice.named",
    "tools.parallel.off",
    "tools.strict-schema",
    "tools.json-object",
)
TOOL_STREAM = (
    "tools.stream.index",
    "tools.stream.first-delta",
    "tools.stream.later-deltas",
    "tools.stream.arguments-valid",
    "tools.stream.finish-reason",
)
