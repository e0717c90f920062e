"""Running a `Job`: each choice's pieces, with text that could still become a stop sequence held
back until it cannot, and the concurrent fan-out of `n` choices.

The fan-out is a small queue merge of our own: it is the only piece of `aiostream.merge` we need,
and it must close each engine generator on cancellation, which we then control directly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field

from ..engines.base import Engine, GenerationRequest, TokenDelta
from ._job import Job


@dataclass
class Piece:
    """Text a choice adds, the tokens first shown with it, and (on the last piece) why it ended."""

    text: str
    tokens: list[TokenDelta] = field(default_factory=list)
    finish_reason: str | None = None
    generated: int = 0  # tokens the engine produced for this choice so far (usage)


@dataclass
class ChoiceResult:
    index: int
    text: str
    tokens: list[TokenDelta]
    finish_reason: str
    completion_tokens: int


class StopMatcher:
    """Finds stop sequences in generated text and says how much text is safe to show yet."""

    def __init__(self, stops: Sequence[str]) -> None:
        self.stops = tuple(s for s in stops if s)
        self._longest = max((len(s) for s in self.stops), default=0)

    def find(self, text: str, since: int) -> int | None:
        """Start of the earliest stop sequence that ends after `since`, or None."""
        start = max(0, since - self._longest + 1)
        hits = [i for i in (text.find(s, start) for s in self.stops) if i >= 0]
        return min(hits) if hits else None

    def safe_end(self, text: str) -> int:
        """How much of `text` cannot be the beginning of a stop sequence."""
        for k in range(min(self._longest - 1, len(text)), 0, -1):
            tail = text[-k:]
            if any(s.startswith(tail) for s in self.stops):
                return len(text) - k
        return len(text)


async def choice_pieces(
    engine: Engine, request: GenerationRequest, stops: Sequence[str]
) -> AsyncIterator[Piece]:
    """The pieces of one choice; the last one has `finish_reason`. Closes the engine's generator
    when the choice ends early (stop sequence, token limit) or the consumer is cancelled."""
    if request.max_tokens <= 0:
        yield Piece("", [], "length", 0)
        return
    matcher = StopMatcher(stops)
    text = ""
    shown = 0  # characters of `text` already yielded
    pending: list[tuple[int, TokenDelta]] = []  # (start offset, token) not yet yielded
    generated = 0
    finish: str | None = None
    stopped_by_sequence = False
    async with _closing(engine.generate(request)) as deltas:
        async for delta in deltas:
            generated += 1
            if not (delta.finish_reason and not delta.text):  # an end-of-sequence token shows nothing
                pending.append((len(text), delta))
            text += delta.text
            cut = matcher.find(text, shown) if matcher.stops else None
            if cut is not None:
                finish, text, stopped_by_sequence = "stop", text[:cut], True
                break
            if delta.finish_reason or generated >= request.max_tokens:
                finish = delta.finish_reason or "length"
                break
            end = matcher.safe_end(text) if matcher.stops else len(text)
            if end > shown:
                yield Piece(text[shown:end], _take(pending, end), None, generated)
                shown = end
    if finish is None:  # the engine ended without saying why
        finish = "length" if generated >= request.max_tokens else "stop"
    # Tokens of a stop sequence are not shown; every other remaining token is.
    rest = _take(pending, len(text)) if stopped_by_sequence else [tok for _, tok in pending]
    yield Piece(text[shown:], rest, finish, generated)


def _take(pending: list[tuple[int, TokenDelta]], end: int) -> list[TokenDelta]:
    """Remove and return the tokens that start before `end`."""
    taken = [tok for start, tok in pending if start < end]
    del pending[: len(taken)]
    return taken


@contextlib.asynccontextmanager
async def _closing(gen: AsyncIterator[TokenDelta]) -> AsyncIterator[AsyncIterator[TokenDelta]]:
    try:
        yield gen
    finally:
        aclose = getattr(gen, "aclose", None)
        if aclose is not None:
            await aclose()


async def collect(
    engine: Engine,
    request: GenerationRequest,
    stops: Sequence[str],
    index: int,
    produced: list[int] | None = None,
) -> ChoiceResult:
    """Run one choice to its end; `produced[index]` follows its token count as it grows (so that a
    cancelled request still knows what it generated)."""
    text, tokens, finish, generated = "", [], "stop", 0
    async for piece in choice_pieces(engine, request, stops):
        text += piece.text
        tokens += piece.tokens
        generated = piece.generated
        if produced is not None:
            produced[index] = generated
        finish = piece.finish_reason or finish
    return ChoiceResult(index, text, tokens, finish, generated)


async def run_unary(engine: Engine, job: Job, produced: list[int] | None = None) -> list[ChoiceResult]:
    """Every choice of the job, generated concurrently, in index order. `produced`, when given
    (one slot per choice), follows each choice's token count as it is generated."""
    requests = job.choice_requests()
    if len(requests) == 1:
        return [await collect(engine, requests[0], job.stops, 0, produced)]
    tasks = [
        asyncio.ensure_future(collect(engine, r, job.stops, i, produced)) for i, r in enumerate(requests)
    ]
    try:
        return list(await asyncio.gather(*tasks))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def run_stream(engine: Engine, job: Job) -> AsyncIterator[tuple[int, Piece]]:
    """(choice index, piece) as the choices produce them, all choices concurrently."""
    streams = [choice_pieces(engine, r, job.stops) for r in job.choice_requests()]
    async for item in merge(streams):
        yield item


async def merge(
    streams: Sequence[AsyncIterator[Piece]], buffer: int = 64
) -> AsyncIterator[tuple[int, Piece]]:
    """Interleave async iterators as their items arrive; cancelling the consumer cancels them all."""
    if len(streams) == 1:
        async with _closing(streams[0]) as only:
            async for item in only:
                yield 0, item
        return
    queue: asyncio.Queue[tuple[int, Piece | BaseException | None]] = asyncio.Queue(buffer)

    async def pump(i: int, stream: AsyncIterator[Piece]) -> None:
        try:
            async with _closing(stream) as items:
                async for item in items:
                    await queue.put((i, item))
        except Exception as exc:  # handed to the consumer, which re-raises it
            await queue.put((i, exc))
            return
        await queue.put((i, None))

    tasks = [asyncio.ensure_future(pump(i, s)) for i, s in enumerate(streams)]
    try:
        running = len(tasks)
        while running:
            i, item = await queue.get()
            if item is None:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield i, item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
