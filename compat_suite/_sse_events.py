"""What `SSEReader` hands back: the events it dispatches and the problems it records."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class ProblemKind(StrEnum):
    """The stable names of what `SSEReader` records in `SSEReader.problems`."""

    INVALID_UTF8 = "invalid-utf8"
    MISSING_BLANK_LINE = "missing-blank-line"
    NON_JSON_DATA = "non-json-data"
    DATA_AFTER_DONE = "data-after-done"
    NO_DONE = "no-done"
    TRUNCATED = "truncated"
    OVERSIZED_EVENT = "oversized-event"
    # A block with fields but no data (`event: ping`, `retry: 1000` alone): the spec dispatches nothing,
    # but the official SDKs dispatch it and fail to parse its empty data.
    DATA_LESS_EVENT = "data-less-event"
    # Informational: legal, but worth a line in a report.
    BOM = "bom"
    CR_LINE_ENDINGS = "cr-line-endings"
    CRLF_LINE_ENDINGS = "crlf-line-endings"


INFORMATIONAL_KINDS = frozenset(
    {ProblemKind.BOM.value, ProblemKind.CR_LINE_ENDINGS.value, ProblemKind.CRLF_LINE_ENDINGS.value}
)


@dataclass(frozen=True)
class SSEEvent:
    """One dispatched event, as the WHATWG event-stream algorithm defines it."""

    data: str
    event: str | None = None
    id: str | None = None
    retry: int | None = None
    received_ns: int = 0  # perf_counter_ns when the bytes that completed this event arrived
    offset: int = 0  # byte offset of the event's first line in the stream


@dataclass(frozen=True)
class SSEProblem:
    """Something a strict reader objects to; `kind` is a stable kebab-case name."""

    kind: str
    offset: int
    detail: str

    @property
    def informational(self) -> bool:
        """True for framing that is legal but unusual (BOM, CR or CRLF line endings)."""
        return self.kind in INFORMATIONAL_KINDS
