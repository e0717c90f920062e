"""The batch scheduler of the transformers engine (StepBatcher), with a fake backend and no model:
each request streams its own items, steps are shared, prefills arrive together, cancelled consumers
and backend errors are handled, and close ends the waiting streams."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import pytest

from reference_server.engines._batcher import StepBatcher


@dataclass(frozen=True)
class Item:
    name: str
    index: int
    finish_reason: str | None


class CountingBackend:
    """Rows that each produce `length` items; records the batch size of every step."""

    def __init__(self, *, step_s: float = 0.002, fail_on: str | None = None) -> None:
        self.rows: list[list] = []  # [name, produced, length]
        self.step_sizes: list[int] = []
        self.admitted: list[str] = []
        self.admit_groups: list[list[str]] = []
        self.step_s = step_s
        self.fail_on = fail_on

    def admit(self, requests: Sequence[tuple[str, int]]) -> list[Item]:
        if any(name == self.fail_on for name, _ in requests):
            raise RuntimeError("backend exploded")
        self.admitted += [name for name, _ in requests]
        self.admit_groups.append([name for name, _ in requests])
        rows = [[name, 0, length] for name, length in requests]
        self.rows += rows
        return [self._next(row) for row in rows]

    def step(self) -> list[Item]:
        time.sleep(self.step_s)
        self.step_sizes.append(len(self.rows))
        return [self._next(row) for row in self.rows]

    def keep(self, rows: Sequence[int]) -> None:
        assert list(rows) == sorted(set(rows))
        self.rows = [self.rows[i] for i in rows]

    def _next(self, row: list) -> Item:
        row[1] += 1
        return Item(row[0], row[1], "length" if row[1] >= row[2] else None)


@pytest.fixture
def backend_and_batcher() -> Iterator[tuple[CountingBackend, StepBatcher]]:
    backend = CountingBackend()
    batcher = StepBatcher(backend, max_batch=3, max_joiners=2)
    yield backend, batcher
    batcher.close()


async def _drain(batcher: StepBatcher, request: tuple[str, int]) -> list[Item]:
    return [item async for item in batcher.stream(request)]


def test_batcher_streams_each_request_and_shares_steps(backend_and_batcher) -> None:
    backend, batcher = backend_and_batcher

    async def main() -> list[list[Item]]:
        return await asyncio.wait_for(
            asyncio.gather(*(_drain(batcher, (f"r{i}", 5 + i)) for i in range(7))), 10
        )

    results = asyncio.run(main())
    for i, items in enumerate(results):
        assert [item.index for item in items] == list(range(1, 6 + i))
        assert {item.name for item in items} == {f"r{i}"}
        assert items[-1].finish_reason == "length" and all(it.finish_reason is None for it in items[:-1])
    assert max(backend.step_sizes) == 3  # batched, and never past max_batch
    assert backend.admitted == [f"r{i}" for i in range(7)]  # first come, first served
    assert batcher.load() == (0, 0)


def test_batcher_prefills_requests_arriving_together_in_one_pass() -> None:
    """Requests arriving milliseconds apart at an idle batch share one admit (one padded prefill),
    as the clients of a batch that ended on one step send their next requests."""
    backend = CountingBackend(step_s=0.2)  # the gather window: a tenth of a step, at most 20 ms
    batcher = StepBatcher(backend, max_batch=8, max_joiners=8)

    async def main() -> None:
        await _drain(batcher, ("first", 2))  # the batcher learns how long a step takes
        later = []
        for i in range(4):
            later.append(asyncio.ensure_future(_drain(batcher, (f"joiner{i}", 2))))
            await asyncio.sleep(0.002)
        await asyncio.wait_for(asyncio.gather(*later), 10)

    try:
        asyncio.run(main())
    finally:
        batcher.close()
    assert backend.admit_groups == [["first"], [f"joiner{i}" for i in range(4)]]


def test_batcher_drops_a_cancelled_consumer_at_once(backend_and_batcher) -> None:
    backend, batcher = backend_and_batcher

    async def main() -> None:
        stream = batcher.stream(("long", 10_000))
        assert (await anext(stream)).index == 1
        await stream.aclose()
        for _ in range(500):
            if batcher.load() == (0, 0) and not backend.rows:
                return
            await asyncio.sleep(0.01)
        raise AssertionError(f"slot still held: {batcher.load()}")

    asyncio.run(asyncio.wait_for(main(), 10))
    assert len(backend.step_sizes) < 1000


def test_batcher_hands_backend_errors_to_consumers_and_keeps_serving() -> None:
    backend = CountingBackend(fail_on="bad")
    batcher = StepBatcher(backend)
    try:
        with pytest.raises(RuntimeError, match="backend exploded"):
            asyncio.run(asyncio.wait_for(_drain(batcher, ("bad", 3)), 10))
        items = asyncio.run(asyncio.wait_for(_drain(batcher, ("good", 3)), 10))
        assert [item.index for item in items] == [1, 2, 3]
    finally:
        batcher.close()


def test_batcher_close_ends_waiting_streams() -> None:
    batcher = StepBatcher(CountingBackend(step_s=0.01))

    async def main() -> None:
        stream = batcher.stream(("endless", 10**9))
        await anext(stream)
        await asyncio.to_thread(batcher.close)
        with pytest.raises(RuntimeError, match="closed"):
            async for _ in stream:
                pass

    asyncio.run(asyncio.wait_for(main(), 30))
