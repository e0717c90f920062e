"""The model's tool-call text: the format's markers, and generated text read back into content and
calls, piece by piece (`CallParser`, for streams) or at once (`parse_output`)."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from .engines.base import ToolCall

CALL_OPEN = "<tool_call>"
CALL_CLOSE = "</tool_call>"


def new_call_id() -> str:
    return "call_" + secrets.token_hex(12)


@dataclass(frozen=True)
class TextOut:
    """Text for the answer's content."""

    text: str


@dataclass(frozen=True)
class CallStart:
    """A call begins: its position among the answer's calls, its id and its function's name."""

    index: int
    id: str
    name: str


@dataclass(frozen=True)
class ArgumentsOut:
    """A fragment of a call's arguments (the fragments of one call join into its JSON text)."""

    index: int
    fragment: str


OutputEvent = TextOut | CallStart | ArgumentsOut


class CallParser:
    """Reads generated text piece by piece; `feed` and `finish` return what can be shown.

    Text before a `<tool_call>` block is content (held back while it could still be the block's
    opening). Inside the block, each call's `name` is announced once its string ends, then its
    `arguments` value streams as the model writes it, fragment by fragment. With `tools=False`
    (tool_choice none, or no tools) everything is content.
    """

    def __init__(self, *, tools: bool) -> None:
        self._tools = tools
        self._pending = ""  # content held back: it may be the start of CALL_OPEN
        self._scanner: _CallScanner | None = None
        self.calls: list[ToolCall] = []

    def feed(self, text: str) -> list[OutputEvent]:
        if not self._tools:
            return [TextOut(text)] if text else []
        if self._scanner is not None:
            return self._scanner.feed(text)
        self._pending += text
        at = self._pending.find(CALL_OPEN)
        if at >= 0:
            before, after = self._pending[:at], self._pending[at + len(CALL_OPEN) :]
            self._pending = ""
            self._scanner = _CallScanner(self.calls)
            return [*([TextOut(before)] if before.strip() else []), *self._scanner.feed(after)]
        keep = _prefix_overlap(self._pending, CALL_OPEN)
        shown, self._pending = (
            self._pending[: len(self._pending) - keep],
            self._pending[len(self._pending) - keep :],
        )
        return [TextOut(shown)] if shown else []

    def finish(self, *, cut: bool = False) -> list[OutputEvent]:
        """What is left once generation ended (text held back that never became a block). `cut`: the
        token limit ended it, so a block that never named a call is dropped, not shown as text."""
        if self._scanner is not None:
            return self._scanner.finish(cut=cut)
        rest, self._pending = self._pending, ""
        return [TextOut(rest)] if rest else []


def _prefix_overlap(text: str, marker: str) -> int:
    """The length of the longest tail of `text` that begins `marker`."""
    for k in range(min(len(marker) - 1, len(text)), 0, -1):
        if marker.startswith(text[-k:]):
            return k
    return 0


