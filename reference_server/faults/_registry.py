"""The fault machinery: `Fault`, the registry `fault()` fills, and `FaultSet`, the faults one server
serves (the hooks are listed in the package docstring)."""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

Json = dict[str, Any]


def default_frame(data: str, event: str | None = None) -> bytes:
    """One SSE event: an `event:` line where the stream names its events (the Responses API), then
    the data lines and the blank line."""
    head = b"event: " + event.encode() + b"\n" if event else b""
    return head + b"".join(b"data: " + line.encode() + b"\n" for line in data.split("\n")) + b"\n"


DEFAULT_TERMINATOR = b"data: [DONE]\n\n"
# The headers of the request being served; a context variable because hooks run deep in the app.
_request_headers: ContextVar[Mapping[str, str] | None] = ContextVar("fault_request_headers", default=None)


def request_scope(headers: Mapping[str, str]) -> None:
    """Say which request is being served (each request runs in its own task, so no reset is needed)."""
    _request_headers.set(headers)


@dataclass(frozen=True)
class Fault:
    id: str
    check: str  # the check id this fault makes fail
    description: str
    request: Callable[[str, Json], Json] | None = None
    response: Callable[[str, Json, Json], Json] | None = None
    chunk: Callable[[str, Json, int, Json], Json | None] | None = None
    frame: Callable[[str, str | None], bytes] | None = None
    terminator: Callable[[], bytes] | None = None
    headers: Callable[[str, dict[str, str]], None] | None = None
    error: Callable[[int, Json], tuple[int, Json]] | None = None
    error_headers: Callable[[int, Json, dict[str, str]], None] | None = None
    batch_stream: bool = False  # streaming that silently is not: every frame held back, sent at once
    only_for: Callable[[Mapping[str, str]], bool] | None = None

    def applies(self) -> bool:
        if self.only_for is None:
            return True
        headers = _request_headers.get()
        return headers is not None and self.only_for(headers)


FAULTS: dict[str, Fault] = {}


def fault(f: Fault) -> Fault:
    if f.id in FAULTS:
        raise ValueError(f"fault id registered twice: {f.id}")
    FAULTS[f.id] = f
    return f


class FaultSet:
    """The active faults of one server, applied in the order they were given."""

    def __init__(self, ids: Iterable[str] = ()) -> None:
        ids = list(ids)
        catalog()
        unknown = [i for i in ids if i not in FAULTS]
        if unknown:
            raise ValueError(f"unknown fault id(s): {', '.join(unknown)} (see `compat-suite faults`)")
        self.served = [FAULTS[i] for i in ids]

    @classmethod
    def of(cls, faults: Iterable[Fault]) -> FaultSet:
        """A FaultSet of the given faults, registered or not (tests build their own)."""
        fault_set = cls()
        fault_set.served = list(faults)
        return fault_set

    def __bool__(self) -> bool:
        return bool(self.served)

    @property
    def faults(self) -> list[Fault]:
        """The served faults that apply to the request being served."""
        return [f for f in self.served if f.applies()]

    @property
    def ids(self) -> list[str]:
        return [f.id for f in self.served]

    def request(self, endpoint: str, body: Json) -> Json:
        for f in self.faults:
            if f.request:
                body = f.request(endpoint, body)
        return body

    def response(self, endpoint: str, payload: Json, request: Json) -> Json:
        for f in self.faults:
            if f.response:
                payload = f.response(endpoint, payload, request)
        return payload

    def chunk(self, endpoint: str, payload: Json, position: int, request: Json) -> Json | None:
        for f in self.faults:
            if f.chunk and payload is not None:
                payload = f.chunk(endpoint, payload, position, request)
        return payload

    def frame(self, data: str, event: str | None = None) -> bytes:
        for f in self.faults:
            if f.frame:
                return f.frame(data, event)
        return default_frame(data, event)

    def terminator(self) -> bytes:
        for f in self.faults:
            if f.terminator:
                return f.terminator()
        return DEFAULT_TERMINATOR

    def headers(self, endpoint: str, headers: dict[str, str]) -> dict[str, str]:
        for f in self.faults:
            if f.headers:
                f.headers(endpoint, headers)
        return headers

    @property
    def batch_stream(self) -> bool:
        """Whether the app must buffer a stream's frames and send them in one write."""
        return any(f.batch_stream for f in self.faults)

    def error(self, status: int, envelope: Json) -> tuple[int, Json]:
        for f in self.faults:
            if f.error:
                status, envelope = f.error(status, envelope)
        return status, envelope

    def error_headers(self, status: int, envelope: Json, headers: dict[str, str]) -> dict[str, str]:
        for f in self.faults:
            if f.error_headers:
                f.error_headers(status, envelope, headers)
        return headers


def catalog() -> dict[str, Fault]:
    """Every registered fault by id (imports every area module first: they register on import)."""
    # Written here, not shared with compat_suite's twin: the server never imports the suite.
    package = importlib.import_module(__package__)
    for module in pkgutil.iter_modules(package.__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{__package__}.{module.name}")
    return dict(FAULTS)


def table() -> list[tuple[str, str, str]]:
    """(fault id, check id, description) for every registered fault, sorted by check."""
    return sorted(((f.id, f.check, f.description) for f in catalog().values()), key=lambda r: (r[1], r[0]))
