"""Legacy text completions through the official openai SDK against a real server on the scripted engine."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httpx
import openai
import pytest
from _check_cases import STREAM_WITH_USAGE
from openai import OpenAI

import schemas
from compat_suite import checks
from compat_suite.exchange import Exchange, RecordedRequest

if TYPE_CHECKING:
    from conftest import RunningServer

CHAT = "scripted-chat"
PROMPT = "Once upon a time"


def test_unary_completion_matches_the_schema(sdk_client: OpenAI, scripted_server: RunningServer) -> None:
    answer = sdk_client.completions.create(model=CHAT, prompt=PROMPT, max_tokens=6, temperature=0)
    assert schemas.errors("CreateCompletionResponse", answer.model_dump(exclude_unset=True)) == []
    assert answer.object == "text_completion" and answer.id.startswith("cmpl-")
    assert answer.usage.prompt_tokens == len(scripted_server.engine.tokenize(PROMPT))
    assert 1 <= answer.usage.completion_tokens <= 6
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens


def test_default_max_tokens_is_openais_sixteen(sdk_client: OpenAI) -> None:
    answer = sdk_client.completions.create(
        model=CHAT, prompt="x", temperature=0, extra_body={"ignore_eos": True}
    )
    assert answer.usage.completion_tokens == 16 and answer.choices[0].finish_reason == "length"


def test_prompt_list_times_n_indexes_and_usage(sdk_client: OpenAI, scripted_server: RunningServer) -> None:
    prompts = ["alpha", "beta gamma"]
    answer = sdk_client.completions.create(model=CHAT, prompt=prompts, n=2, max_tokens=4, seed=5)
    assert sorted(c.index for c in answer.choices) == [0, 1, 2, 3]
    engine = scripted_server.engine
    assert answer.usage.prompt_tokens == sum(len(engine.tokenize(p)) for p in prompts)  # once per prompt
    # Choice prompt_index * n + j answers prompt `prompt_index` with seed + j, as a single request would.
    by_index = {c.index: c.text for c in answer.choices}
    for prompt_index, prompt in enumerate(prompts):
        for j in range(2):
            alone = sdk_client.completions.create(model=CHAT, prompt=prompt, max_tokens=4, seed=5 + j)
            assert by_index[prompt_index * 2 + j] == alone.choices[0].text


def test_a_batch_of_prompts_keeps_max_tokens_per_choice(scripted_server: RunningServer) -> None:
    """Three prompts that each run to max_tokens use 3 x max_tokens in all: the check judges per choice."""
    request = {"model": CHAT, "prompt": ["one", "two", "three"], "max_tokens": 3, "ignore_eos": True}
    response = httpx.post(
        f"{scripted_server.base_url}/completions", json=request, headers=scripted_server.auth_headers
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert [c["finish_reason"] for c in answer["choices"]] == ["length"] * 3
    assert answer["usage"]["completion_tokens"] == 9
    exchange = Exchange(
        "completions",
        RecordedRequest("POST", str(response.request.url), {}, json.dumps(request).encode()),
        status=200,
        headers={"content-type": "application/json"},
        body=response.content,
    )
    outcome = checks.run("completions.max-tokens.respected", exchange)
    assert outcome.passed, outcome.message


def test_token_prompts_equal_text_prompts(sdk_client: OpenAI, scripted_server: RunningServer) -> None:
    ids = scripted_server.engine.tokenize(PROMPT)
    by_text = sdk_client.completions.create(model=CHAT, prompt=PROMPT, max_tokens=5, temperature=0)
    by_ids = sdk_client.completions.create(model=CHAT, prompt=ids, max_tokens=5, temperature=0)
    by_id_lists = sdk_client.completions.create(model=CHAT, prompt=[ids, ids], max_tokens=5, temperature=0)
    assert by_ids.choices[0].text == by_text.choices[0].text
    assert [c.text for c in by_id_lists.choices] == [by_text.choices[0].text] * 2


def test_streamed_equals_unary_with_usage(sdk_client: OpenAI) -> None:
    unary = sdk_client.completions.create(model=CHAT, prompt=PROMPT, max_tokens=20, temperature=0)
    chunks = list(
        sdk_client.completions.create(
            model=CHAT, prompt=PROMPT, max_tokens=20, temperature=0, **STREAM_WITH_USAGE
        )
    )
    for chunk in chunks:
        assert schemas.errors("CreateCompletionStreamResponse", chunk.model_dump(exclude_unset=True)) == []
    assert "".join(c.choices[0].text for c in chunks if c.choices) == unary.choices[0].text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == [unary.choices[0].finish_reason]
    assert chunks[-1].choices == [] and chunks[-1].usage.total_tokens == unary.usage.total_tokens
    assert all(c.usage is None for c in chunks[:-1])


def test_echo_prepends_the_prompt(sdk_client: OpenAI) -> None:
    plain = sdk_client.completions.create(model=CHAT, prompt=PROMPT, max_tokens=5, temperature=0)
    echoed = sdk_client.completions.create(model=CHAT, prompt=PROMPT, max_tokens=5, temperature=0, echo=True)
    assert echoed.choices[0].text == PROMPT + plain.choices[0].text
    streamed = list(
        sdk_client.completions.create(
            model=CHAT, prompt=PROMPT, max_tokens=5, temperature=0, echo=True, stream=True
        )
    )
    assert "".join(c.choices[0].text for c in streamed) == echoed.choices[0].text
    only_prompt = sdk_client.completions.create(model=CHAT, prompt=PROMPT, max_tokens=0, echo=True)
    assert only_prompt.choices[0].text == PROMPT and only_prompt.usage.completion_tokens == 0


def test_logprobs_tokens_offsets_and_echo(sdk_client: OpenAI) -> None:
    answer = sdk_client.completions.create(model=CHAT, prompt=PROMPT, max_tokens=5, temperature=0, logprobs=2)
    assert schemas.errors("CreateCompletionResponse", answer.model_dump(exclude_unset=True)) == []
    lp = answer.choices[0].logprobs
    assert "".join(lp.tokens) == answer.choices[0].text
    assert lp.text_offset == [sum(len(t) for t in lp.tokens[:i]) for i in range(len(lp.tokens))]
    assert all(v <= 0 for v in lp.token_logprobs)
    assert all(len(top) == 2 for top in lp.top_logprobs)
    echoed = sdk_client.completions.create(
        model=CHAT, prompt=PROMPT, max_tokens=5, temperature=0, logprobs=1, echo=True
    ).choices[0]
    assert schemas.errors("CompletionLogprobs", echoed.logprobs.model_dump()) == []
    assert "".join(echoed.logprobs.tokens) == echoed.text
    assert echoed.logprobs.token_logprobs[0] is None
    assert echoed.logprobs.text_offset[-len(lp.tokens) :] == [len(PROMPT) + o for o in lp.text_offset]


def test_stop_on_completions(sdk_client: OpenAI) -> None:
    full = (
        sdk_client.completions.create(model=CHAT, prompt=PROMPT, max_tokens=30, temperature=0).choices[0].text
    )
    stop = full.split(" ")[2]
    cut = sdk_client.completions.create(model=CHAT, prompt=PROMPT, max_tokens=30, temperature=0, stop=stop)
    assert cut.choices[0].text == full[: full.index(stop)] and cut.choices[0].finish_reason == "stop"


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"suffix": "end"}, "suffix"),
        ({"best_of": 3}, "best_of"),
        ({"logit_bias": {"5": 1}}, "logit_bias"),
        ({"logprobs": 9}, "logprobs"),
        ({"max_completion_tokens": 3}, "max_completion_tokens"),
    ],
)
def test_unsupported_completion_parameters_are_refused(sdk_client: OpenAI, extra: dict, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk_client.completions.create(model=CHAT, prompt=PROMPT, max_tokens=2, extra_body=extra)
    assert caught.value.body["param"] == param


@pytest.mark.parametrize("prompt", [[], [[]], [1, "a"], {"x": 1}, None])
def test_malformed_prompts_are_refused(scripted_server: RunningServer, prompt: object) -> None:
    response = httpx.post(
        f"{scripted_server.base_url}/completions",
        json={"model": CHAT, "prompt": prompt},
        headers=scripted_server.auth_headers,
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"].startswith("prompt"), response.text
    assert json.loads(response.text)["error"]["type"] == "invalid_request_error"
