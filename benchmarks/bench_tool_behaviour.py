"""What SmolLM2-135M-Instruct chooses under tool_choice "auto", measured k of n with a 95% Wilson
interval: how often it calls the tool a prompt asks for, and how often its answer after a tool
result quotes that result. Model behaviour, not protocol: the suite reports it the same way (the
`tools.auto` and `tools.round-trip` scenarios, with few requests); this measures with more.

    python benchmarks/bench_tool_behaviour.py [--n 16] [--temperature 1.0]

Each try goes through the reference server's own generation path (`generation.chat_job`,
`run_unary`, `chat_body`) on the transformers engine, the tries batched together; the first is
greedy, the others sampled with distinct seeds. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from compat_suite.results import wilson
from compat_suite.scenarios.tools import ASK_WEATHER, RESULT, TOOLS
from reference_server import generation as gen
from reference_server.engines import load_engine

PLAIN = "What is the weather like in Paris today?"
CALL = {
    "id": "call_0",
    "type": "function",
    "function": {"name": "get_weather", "arguments": '{"city": "Paris", "unit": "celsius"}'},
}
ROUND_TRIP = [
    {"role": "user", "content": ASK_WEATHER},
    {"role": "assistant", "content": None, "tool_calls": [CALL]},
    {"role": "tool", "tool_call_id": "call_0", "content": RESULT},
]


async def answer(
    engine: Any, messages: list[dict[str, Any]], temperature: float, seed: int
) -> dict[str, Any]:
    body = {
        "model": engine.model_name,
        "messages": messages,
        "tools": TOOLS,
        "max_tokens": 48,
    }  # a call opens at the first token
    body |= {"temperature": temperature, "seed": seed}
    job = gen.chat_job(body, engine)
    results = await gen.run_unary(engine, job)
    return gen.chat_body(job, results, id="bench", created=0)["choices"][0]["message"]


async def measure(engine: Any, messages: list[dict[str, Any]], n: int, temperature: float, hit: Any) -> int:
    tries = [answer(engine, messages, 0.0 if i == 0 else temperature, 1000 + i) for i in range(n)]
    return sum(bool(hit(message)) for message in await asyncio.gather(*tries))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=16)
    parser.add_argument("--temperature", type=float, default=1.0)
    args = parser.parse_args()
    engine = load_engine("transformers")
    called = lambda message: message.get("tool_calls")  # noqa: E731
    quoted = lambda message: "24" in (message.get("content") or "")  # noqa: E731
    rows = [
        ("calls get_weather when told to use it", [{"role": "user", "content": ASK_WEATHER}], called),
        ("calls get_weather for a plain weather question", [{"role": "user", "content": PLAIN}], called),
        ("quotes the tool's result (24 degrees) after it", ROUND_TRIP, quoted),
    ]
    print(
        f"SmolLM2-135M-Instruct, tool_choice auto, n={args.n} (1 greedy, the rest at temperature {args.temperature})"
    )
    for label, messages, hit in rows:
        started = time.perf_counter()
        k = asyncio.run(measure(engine, messages, args.n, args.temperature, hit))
        low, high = wilson(k, args.n)
        print(
            f"  {label:<48} {k:>3}/{args.n}  {k / args.n:5.0%}  95% CI {low:4.0%}-{high:4.0%}  ({time.perf_counter() - started:.0f} s)"
        )
    asyncio.run(engine.close())


if __name__ == "__main__":
    main()
