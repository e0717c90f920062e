"""Streamed answers: chunks framed as server-sent events, and the chunks of chat and text completions.

A stream is settled before its terminator (a client that saw [DONE] was logged and debited); an
error after the status line is sent is the stream's last event.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from . import generation as gen
from ._gateway_seam import Call, GatewaySeam
from ._http_errors import internal_error
from ._wire import dumps
from .engines.base import Engine
from .errors import APIError
from .faults import FaultSet

Json = dict[str, Any]
PROGRESS_INTERVAL_S = 0.5  # how often a stream's sent tokens are recorded (billed after a crash)
logger = logging.getLogger("reference_server")


async def framed(
    seam: GatewaySeam, faults: FaultSet, call: Call, body: Json, chunks: AsyncIterator[Json]
) -> AsyncIterator[bytes]:
    """Frame each chunk, end with the terminator; an error mid-stream is a last `error` event."""
    status, settled = 200, False
    reported, recorded = -1.0, None  # when progress was last recorded, and what it was
    try:
        position = 0
        async for chunk in chunks:
            shaped = faults.chunk(call.endpoint, chunk, position, body)
            frame = None if shaped is None else faults.frame(dumps(shaped))
            position += 1
            if frame is not None:
                yield frame
                # Sent: recorded (the first time, then every PROGRESS_INTERVAL_S) for the crash case.
                now = time.monotonic()
                if call.usage not in (None, recorded) and now - reported >= PROGRESS_INTERVAL_S:
                    seam.report_progress(call)
                    reported, recorded = now, call.usage
        # Settled before the terminator: a client that saw [DONE] was logged and debited.
        await seam.settle(call, status)
        settled = True
        yield faults.terminator()
    except Exception as exc:  # the status line is sent: the error goes in the stream
        if not isinstance(exc, APIError):
            logger.exception("internal error while streaming %s", call.endpoint)
            exc = internal_error()
        status, envelope = faults.error(exc.status, exc.envelope())
        yield faults.frame(dumps(envelope))
    except BaseException:  # the client went away (cancelled): nothing more can be sent
        status = 499
        raise
    finally:
        if not settled:
            seam.settle_soon(call, status)


async def held_back(frames: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """A stream that is not one: every frame held until the end, then sent in one write (a fault)."""
    yield b"".join([frame async for frame in frames])


async def chat_chunks(engine: Engine, job: gen.Job, call: Call) -> AsyncIterator[Json]:
    id_, created = gen.new_id("chatcmpl"), gen.now()
    count = len(job.prompts) * job.n
    generated = [0] * count

    def chunk(choices: list[Json], usage: Json | None = None) -> Json:
        return gen.chat_chunk(job, choices, id=id_, created=created, usage_=usage)

    streams = [gen.ChatChoiceStream(job) for _ in range(count)]
    for i in range(count):
        yield chunk([gen.chat_delta(i, {"role": "assistant", "content": ""})])
    async for i, piece in gen.run_stream(engine, job):
        generated[i] = piece.generated
        call.usage = gen.usage(job.prompt_tokens, sum(generated))
        logprobs = gen.chat_logprobs(piece.tokens) if job.logprobs and piece.tokens else None
        deltas = streams[i].deltas(piece.text)
        if piece.finish_reason:
            last, finish_reason = streams[i].finish(piece.finish_reason)
            deltas += last
        if logprobs is not None and not deltas:  # tokens that showed no text yet (held back)
            deltas = [{"content": ""}]
        for k, delta in enumerate(deltas):
            yield chunk([gen.chat_delta(i, delta, logprobs=logprobs if k == 0 else None)])
        if piece.finish_reason:
            yield chunk([gen.chat_delta(i, {}, finish_reason=finish_reason)])
    if job.include_usage:
        yield chunk([], call.usage)


async def completion_chunks(engine: Engine, job: gen.Job, call: Call) -> AsyncIterator[Json]:
    id_, created = gen.new_id("cmpl"), gen.now()
    count = len(job.prompts) * job.n
    generated = [0] * count
    offsets = [0] * count  # characters of each choice's text sent so far (logprobs text_offset)

    def chunk(choices: list[Json], usage: Json | None = None) -> Json:
        return gen.completion_chunk(job, choices, id=id_, created=created, usage_=usage)

    def choice(i: int, text: str, logprobs: Json | None = None, finish: str | None = None) -> Json:
        return {"index": i, "text": text, "logprobs": logprobs, "finish_reason": finish}

    if job.echo_texts is not None:
        for i in range(count):
            prompt = job.echo_texts[i // job.n]
            logprobs = None
            if job.logprobs:
                logprobs = gen.completion_logprobs([], 0, gen.echo_tokens(job, engine, i // job.n))
            offsets[i] = len(prompt)
            yield chunk([choice(i, prompt, logprobs)])
    async for i, piece in gen.run_stream(engine, job):
        generated[i] = piece.generated
        call.usage = gen.usage(job.prompt_tokens, sum(generated))
        if piece.text or piece.tokens:
            logprobs = gen.completion_logprobs(piece.tokens, offsets[i]) if job.logprobs else None
            offsets[i] += len(piece.text)
            yield chunk([choice(i, piece.text, logprobs)])
        if piece.finish_reason:
            yield chunk([choice(i, "", None, piece.finish_reason)])
    if job.include_usage:
        yield chunk([], call.usage)
