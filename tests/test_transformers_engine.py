"""The transformers engine: sampling, log-probabilities, structured output, batching, embeddings.

Tests marked `model` load SmolLM2 and MiniLM once for the module (the batch scheduler with a fake
backend, without a model, is in test_step_batcher.py).
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import Iterator, Sequence

import jsonschema
import pytest

from reference_server.engines.base import (
    ChatMessage,
    Engine,
    GenerationRequest,
    Structure,
    TokenDelta,
    ToolSpec,
)
from reference_server.tools import argument_problems, parse_output

DEADLINE_S = 120.0  # bound on any one wait for the model on a slow shared CPU

# -- the real models ----------------------------------------------------------------------------

PROMPTS = [
    "Describe a cat in detail.",
    "Write a poem about the sea.",
    "Explain how rain forms.",
    "List some fruits and their colors.",
    "Tell me a story about a dragon.",
    "What do you like about music?",
    "Describe your favorite city.",
    "How do plants grow?",
]


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    transformers_engine = pytest.importorskip("reference_server.engines.transformers_engine")
    # One torch thread: robust to a CPU shared with other test processes (spin-waits cost more).
    eng = transformers_engine.TransformersEngine(threads=1)
    yield eng
    asyncio.run(eng.close())


def _chat(engine: Engine, text: str, **params) -> GenerationRequest:
    params.setdefault("max_tokens", 8)
    params.setdefault("temperature", 0.0)
    return GenerationRequest(prompt_ids=engine.chat_prompt([ChatMessage("user", text)]), **params)


def _generate(engine: Engine, request: GenerationRequest) -> list[TokenDelta]:
    async def main() -> list[TokenDelta]:
        return [delta async for delta in engine.generate(request)]

    return asyncio.run(asyncio.wait_for(main(), DEADLINE_S))


def _text(deltas: Sequence[TokenDelta]) -> str:
    return "".join(d.text for d in deltas)


@pytest.mark.model
def test_engine_is_ready_and_implements_the_protocol(engine) -> None:
    assert isinstance(engine, Engine)
    assert engine.status() == "ready"
    assert (engine.model_name, engine.embedding_model_name) == ("SmolLM2-135M-Instruct", "all-MiniLM-L6-v2")
    prompt = engine.chat_prompt([ChatMessage("user", "Hi there")])
    assert engine.detokenize(prompt).endswith("<|im_start|>user\nHi there<|im_end|>\n<|im_start|>assistant\n")
    assert engine.detokenize(engine.tokenize("Grüße, world!")) == "Grüße, world!"


@pytest.mark.model
def test_greedy_is_deterministic_and_respects_max_tokens(engine) -> None:
    request = _chat(engine, PROMPTS[0], max_tokens=6)
    first, second = _generate(engine, request), _generate(engine, request)
    assert [d.token_id for d in first] == [d.token_id for d in second]
    assert len(first) == 6 and first[-1].finish_reason == "length"
    assert all(d.finish_reason is None for d in first[:-1])
    assert _text(first).strip()


@pytest.mark.model
def test_greedy_matches_transformers_generate(engine) -> None:
    for prompt in (PROMPTS[1], "What is the capital of France? Answer in one word."):
        request = _chat(engine, prompt, max_tokens=12)
        ours = [d.token_id for d in _generate(engine, request)]
        assert ours == engine.reference_greedy(request.prompt_ids, 12)


@pytest.mark.model
def test_eos_ends_with_stop_and_ignore_eos_runs_to_length(engine) -> None:
    request = _chat(engine, "What is the capital of France? Answer in one word.", max_tokens=24)
    deltas = _generate(engine, request)
    assert deltas[-1].finish_reason == "stop" and len(deltas) < 24
    assert "Paris" in _text(deltas)
    forced = _generate(
        engine,
        _chat(engine, "What is the capital of France? Answer in one word.", max_tokens=24, ignore_eos=True),
    )
    assert len(forced) == 24 and forced[-1].finish_reason == "length"


@pytest.mark.model
def test_seed_reproduces_and_different_seeds_differ(engine) -> None:
    def tokens(seed: int) -> list[int]:
        return [
            d.token_id
            for d in _generate(engine, _chat(engine, PROMPTS[1], temperature=1.2, seed=seed, max_tokens=8))
        ]

    assert tokens(7) == tokens(7)
    assert len({tuple(tokens(seed)) for seed in (1, 2, 3, 4)}) > 1


@pytest.mark.model
def test_top_p_and_penalties_change_sampling(engine) -> None:
    narrow = _chat(engine, PROMPTS[2], temperature=1.0, top_p=1e-6, seed=3, max_tokens=6)
    greedy = _chat(engine, PROMPTS[2], max_tokens=6)
    # A nucleus this small holds only the most likely token: sampling becomes greedy.
    assert [d.token_id for d in _generate(engine, narrow)] == [d.token_id for d in _generate(engine, greedy)]
    repeat = "Repeat after me: la la la la la la la la la la"
    plain = _generate(engine, _chat(engine, repeat, max_tokens=12, ignore_eos=True))
    penalised = _generate(
        engine, _chat(engine, repeat, max_tokens=12, ignore_eos=True, frequency_penalty=2.0)
    )
    assert max(_counts(penalised).values()) < max(_counts(plain).values())


@pytest.mark.model
def test_top_p_below_float32_range_keeps_the_most_likely_token(engine) -> None:
    # Found by the property suite: 3.6e-281 is 0.0 in float32, which emptied the nucleus (a 500).
    tiny = _chat(engine, PROMPTS[2], temperature=1.3, top_p=3.6e-281, seed=5, max_tokens=4)
    greedy = _chat(engine, PROMPTS[2], max_tokens=4)
    assert [d.token_id for d in _generate(engine, tiny)] == [d.token_id for d in _generate(engine, greedy)]


def _counts(deltas: Sequence[TokenDelta]) -> dict[int, int]:
    counts: dict[int, int] = {}
    for d in deltas:
        counts[d.token_id] = counts.get(d.token_id, 0) + 1
    return counts


@pytest.mark.model
def test_logprobs_are_the_models_own(engine) -> None:
    request = _chat(engine, PROMPTS[3], max_tokens=6, top_logprobs=5)
    deltas = _generate(engine, request)
    direct = asyncio.run(engine.token_logprobs([*request.prompt_ids, *(d.token_id for d in deltas)]))
    for delta, expected in zip(deltas, direct[len(request.prompt_ids) :], strict=True):
        assert delta.logprob is not None and math.isfinite(delta.logprob) and delta.logprob <= 0
        values = [t.logprob for t in delta.top_logprobs]
        assert len(values) == 5 and values == sorted(values, reverse=True)
        assert delta.top_logprobs[0].logprob == pytest.approx(delta.logprob)  # greedy took the top one
        assert delta.logprob == pytest.approx(expected, abs=2e-3)
        assert all(isinstance(t.bytes, list) for t in delta.top_logprobs)
    without = _generate(engine, _chat(engine, PROMPTS[3], max_tokens=2))
    assert all(d.logprob is None and d.top_logprobs == [] for d in without)


WEATHER = ToolSpec(
    "get_weather",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "days": {
                "type": "array",
                "items": {"type": "integer", "minimum": 1, "maximum": 7},
                "maxItems": 3,
            },
        },
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
    "The weather forecast of a city.",
)
PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 20},
        "age": {"type": "integer", "minimum": 0, "maximum": 130},
        "address": {
            "type": "object",
            "properties": {"city": {"type": "string", "maxLength": 20}},
            "required": ["city"],
            "additionalProperties": False,
        },
    },
    "required": ["name", "age", "address"],
    "additionalProperties": False,
}


@pytest.mark.model
def test_json_object_and_json_schema_output_validate(engine) -> None:
    text = "Give me a JSON object with the keys name and age for Alice, who is 30."
    deltas = _generate(engine, _chat(engine, text, max_tokens=48, structure=Structure("json_object")))
    assert deltas[-1].finish_reason == "stop"
    assert isinstance(json.loads(_text(deltas)), dict)
    for params in ({}, {"temperature": 0.8, "seed": 5}):
        request = _chat(
            engine, text, max_tokens=80, structure=Structure("json_schema", schema=PERSON), **params
        )
        deltas = _generate(engine, request)
        assert deltas[-1].finish_reason == "stop", _text(deltas)
        jsonschema.validate(json.loads(_text(deltas)), PERSON)


@pytest.mark.model
def test_a_forced_tool_call_parses_and_validates(engine) -> None:
    prompt = engine.chat_prompt([ChatMessage("user", "What is the weather in Paris?")], [WEATHER])
    for params in ({}, {"temperature": 1.0, "seed": 3}):
        structure = Structure("tools", tools=(WEATHER,), mode="required", parallel=False)
        request = GenerationRequest(prompt_ids=prompt, max_tokens=80, structure=structure, **params)
        deltas = _generate(engine, request)
        assert deltas[-1].finish_reason == "stop", _text(deltas)
        content, calls = parse_output(_text(deltas), tools=True)
        assert not content.strip() and [c.name for c in calls] == ["get_weather"], _text(deltas)
        assert not argument_problems(WEATHER, calls[0].arguments)
    # tool_choice none, the tool still described: the answer cannot open a call
    none = GenerationRequest(prompt_ids=prompt, max_tokens=24, structure=Structure("tools", mode="none"))
    assert "<" not in _text(_generate(engine, none))


@pytest.mark.model
def test_constrained_and_free_sequences_share_a_batch(engine) -> None:
    free = _chat(engine, PROMPTS[1], max_tokens=24)
    forced = _chat(engine, "Weather in Rome?", max_tokens=60)
    structure = Structure("tools", tools=(WEATHER,), mode="required")
    forced = GenerationRequest(
        prompt_ids=engine.chat_prompt([ChatMessage("user", "Weather in Rome?")], [WEATHER]),
        max_tokens=60,
        structure=structure,
    )
    solo = _text(_generate(engine, free))
    peak = []

    async def main() -> list[list[TokenDelta]]:
        async def run(request: GenerationRequest) -> list[TokenDelta]:
            out = []
            async for delta in engine.generate(request):
                peak.append(engine.batch_load()[0])
                out.append(delta)
            return out

        return list(await asyncio.gather(run(free), run(forced)))

    free_out, forced_out = asyncio.run(asyncio.wait_for(main(), DEADLINE_S))
    assert max(peak) == 2  # decoded together
    assert _text(free_out) == solo  # the other row's grammar changed nothing here
    _, calls = parse_output(_text(forced_out), tools=True)
    assert calls and not argument_problems(WEATHER, calls[0].arguments)


@pytest.mark.model
def test_split_characters_are_held_back_until_complete(engine) -> None:
    from reference_server.engines._vocabulary import TextStream as _TextStream

    text = "Hi 😊 café 🌍, naïve — done"
    ids = engine.tokenize(text)
    raws = [engine._vocab.token_bytes[i] for i in ids]
    assert b"".join(raws) == text.encode()
    assert any(_is_partial(raw) for raw in raws)  # the tokenizer does split characters here
    stream = _TextStream()
    pieces = [stream.push(raw, final=k == len(raws) - 1) for k, raw in enumerate(raws)]
    assert "".join(pieces) == text and all("\ufffd" not in p for p in pieces)
    assert "" in pieces


def _is_partial(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return True
    return False


@pytest.mark.model
def test_concurrent_requests_share_steps_and_match_solo_greedy(engine) -> None:
    requests = [_chat(engine, p, max_tokens=10) for p in PROMPTS]
    solo = [_text(_generate(engine, r)) for r in requests]

    async def timed(request: GenerationRequest) -> tuple[list[TokenDelta], float, float]:
        first = None
        deltas = []
        async for delta in engine.generate(request):
            first = first or time.perf_counter()
            deltas.append(delta)
        return deltas, first, time.perf_counter()

    async def main():
        return await asyncio.wait_for(asyncio.gather(*(timed(r) for r in requests)), DEADLINE_S)

    results = asyncio.run(main())
    assert max(first for _, first, _ in results) < min(end for _, _, end in results)  # they overlap
    assert [_text(deltas) for deltas, _, _ in results] == solo


@pytest.mark.model
def test_cancelled_consumer_frees_its_slot(engine) -> None:
    async def main() -> None:
        stream = engine.generate(_chat(engine, PROMPTS[4], max_tokens=500, ignore_eos=True))
        await anext(stream)
        await anext(stream)
        assert engine.batch_load()[0] == 1
        await stream.aclose()
        for _ in range(200):
            if engine.batch_load() == (0, 0):
                break
            await asyncio.sleep(0.05)
        assert engine.batch_load() == (0, 0)

    asyncio.run(asyncio.wait_for(main(), DEADLINE_S))
    assert len(_generate(engine, _chat(engine, PROMPTS[5], max_tokens=2))) == 2  # still serving


@pytest.mark.model
def test_task_cancellation_frees_its_slot(engine) -> None:
    started = threading.Event()

    async def consume() -> None:
        async for _ in engine.generate(_chat(engine, PROMPTS[6], max_tokens=500, ignore_eos=True)):
            started.set()

    async def main() -> None:
        task = asyncio.create_task(consume())
        while not started.is_set():
            await asyncio.sleep(0.02)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        for _ in range(200):
            if engine.batch_load() == (0, 0):
                return
            await asyncio.sleep(0.05)
        raise AssertionError(f"slot still held: {engine.batch_load()}")

    asyncio.run(asyncio.wait_for(main(), DEADLINE_S))


@pytest.mark.model
def test_bad_requests_get_client_errors(engine) -> None:
    from reference_server.errors import APIError

    too_long = GenerationRequest(prompt_ids=[1] * 9000, max_tokens=4)
    with pytest.raises(APIError) as excinfo:
        _generate(engine, too_long)
    assert excinfo.value.status == 400 and excinfo.value.code == "context_length_exceeded"
    with pytest.raises(APIError):
        _generate(engine, GenerationRequest(prompt_ids=[10**9], max_tokens=4))
    with pytest.raises(APIError):
        engine.detokenize([1, -5])
    with pytest.raises(APIError):
        _generate(engine, GenerationRequest(prompt_ids=[1, 2], max_tokens=4, top_logprobs=99))


@pytest.mark.model
def test_embeddings_are_unit_vectors_and_token_ids_match_text(engine) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    ids = engine._embedder.tokenizer.encode(text, add_special_tokens=False)
    vectors = asyncio.run(engine.embed([text, ids, "something else entirely"]))
    assert engine.embedding_dimensions() == 384
    assert [len(v) for v in vectors] == [384, 384, 384]
    for vector in vectors:
        assert math.sqrt(sum(x * x for x in vector)) == pytest.approx(1.0, abs=1e-5)
    assert vectors[0] == pytest.approx(vectors[1], abs=1e-5)
    assert sum(a * b for a, b in zip(vectors[0], vectors[2], strict=True)) < 0.9
    assert engine.count_embedding_tokens([text, ids]) == 2 * len(ids)
