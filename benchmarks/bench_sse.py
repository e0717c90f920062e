"""Throughput of `compat_suite.sse.SSEReader` on a 1 MB stream of OpenAI-like chat chunks.

Run: `python benchmarks/bench_sse.py [--mb 1] [--repeat 5]`. Prints events/s and MB/s for each way
the bytes may arrive: one read per event (a live stream), 64 KiB reads (a buffered body), and
1 KiB reads (a CRLF/partial-line heavy split); each with and without `expect_json`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from compat_suite.sse import SSEReader

_WORDS = ("Hello", " world", ",", " the", " quick", " brown", " fox", " — ", " 你好", " 🙂", "\n")


def openai_like_stream(target_bytes: int) -> tuple[list[bytes], int]:
    """SSE frames of `chat.completion.chunk` objects totalling about `target_bytes`, then `[DONE]`."""
    frames: list[bytes] = []
    total = 0
    i = 0
    while total < target_bytes:
        chunk = {
            "id": "chatcmpl-9a8b7c6d5e4f3a2b1c0d",
            "object": "chat.completion.chunk",
            "created": 1_700_000_000 + i // 50,
            "model": "gpt-4o-mini-2024-07-18",
            "system_fingerprint": "fp_0123456789",
            "choices": [
                {
                    "index": 0,
                    "delta": {"content": _WORDS[i % len(_WORDS)]},
                    "logprobs": None,
                    "finish_reason": None,
                }
            ],
        }
        frame = b"data: " + json.dumps(chunk, ensure_ascii=False).encode() + b"\n\n"
        frames.append(frame)
        total += len(frame)
        i += 1
    frames.append(b"data: [DONE]\n\n")
    return frames, i + 1


def rechunk(frames: list[bytes], size: int) -> list[bytes]:
    body = b"".join(frames)
    return [body[i : i + size] for i in range(0, len(body), size)]


def measure(chunks: list[bytes], *, expect_json: bool, repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds to read `chunks` through a fresh reader, checking it read them right.

    CPU time is shown too because on a shared machine wall time mostly measures the neighbours.
    """
    wall, cpu = [], []
    for _ in range(repeat):
        reader = SSEReader(expect_json=expect_json)
        started, cpu_started = time.perf_counter_ns(), time.process_time_ns()
        for chunk in chunks:
            reader.feed(chunk, time.perf_counter_ns())
        reader.close()
        cpu.append((time.process_time_ns() - cpu_started) / 1e9)
        wall.append((time.perf_counter_ns() - started) / 1e9)
        assert not reader.problems, reader.problems[:3]
        assert reader.done
    return statistics.median(wall), statistics.median(cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=float, default=1.0, help="stream size in MB (default 1)")
    parser.add_argument("--repeat", type=int, default=5, help="runs per case; the median is shown")
    args = parser.parse_args()

    frames, n_events = openai_like_stream(int(args.mb * 1_000_000))
    n_bytes = sum(map(len, frames))
    print(f"stream: {n_bytes:,} bytes, {n_events:,} events, {n_bytes / n_events:.0f} bytes/event")
    cases = {
        "one read per event": frames,
        "64 KiB reads": rechunk(frames, 65536),
        "1 KiB reads": rechunk(frames, 1024),
    }
    for label, chunks in cases.items():
        for expect_json in (False, True):
            wall, cpu = measure(chunks, expect_json=expect_json, repeat=args.repeat)
            print(
                f"{label:<20} expect_json={expect_json!s:<5}  {n_events / wall:>10,.0f} events/s"
                f"  {n_bytes / wall / 1e6:6.1f} MB/s  (by CPU time: {n_events / cpu:>9,.0f} events/s)"
            )


if __name__ == "__main__":
    main()
