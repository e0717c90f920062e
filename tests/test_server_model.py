"""The same SDK calls against the transformers engine (SmolLM2 + all-MiniLM), with small outputs.

Marked `model`: they load real weights (tens of seconds on the CPU) and run only where the
transformers engine module exists.
"""

from __future__ import annotations

import importlib.util
import json
import math
from collections.abc import Iterator

import pytest
from _check_cases import STREAM_WITH_USAGE
from _sdk_tools import parse_function_tool, parse_response_format, tool_round_trip
from openai import OpenAI

import schemas
from reference_server.app import create_app
from reference_server.serve import BackgroundServer

pytestmark = [
    pytest.mark.model,
    pytest.mark.skipif(
        importlib.util.find_spec("reference_server.engines.transformers_engine") is None,
        reason="the transformers engine is not in this tree yet",
    ),
]
HELLO = [{"role": "user", "content": "What is the capital of France?"}]
KEY = "sk-test-model-0000"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[OpenAI, str, str]]:
    from reference_server.engines import load_engine

    engine = load_engine("transformers")
    with BackgroundServer(create_app(engine, api_keys=[KEY])) as background:
        client = OpenAI(base_url=background.base_url, api_key=KEY, max_retries=0, timeout=120)
        yield client, engine.model_name, engine.embedding_model_name


def test_chat_unary_and_stream_agree_at_temperature_zero(served: tuple[OpenAI, str, str]) -> None:
    client, chat, _ = served
    unary = client.chat.completions.create(model=chat, messages=HELLO, max_tokens=8, temperature=0)
    assert schemas.errors("CreateChatCompletionResponse", unary.model_dump(exclude_unset=True)) == []
    assert unary.choices[0].message.content and 1 <= unary.usage.completion_tokens <= 8
    chunks = list(
        client.chat.completions.create(
            model=chat, messages=HELLO, max_tokens=8, temperature=0, **STREAM_WITH_USAGE
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == unary.choices[0].message.content
    assert chunks[-1].usage.completion_tokens == unary.usage.completion_tokens


def test_chat_seed_n_stop_and_logprobs(served: tuple[OpenAI, str, str]) -> None:
    client, chat, _ = served
    first = client.chat.completions.create(
        model=chat, messages=HELLO, max_tokens=6, seed=7, n=2, logprobs=True
    )
    again = client.chat.completions.create(
        model=chat, messages=HELLO, max_tokens=6, seed=7, n=2, logprobs=True
    )
    assert [c.message.content for c in first.choices] == [c.message.content for c in again.choices]
    assert sorted(c.index for c in first.choices) == [0, 1]
    assert all(t.logprob <= 0 for c in first.choices for t in c.logprobs.content)
    greedy = client.chat.completions.create(model=chat, messages=HELLO, max_tokens=8, temperature=0)
    text = greedy.choices[0].message.content
    if len(text) > 4:
        stop = text[2:4]
        cut = client.chat.completions.create(
            model=chat, messages=HELLO, max_tokens=8, temperature=0, stop=stop
        )
        assert cut.choices[0].message.content == text[: text.index(stop)]
        assert cut.choices[0].finish_reason == "stop"


def test_json_mode_and_completions(served: tuple[OpenAI, str, str]) -> None:
    client, chat, _ = served
    answer = client.chat.completions.create(
        model=chat, messages=HELLO, response_format={"type": "json_object"}, max_tokens=24, temperature=0
    )
    if answer.choices[0].finish_reason == "stop":
        json.loads(answer.choices[0].message.content)
    completion = client.completions.create(
        model=chat, prompt="The sky is", max_tokens=4, temperature=0, echo=True
    )
    assert completion.choices[0].text.startswith("The sky is")
    assert schemas.errors("CreateCompletionResponse", completion.model_dump(exclude_unset=True)) == []


def test_embeddings_float_and_base64(served: tuple[OpenAI, str, str]) -> None:
    client, _, embed = served
    floats = client.embeddings.create(model=embed, input=["a cat", "a dog"], encoding_format="float")
    decoded = client.embeddings.create(model=embed, input=["a cat", "a dog"])
    for f, d in zip(floats.data, decoded.data, strict=True):
        assert math.isclose(math.fsum(x * x for x in f.embedding), 1.0, rel_tol=1e-3)
        assert all(
            math.isclose(a, b, rel_tol=1e-5, abs_tol=1e-6)
            for a, b in zip(f.embedding, d.embedding, strict=True)
        )
    assert floats.usage.prompt_tokens > 0


def test_sdk_structured_output_helpers(served: tuple[OpenAI, str, str]) -> None:
    """openai-python's `parse` (pydantic response_format, pydantic_function_tool) and `stream()`
    helpers, unary and streamed, and a tool round trip, on the real model."""
    client, chat, _ = served
    parse_response_format(client, chat)
    parse_function_tool(client, chat)
    assert isinstance(tool_round_trip(client, chat), str)
