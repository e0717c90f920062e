"""A byte-level JSON pushdown automaton: which byte strings keep a JSON object's prefix valid.

`json_mode` decoding asks, for each candidate token, "can the text so far plus this token's bytes
still become a JSON object?". Constrained-decoding libraries (outlines, lm-format-enforcer,
xgrammar) answer that by compiling a grammar against the whole vocabulary; for one fixed grammar
(any JSON object) and a few dozen candidates per step, a ~150-line automaton is faster to load,
has no dependency and is easy to audit, so we keep our own. It works on bytes, not characters,
so tokens that carry half of a multi-byte character are judged correctly (bytes >= 0x80 are
allowed inside strings only).

States are immutable tuples, so checking a candidate never disturbs the sequence's state.
"""

from __future__ import annotations

from dataclasses import dataclass

_WS = frozenset(b" \t\n\r")
_DIGITS = frozenset(b"0123456789")
_HEX = frozenset(b"0123456789abcdefABCDEF")
_ESCAPES = frozenset(b'"\\/bfnrtu')
_LITERALS = {ord("t"): b"rue", ord("f"): b"alse", ord("n"): b"ull"}

MAX_DEPTH = 32  # nesting deeper than this is refused: it bounds the stack
MAX_WHITESPACE_RUN = 16  # a model stuck emitting blanks must move on to real JSON

# Modes (first element of a state tuple).
_START = "start"  # nothing yet: only "{"
_VALUE = "value"  # a value is expected (after ":" or "," in an array)
_ARRAY_FIRST = "array-first"  # after "[": a value or "]"
_KEY_FIRST = "key-first"  # after "{": a key or "}"
_KEY = "key"  # after "," in an object: a key
_COLON = "colon"  # after a key
_AFTER = "after"  # after a value inside a container: "," or the closer
_STRING = "string"  # aux: True when the string is a key
_ESCAPE = "escape"  # after a backslash; aux: is-key
_UNICODE = "unicode"  # inside \\uXXXX; aux: (is-key, hex digits still to read)
_LITERAL = "literal"  # aux: the bytes of true/false/null still to read
_NUMBER = "number"  # aux: the number's sub-state, see _number_step
_DONE = "done"  # the top-level object is closed

# A state: (mode, stack of open containers as bytes b"{"/b"[", aux, whitespace run length).
State = tuple[str, bytes, object, int]


@dataclass(frozen=True)
class JsonPrefix:
    """The state of a JSON object being written; `feed` says whether more bytes keep it valid."""

    state: State = (_START, b"", None, 0)

    @property
    def complete(self) -> bool:
        """The top-level object is closed: the only valid continuation is the end of the text."""
        return self.state[0] == _DONE

    def feed(self, data: bytes) -> JsonPrefix | None:
        """The state after `data`, or None when `data` cannot continue a valid JSON object."""
        state: State | None = self.state
        for byte in data:
            state = _step(state, byte)
            if state is None:
                return None
        return JsonPrefix(state)


def _after_value(stack: bytes) -> State:
    return (_DONE, stack, None, 0) if not stack else (_AFTER, stack, None, 0)


def _whitespace(state: State) -> State | None:
    mode, stack, aux, run = state
    return (mode, stack, aux, run + 1) if run < MAX_WHITESPACE_RUN else None


def _start_value(stack: bytes, byte: int) -> State | None:
    if byte == ord("{") or byte == ord("["):
        if len(stack) >= MAX_DEPTH:
            return None
        return (_KEY_FIRST if byte == ord("{") else _ARRAY_FIRST, stack + bytes([byte]), None, 0)
    if byte == ord('"'):
        return (_STRING, stack, False, 0)
    if byte in _LITERALS:
        return (_LITERAL, stack, _LITERALS[byte], 0)
    if byte == ord("-"):
        return (_NUMBER, stack, "minus", 0)
    if byte == ord("0"):
        return (_NUMBER, stack, "zero", 0)
    if byte in _DIGITS:
        return (_NUMBER, stack, "int", 0)
    return None


# Number sub-states, and whether the number may end there.
_NUMBER_ENDS = {"zero": True, "int": True, "frac": True, "exp": True}


def _number_step(sub: str, byte: int) -> str | None:
    if sub == "minus":
        return "zero" if byte == ord("0") else "int" if byte in _DIGITS else None
    if sub in ("zero", "int") and byte == ord("."):
        return "dot"
    if sub in ("zero", "int", "frac") and byte in b"eE":
        return "e"
    if sub == "int" and byte in _DIGITS:
        return "int"
    if sub in ("dot", "frac") and byte in _DIGITS:
        return "frac"
    if sub == "e" and byte in b"+-":
        return "esign"
    if sub in ("e", "esign", "exp") and byte in _DIGITS:
        return "exp"
    return None


def _close(stack: bytes, byte: int) -> State | None:
    opener = b"{" if byte == ord("}") else b"["
    if not stack or stack[-1:] != opener:
        return None
    return _after_value(stack[:-1])


def _step(state: State, byte: int) -> State | None:
    mode, stack, aux, _run = state
    if mode == _STRING:
        if byte == ord('"'):
            return (_COLON, stack, None, 0) if aux else _after_value(stack)
        if byte == ord("\\"):
            return (_ESCAPE, stack, aux, 0)
        return None if byte < 0x20 else state
    if mode == _ESCAPE:
        if byte not in _ESCAPES:
            return None
        return (_UNICODE, stack, (aux, 4), 0) if byte == ord("u") else (_STRING, stack, aux, 0)
    if mode == _UNICODE:
        is_key, left = aux  # type: ignore[misc]
        if byte not in _HEX:
            return None
        return (_STRING, stack, is_key, 0) if left == 1 else (_UNICODE, stack, (is_key, left - 1), 0)
    if mode == _LITERAL:
        rest: bytes = aux  # type: ignore[assignment]
        if byte != rest[0]:
            return None
        return _after_value(stack) if len(rest) == 1 else (_LITERAL, stack, rest[1:], 0)
    if mode == _NUMBER:
        sub = _number_step(aux, byte)  # type: ignore[arg-type]
        if sub is not None:
            return (_NUMBER, stack, sub, 0)
        if not _NUMBER_ENDS.get(aux, False):  # type: ignore[call-overload]
            return None
        # The number ended; this byte belongs to what follows it.
        return _step(_after_value(stack), byte)
    if mode == _DONE:
        return None
    if byte in _WS:
        return None if mode == _START else _whitespace(state)
    if mode == _START:
        return (_KEY_FIRST, b"{", None, 0) if byte == ord("{") else None
    if mode in (_KEY_FIRST, _KEY):
        if byte == ord('"'):
            return (_STRING, stack, True, 0)
        return _close(stack, byte) if mode == _KEY_FIRST and byte == ord("}") else None
    if mode == _COLON:
        return (_VALUE, stack, None, 0) if byte == ord(":") else None
    if mode == _ARRAY_FIRST and byte == ord("]"):
        return _close(stack, byte)
    if mode in (_VALUE, _ARRAY_FIRST):
        return _start_value(stack, byte)
    if mode == _AFTER:
        if byte == ord(","):
            return (_KEY, stack, None, 0) if stack[-1:] == b"{" else (_VALUE, stack, None, 0)
        if byte in b"}]":
            return _close(stack, byte)
    return None
