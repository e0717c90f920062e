"""Keeping the event loop free, and noticing a client that went away.

`CpuWorker` runs CPU-heavy request work (tokenizing large inputs, building and encoding large
answers) on a thread of its own, so that a health or models probe is answered while the heaviest
accepted request is prepared. One thread: tokenizers are not all safe to call concurrently, and
the work holds the GIL anyway; what matters is that the loop only waits for the GIL's switch
interval, never for the whole job.

`until_disconnected` runs a unary request's work while watching the connection: when the client
goes away first, the work is cancelled (which closes the engine's generators, freeing their batch
slots within one decode step) and `ClientGone` is raised.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from starlette.types import Receive

T = TypeVar("T")


class ClientGone(Exception):
    """The client disconnected before its answer was ready; nothing more can be sent."""


class CpuWorker:
    """The worker thread for the request work that must not run on the event loop: one per process,
    shared by every app in it (tests make hundreds of apps; a server process has one)."""

    _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="request-cpu")

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))


async def until_disconnected(receive: Receive, work: Awaitable[T]) -> T:
    """`work`'s result, or `ClientGone` (with `work` cancelled and unwound) if the client leaves first.

    Call only once the request body has been read: every message `receive` gives after that is the
    disconnect."""
    task = asyncio.ensure_future(work)
    watcher = asyncio.ensure_future(_disconnect(receive))
    try:
        await asyncio.wait({task, watcher}, return_when=asyncio.FIRST_COMPLETED)
    finally:  # also when this handler is itself cancelled
        watcher.cancel()
        if not task.done():
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        with contextlib.suppress(BaseException):
            await watcher
    if task.cancelled():
        raise ClientGone
    return task.result()


async def _disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass  # a late body part: keep listening
