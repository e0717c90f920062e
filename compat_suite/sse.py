"""A strict server-sent-events reader over raw bytes.

It follows the WHATWG HTML "event stream interpretation" algorithm
(https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation) and,
beside the events, records every `SSEProblem` a conformance check may want to turn into a finding.

Why our own parser: client-side SSE decoders are lenient by design and report nothing —
openai-python's `SSEDecoder`, for one, dispatches blocks that carry no data, accepts `retry: +5`,
and has no byte offsets, per-event arrival times, size limit or notion of a malformed stream,
which are what this suite exists to measure. It stays independent of HTTP: bytes in, events out.

Reading rules worth knowing when interpreting results:

- Bytes are split into lines at CR, LF or CRLF before decoding (neither byte occurs inside a
  multi-byte UTF-8 sequence), so a character split across chunks is decoded whole, and U+2028 or
  other Unicode line breaks are data, not line ends.
- `SSEEvent.id` is the last event ID in force when the event was dispatched (it carries over, as the
  spec says); `SSEEvent.retry` is a valid `retry` field given within that event's block, if any.
- A block whose data buffer is empty dispatches nothing (`event: ping` + blank line included), as the
  spec says; where it had fields, `data-less-event` records it, since the official SDKs do dispatch it
  and fail on its empty data (the raw reader is never looser than the SDKs).
- An unfinished event at the end of the stream is discarded, so `close()` dispatches nothing.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from ._sse_events import INFORMATIONAL_KINDS, ProblemKind, SSEEvent, SSEProblem
from ._strict_json import is_json

__all__ = [
    "DEFAULT_MAX_EVENT_BYTES",
    "INFORMATIONAL_KINDS",
    "ProblemKind",
    "SSEEvent",
    "SSEProblem",
    "SSEReader",
]

DEFAULT_MAX_EVENT_BYTES = 1 << 20
# Fields that make openai-python's and the Node SDK's decoders dispatch a block (with data "" when it
# has none); a block of unknown fields or comments alone they skip, as the spec does.
_DISPATCHING_FIELDS = frozenset({"event", "id", "retry"})
_BOM = b"\xef\xbb\xbf"
# A capturing split keeps the terminators, which we need for byte offsets and framing problems.
_TERMINATOR = re.compile(rb"(\r\n|\r|\n)")


@dataclass(kw_only=True)
class SSEReader:
    """Feed raw bytes as they arrive; get events as soon as they are complete.

    `expect_json` adds `non-json-data` for data that is neither strict JSON (RFC 8259: no NaN or
    Infinity) nor the terminator, or `missing-blank-line` instead when each of its lines is. `terminator` is the data that ends the stream (`[DONE]` for OpenAI);
    `None` turns off `no-done` and `data-after-done`. An event whose lines exceed
    `max_event_bytes` is reported as `oversized-event` and skipped up to the next blank line.

    `problems` is kept ordered by (offset, kind), so it does not depend on how bytes were chunked.
    """

    events: list[SSEEvent] = field(default_factory=list)
    problems: list[SSEProblem] = field(default_factory=list)
    expect_json: bool = False
    terminator: str | None = "[DONE]"
    max_event_bytes: int = DEFAULT_MAX_EVENT_BYTES
    comments: int = 0  # comment lines (keep-alives) seen
    fields_seen: set[str] = field(default_factory=set)  # every field name seen, known or not
    retry: int | None = None  # the stream's reconnection time, from the last valid `retry` field
    last_event_id: str | None = None  # the last event ID string, committed at each blank line

    def __post_init__(self) -> None:
        if self.max_event_bytes < 1:
            raise ValueError(f"max_event_bytes must be positive, got {self.max_event_bytes}")
        self._consumed = 0  # bytes of the stream taken so far (held BOM bytes excluded)
        self._closed = False
        self._at_start = True  # a BOM may still come
        self._held = b""  # the first bytes, while they may still be a BOM
        self._pending_cr = False  # the last chunk ended with CR: an LF next is part of it
        self._endings_seen: set[str] = set()
        self._partial: list[bytes] = []  # the unterminated line, in pieces
        self._partial_len = 0
        self._partial_start = 0
        self._skipping = False  # after an oversized event, until the next blank line
        self._skip_midline = False  # skipping, and the line being skipped has bytes already
        self._skip_start = 0  # where the oversized event began
        self._done_at: int | None = None
        self._id_buffer: str | None = None
        self._reset_block()

    # -- public API ---------------------------------------------------------------------------

    def feed(self, chunk: bytes, received_ns: int) -> list[SSEEvent]:
        """Take the next bytes of the stream; return the events they complete, stamped `received_ns`."""
        if self._closed:
            raise RuntimeError("SSEReader.feed() called after close()")
        if not isinstance(chunk, bytes):
            if isinstance(chunk, str):
                raise TypeError("SSEReader.feed() takes bytes, not str")
            chunk = bytes(chunk)
        if self._at_start:
            chunk = self._take_bom(chunk)
        if not chunk:
            return []
        start = self._consumed
        self._consumed += len(chunk)
        if self._pending_cr:
            self._pending_cr = False
            if chunk[0] == 0x0A:  # the LF of a CRLF split across chunks
                self._note_ending(ProblemKind.CRLF_LINE_ENDINGS, start - 1)
                chunk = chunk[1:]
                start += 1
            else:
                self._note_ending(ProblemKind.CR_LINE_ENDINGS, start - 1)

        out: list[SSEEvent] = []
        if b"\r" in chunk:
            parts = _TERMINATOR.split(chunk)  # [line, terminator, line, terminator, ..., rest]
            rest = parts.pop()
            if parts:
                self._take_terminated(parts, start, bool(rest), received_ns, out)
        else:  # the usual LF-only chunk: a plain split is several times faster than the regex
            lines = chunk.split(b"\n")
            rest = lines.pop()
            if lines:
                pos = start
                if self._partial_len:
                    pos = self._join_partial(lines)
                take_line = self._take_line
                for line in lines:
                    event = take_line(line, pos, received_ns)
                    pos += len(line) + 1
                    if event is not None:
                        out.append(event)
        if rest:
            self._hold_partial(rest)
        return out

    def close(self, *, complete: bool = True) -> list[SSEEvent]:
        """End the stream; `complete=False` means the connection broke.

        Records `truncated` for an unfinished event or a broken connection, and `no-done` for a
        clean end without the terminator. Returns the events the end dispatches: none, since the
        spec discards an unfinished event. A second call does nothing.
        """
        if self._closed:
            return []
        self._closed = True
        end = self._consumed
        if self._pending_cr:
            self._pending_cr = False
            self._note_ending(ProblemKind.CR_LINE_ENDINGS, end - 1)
        if self._held:
            self._problem(ProblemKind.TRUNCATED, 0, f"stream ended after {len(self._held)} byte(s)")
        elif self._skipping or self._partial_len or self._event_start is not None:
            offset = self._skip_start if self._skipping else self._pending_start()
            self._problem(
                ProblemKind.TRUNCATED, offset, f"stream ended inside an event ({end - offset} bytes)"
            )
        elif not complete:
            self._problem(ProblemKind.TRUNCATED, end, "connection broke between events")
        if complete and self.terminator is not None and self._done_at is None:
            self._problem(ProblemKind.NO_DONE, end, f"stream ended cleanly without data {self.terminator!r}")
        return []

    @property
    def bytes_read(self) -> int:
        """Bytes of the stream fed so far, a leading BOM included."""
        return self._consumed + len(self._held)

    @property
    def buffered_bytes(self) -> int:
        """Bytes of the unfinished event held in memory; never more than `max_event_bytes`."""
        return self._block_bytes + self._partial_len + len(self._held)

    @property
    def done(self) -> bool:
        """Whether the terminator event has been dispatched."""
        return self._done_at is not None

    # -- lines and events ---------------------------------------------------------------------

    def _take_line(self, line: bytes, offset: int, received_ns: int) -> SSEEvent | None:
        """Interpret one complete line (terminator removed) that starts at `offset`."""
        if self._skipping:
            if not line and not self._skip_midline:
                self._skipping = False
                self._reset_block()
            self._skip_midline = False
            return None
        if not line:
            return self._dispatch(received_ns)
        if self._block_start is None:
            self._block_start = offset
        self._block_bytes += len(line)
        if self._block_bytes > self.max_event_bytes:
            self._oversize(midline=False)
            return None
        try:
            text = line.decode()
        except UnicodeDecodeError as exc:
            bad = line[exc.start : exc.end].hex(" ")
            self._problem(ProblemKind.INVALID_UTF8, offset + exc.start, f"bytes {bad} are not UTF-8")
            text = line.decode(errors="replace")
        if text[0] == ":":
            self.comments += 1
            return None
        if self._event_start is None:
            self._event_start = offset
        name, _, value = text.partition(":")
        if value[:1] == " ":
            value = value[1:]
        self.fields_seen.add(name)
        if name in _DISPATCHING_FIELDS:
            self._block_fields.add(name)
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event_type = value
        elif name == "id":
            if "\0" not in value:
                self._id_buffer = value
        elif name == "retry":
            if value.isascii() and value.isdigit():
                self._block_retry = self.retry = int(value)
        return None

    def _dispatch(self, received_ns: int) -> SSEEvent | None:
        """A blank line: dispatch the event built so far, if it has data."""
        self.last_event_id = self._id_buffer
        data, event_type, retry, offset = self._data, self._event_type, self._block_retry, self._event_start
        fields = self._block_fields
        self._reset_block()
        if not data:
            if fields:
                self._problem(
                    ProblemKind.DATA_LESS_EVENT, offset or 0, f"fields {sorted(fields)} and no data"
                )
            return None
        assert offset is not None  # the first data line set it
        text = data[0] if len(data) == 1 else "\n".join(data)
        event = SSEEvent(text, event_type or None, self.last_event_id, retry, received_ns, offset)
        self.events.append(event)
        terminator = self.terminator
        if terminator is not None:
            if self._done_at is not None:
                self._problem(
                    ProblemKind.DATA_AFTER_DONE, offset, f"event after {terminator!r} at byte {self._done_at}"
                )
            elif text == terminator:
                self._done_at = offset
        if self.expect_json and text != terminator and not is_json(text):
            if len(data) > 1 and all(line == terminator or is_json(line) for line in data):
                self._problem(
                    ProblemKind.MISSING_BLANK_LINE,
                    offset,
                    f"{len(data)} data lines, each a JSON document, glued into one event",
                )
            else:
                self._problem(ProblemKind.NON_JSON_DATA, offset, f"data is not JSON: {_excerpt(text)}")
        return event

    def _reset_block(self) -> None:
        self._data: list[str] = []
        self._event_type = ""
        self._block_retry: int | None = None
        self._block_start: int | None = None  # first line since the last blank line
        self._event_start: int | None = None  # first field (non-comment) line since then
        self._block_bytes = 0
        self._block_fields: set[str] = set()  # field names (not comments) since the last blank line

    # -- buffering and framing ----------------------------------------------------------------

    def _take_terminated(
        self, parts: list[bytes], start: int, has_rest: bool, received_ns: int, out: list[SSEEvent]
    ) -> None:
        """Take lines alternating with their terminators, noting CR and CRLF framing."""
        pos = self._join_partial(parts) if self._partial_len else start
        last = len(parts) - 2
        for i in range(0, len(parts), 2):
            line = parts[i]
            term = parts[i + 1]
            offset = pos
            pos += len(line) + len(term)
            if term != b"\n":
                if term == b"\r\n":
                    self._note_ending(ProblemKind.CRLF_LINE_ENDINGS, pos - 2)
                elif i == last and not has_rest:
                    self._pending_cr = True  # CR or CRLF: the next chunk says
                else:
                    self._note_ending(ProblemKind.CR_LINE_ENDINGS, pos - 1)
            event = self._take_line(line, offset, received_ns)
            if event is not None:
                out.append(event)

    def _join_partial(self, parts: list[bytes]) -> int:
        """Complete the held unterminated line with `parts[0]`; return where that line starts."""
        parts[0] = b"".join(self._partial) + parts[0]
        self._partial = []
        self._partial_len = 0
        return self._partial_start  # the pieces end exactly where this chunk starts

    def _hold_partial(self, rest: bytes) -> None:
        """Keep the unterminated end of a chunk, unless that makes the event too large."""
        if self._skipping:
            self._skip_midline = True  # its bytes are dropped, but the line is not blank
            return
        if not self._partial_len:
            self._partial_start = self._consumed - len(rest)
        self._partial.append(rest)
        self._partial_len += len(rest)
        if self._block_bytes + self._partial_len > self.max_event_bytes:
            self._oversize(midline=True)

    def _oversize(self, *, midline: bool) -> None:
        self._skip_start = self._pending_start()
        self._problem(
            ProblemKind.OVERSIZED_EVENT,
            self._skip_start,
            f"event exceeds {self.max_event_bytes} bytes; skipped to the next blank line",
        )
        self._reset_block()
        self._partial = []
        self._partial_len = 0
        self._skipping = True
        self._skip_midline = midline

    def _pending_start(self) -> int:
        """Where the unfinished event (or unterminated line) began."""
        if self._event_start is not None:
            return self._event_start
        if self._block_start is not None:
            return self._block_start
        return self._partial_start if self._partial_len else self._consumed

    def _take_bom(self, chunk: bytes) -> bytes:
        """Strip a leading BOM, holding the first bytes back while they could still be one."""
        data = self._held + chunk
        if len(data) < len(_BOM) and _BOM.startswith(data):
            self._held = data
            return b""
        self._held = b""
        self._at_start = False
        if data.startswith(_BOM):
            self._problem(ProblemKind.BOM, 0, "stream starts with a UTF-8 byte order mark")
            self._consumed = len(_BOM)
            return data[len(_BOM) :]
        return data

    def _note_ending(self, kind: ProblemKind, offset: int) -> None:
        if kind not in self._endings_seen:
            self._endings_seen.add(kind)
            ending = "CRLF" if kind is ProblemKind.CRLF_LINE_ENDINGS else "CR"
            self._problem(kind, offset, f"first line ended with {ending}")

    def _problem(self, kind: ProblemKind, offset: int, detail: str) -> None:
        bisect.insort(self.problems, SSEProblem(kind.value, offset, detail), key=_problem_order)


def _problem_order(problem: SSEProblem) -> tuple[int, str]:
    return problem.offset, problem.kind


def _excerpt(text: str, limit: int = 80) -> str:
    return repr(text if len(text) <= limit else text[:limit] + "…")