class _CallScanner:
    """A small incremental scanner over `[{"name": ..., "arguments": ...}, ...]</tool_call>` (or one
    bare call object, as Hermes-style models write it).

    It tracks JSON nesting and strings only as far as it needs to find, in each call object, the
    `name` string and the raw text of the `arguments` value; a block it cannot read as calls (a
    malformed one, possible only where no grammar bound the model) is kept as content.
    """

    def __init__(self, calls: list[ToolCall]) -> None:
        self.calls = calls
        self.raw = ""  # the block's text, for content when it is not a call list
        self.depth = 0
        self.bare = False  # one call object, no list around it
        self.in_string = False
        self.escape = False
        self.expect_key = False
        self.key: str | None = None  # the key whose value is being read in a call object
        self.token = ""  # the string being read (a key or the name)
        self.name: str | None = None
        self.arguments = ""  # the current call's arguments text, as read so far
        self.shown = 0  # characters of `arguments` announced
        self.in_arguments = False
        self.arguments_done = False
        self.closed = False  # the list ended
        self.tail = ""  # text after the list

    def feed(self, text: str) -> list[OutputEvent]:
        events: list[OutputEvent] = []
        for ch in text:
            if self.closed:
                self.tail += ch
                continue
            self.raw += ch
            self._step(ch, events)
        self._flush_arguments(events)
        return events

    def finish(self, *, cut: bool = False) -> list[OutputEvent]:
        events: list[OutputEvent] = []
        self._flush_arguments(events)
        if not self.calls:  # never a call: it was text, unless the limit cut a call short
            return [] if cut and not self.closed else [TextOut(CALL_OPEN + self.raw + self.tail)]
        tail = self.tail.strip()
        if tail.startswith(CALL_CLOSE):
            tail = tail[len(CALL_CLOSE) :].strip()
        return [*events, *([TextOut(tail)] if tail else [])]

    def _step(self, ch: str, events: list[OutputEvent]) -> None:
        if self.in_arguments and (self.arguments or not ch.isspace()):
            self.arguments += ch
        if self.in_string:
            self._string_char(ch, events)
            return
        if ch == '"':
            self.in_string, self.token = True, ""
        elif ch in "[{":
            if self.depth == 0 and ch == "{":  # one bare call object: read it as a list of one
                self.depth, self.bare = 1, True
            self.depth += 1
            if self.depth == 2 and ch == "{":  # a call object opens
                self.expect_key, self.name = True, None
                self.arguments, self.shown, self.in_arguments, self.arguments_done = "", 0, False, False
        elif ch in "]}":
            self.depth -= 1
            if self.in_arguments and self.depth == 2:  # the arguments' container closed
                self._end_arguments(events)
            if self.depth == 1 and ch == "}":
                self._end_call(events)
                if self.bare:
                    self.depth = 0
            if self.depth <= 0:
                self.closed = True
        elif ch == ":" and self.depth == 2:
            self.expect_key = False
            if self.key == "arguments":
                self.in_arguments = True
        elif ch == "," and self.depth == 2:
            if self.in_arguments:
                self.arguments = self.arguments[:-1]  # the separator is not the value's
                self._end_arguments(events)
            self.expect_key = True

    def _string_char(self, ch: str, events: list[OutputEvent]) -> None:
        if self.escape:
            self.escape = False
        elif ch == "\\":
            self.escape = True
        elif ch == '"':
            self.in_string = False
            self._string_done(events)
            return
        self.token += ch

    def _string_done(self, events: list[OutputEvent]) -> None:
        if self.depth != 2:
            return
        if self.expect_key:
            self.key = self.token
        elif self.key == "name" and self.name is None:
            self.name = _unescape(self.token)
            call = ToolCall(new_call_id(), self.name, "")
            self.calls.append(call)
            events.append(CallStart(len(self.calls) - 1, call.id, call.name))

    def _flush_arguments(self, events: list[OutputEvent]) -> None:
        """Announce the arguments read so far, once the call has its name."""
        if self.name is None or not (self.in_arguments or self.arguments_done):
            return
        fragment = self.arguments[self.shown :]
        if fragment:
            self.shown += len(fragment)
            call = self.calls[-1]
            self.calls[-1] = ToolCall(call.id, call.name, call.arguments + fragment)
            events.append(ArgumentsOut(len(self.calls) - 1, fragment))

    def _end_arguments(self, events: list[OutputEvent]) -> None:
        self.in_arguments, self.arguments_done = False, True
        self._flush_arguments(events)

    def _end_call(self, events: list[OutputEvent]) -> None:
        if self.in_arguments:  # a scalar value, ended by the call object's own "}"
            self.arguments = self.arguments[:-1].rstrip()
            self._end_arguments(events)


def _unescape(token: str) -> str:
    try:
        return json.loads(f'"{token}"')
    except ValueError:
        return token


def parse_output(text: str, *, tools: bool, cut: bool = False) -> tuple[str, list[ToolCall]]:
    """(content, calls) of a finished answer (`cut`: by the token limit): the streamed parse, at once."""
    parser = CallParser(tools=tools)
    events = [*parser.feed(text), *parser.finish(cut=cut)]
    content = "".join(e.text for e in events if isinstance(e, TextOut))
    return content, list(parser.calls)
