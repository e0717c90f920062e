"""generation.py on its own: stop matching with hold-back, token limits, and the fan-out of choices."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence

import pytest

from reference_server import generation as gen
from reference_server.engines.base import GenerationRequest, Structure, TokenDelta
from reference_server.engines.scripted import ScriptedEngine


class ListEngine(ScriptedEngine):
    """Yields fixed token texts (the last with finish_reason), then stops."""

    def __init__(self, texts: Sequence[str], finish: str | None = "stop") -> None:
        super().__init__()
        self.texts = list(texts)
        self.finish = finish
        self.closed = 0

    async def generate(self, request: GenerationRequest) -> AsyncIterator[TokenDelta]:
        try:
            for i, text in enumerate(self.texts):
                await asyncio.sleep(0)
                last = i == len(self.texts) - 1
                yield TokenDelta(i, text, logprob=-0.5, finish_reason=self.finish if last else None)  # type: ignore[arg-type]
        finally:
            self.closed += 1


def pieces(engine: ListEngine, stops: Sequence[str], max_tokens: int = 100) -> list[gen.Piece]:
    async def run() -> list[gen.Piece]:
        request = GenerationRequest(prompt_ids=[1], max_tokens=max_tokens, top_logprobs=0)
        return [p async for p in gen.choice_pieces(engine, request, stops)]

    return asyncio.run(run())


def test_stop_matcher_finds_and_holds_back() -> None:
    matcher = gen.StopMatcher(["END", "\n\n"])
    assert matcher.find("abcENDx", 0) == 3
    assert matcher.find("abc", 0) is None
    assert matcher.safe_end("hello EN") == len("hello ")
    assert matcher.safe_end("hello\n") == len("hello")
    assert matcher.safe_end("hello") == 5


def test_stop_spanning_tokens_is_cut_and_never_shown() -> None:
    engine = ListEngine(["Hel", "lo E", "N", "D more", " text"])
    out = pieces(engine, ["END"])
    assert "".join(p.text for p in out) == "Hello "
    assert out[-1].finish_reason == "stop" and [p.finish_reason for p in out[:-1]] == [None] * (len(out) - 1)
    assert all("E" not in p.text for p in out)  # the held-back "E" was never yielded
    assert out[-1].generated == 4  # the tokens generated, the stop's included
    assert engine.closed == 1  # the engine's generator was closed early
    shown = [t.text for p in out for t in p.tokens]
    assert shown == ["Hel", "lo E"]  # tokens that start before the stop


def test_held_back_text_is_released_when_it_stops_matching() -> None:
    out = pieces(ListEngine(["a E", "x", "!"]), ["EN"])
    assert [p.text for p in out] == ["a ", "Ex", "!"]
    assert out[-1].finish_reason == "stop"


def test_max_tokens_is_enforced_above_the_engine() -> None:
    out = pieces(ListEngine(["a", "b", "c", "d"], finish=None), [], max_tokens=2)
    assert (
        "".join(p.text for p in out) == "ab" and out[-1].finish_reason == "length" and out[-1].generated == 2
    )
    empty = pieces(ListEngine(["a"]), [], max_tokens=0)
    assert [(p.text, p.finish_reason, p.generated) for p in empty] == [("", "length", 0)]


def test_an_engine_that_ends_silently_gets_a_finish_reason() -> None:
    out = pieces(ListEngine(["a", "b"], finish=None), [])
    assert out[-1].finish_reason == "stop"


def test_json_mode_output_never_exceeds_max_tokens() -> None:
    engine = ScriptedEngine()

    async def run(max_tokens: int) -> gen.ChoiceResult:
        request = GenerationRequest(
            prompt_ids=[300, 301], max_tokens=max_tokens, structure=Structure("json_object"), seed=1
        )
        return await gen.collect(engine, request, (), 0)

    for max_tokens in range(1, 12):
        result = asyncio.run(run(max_tokens))
        assert result.completion_tokens <= max_tokens


@pytest.mark.parametrize("n", [1, 3])
def test_run_stream_interleaves_choices_and_finishes_each_once(n: int) -> None:
    engine = ScriptedEngine(token_delay_s=0.001)
    job = gen.Job(
        model="m",
        prompts=[engine.tokenize("hello there")],
        n=n,
        base=GenerationRequest(prompt_ids=[], max_tokens=10, seed=4),
    )

    async def run() -> list[tuple[int, gen.Piece]]:
        return [item async for item in gen.run_stream(engine, job)]

    items = asyncio.run(run())
    unary = asyncio.run(gen.run_unary(engine, job))
    for i in range(n):
        mine = [p for index, p in items if index == i]
        assert [p.finish_reason is not None for p in mine].count(True) == 1 and mine[-1].finish_reason
        assert "".join(p.text for p in mine) == unary[i].text
