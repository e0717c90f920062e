"""Chat completions through the official openai SDK against a real server on the scripted engine."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import httpx
import openai
import pytest
from _check_cases import STREAM_WITH_USAGE
from openai import OpenAI

import schemas
from reference_server.engines.base import ChatMessage

if TYPE_CHECKING:
    from conftest import RunningServer

CHAT = "scripted-chat"
HELLO = [{"role": "user", "content": "Say something."}]


def _raw(server: RunningServer, body: dict) -> httpx.Response:
    return httpx.post(
        f"{server.base_url}/chat/completions", json=body, headers=server.auth_headers, timeout=30
    )


def test_unary_chat_matches_the_schema_and_counts_usage(
    sdk_client: OpenAI, scripted_server: RunningServer
) -> None:
    answer = sdk_client.chat.completions.create(model=CHAT, messages=HELLO, max_tokens=8, temperature=0)
    body = answer.model_dump(exclude_unset=True)
    assert schemas.errors("CreateChatCompletionResponse", body) == []
    assert answer.object == "chat.completion"
    assert answer.model == CHAT
    assert answer.id.startswith("chatcmpl-")
    [choice] = answer.choices
    assert choice.index == 0 and choice.message.role == "assistant"
    assert choice.message.content
    assert choice.finish_reason in ("stop", "length")
    engine = scripted_server.engine
    prompt = engine.chat_prompt([ChatMessage("user", "Say something.")])
    assert answer.usage.prompt_tokens == len(prompt)
    assert 1 <= answer.usage.completion_tokens <= 8
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + answer.usage.completion_tokens


def test_streamed_text_equals_unary_text_at_temperature_zero(sdk_client: OpenAI) -> None:
    for max_tokens in (3, 40):
        unary = sdk_client.chat.completions.create(
            model=CHAT, messages=HELLO, max_tokens=max_tokens, temperature=0
        )
        stream = sdk_client.chat.completions.create(
            model=CHAT, messages=HELLO, max_tokens=max_tokens, temperature=0, stream=True
        )
        chunks = list(stream)
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == unary.choices[0].message.content
        finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
        assert finishes == [unary.choices[0].finish_reason]


def test_stream_framing_ids_roles_and_done(scripted_server: RunningServer, sse_data) -> None:
    body = {"model": CHAT, "messages": HELLO, "max_tokens": 6, "stream": True, "n": 2, "seed": 3}
    response = _raw(scripted_server, body)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.content.endswith(b"data: [DONE]\n\n")
    events = sse_data(response.content)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert len({c["id"] for c in chunks}) == 1 and len({c["created"] for c in chunks}) == 1
    for chunk in chunks:
        assert schemas.errors("CreateChatCompletionStreamResponse", chunk) == []
        assert "usage" not in chunk  # no include_usage: no usage key at all
    for index in (0, 1):
        mine = [c["choices"][0] for c in chunks if c["choices"][0]["index"] == index]
        assert mine[0]["delta"]["role"] == "assistant"
        finished = [i for i, c in enumerate(mine) if c["finish_reason"] is not None]
        assert finished == [len(mine) - 1]  # exactly once, and last


def test_include_usage_adds_a_final_usage_chunk(sdk_client: OpenAI) -> None:
    unary = sdk_client.chat.completions.create(model=CHAT, messages=HELLO, max_tokens=10, temperature=0, n=2)
    chunks = list(
        sdk_client.chat.completions.create(
            model=CHAT, messages=HELLO, max_tokens=10, temperature=0, n=2, **STREAM_WITH_USAGE
        )
    )
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-1].choices == []
    assert chunks[-1].usage.model_dump() == unary.usage.model_dump(exclude_unset=True) | {
        "completion_tokens_details": None,
        "prompt_tokens_details": None,
    }


def test_same_seed_same_output_and_choices_use_consecutive_seeds(sdk_client: OpenAI) -> None:
    def ask(seed: int, n: int = 1) -> list[str]:
        answer = sdk_client.chat.completions.create(
            model=CHAT, messages=HELLO, max_tokens=12, temperature=1.0, seed=seed, n=n
        )
        return [c.message.content for c in sorted(answer.choices, key=lambda c: c.index)]

    assert ask(11) == ask(11)
    three = ask(11, n=3)
    assert three[0] == ask(11)[0] and three[1] == ask(12)[0] and three[2] == ask(13)[0]
    assert len({ask(seed)[0] for seed in range(20, 26)}) > 1  # temperature 1 samples


def test_n_choices_are_indexed_and_counted(sdk_client: OpenAI) -> None:
    answer = sdk_client.chat.completions.create(model=CHAT, messages=HELLO, max_tokens=5, n=4, seed=1)
    assert sorted(c.index for c in answer.choices) == [0, 1, 2, 3]
    assert all(c.finish_reason == "length" or len(c.message.content) > 0 for c in answer.choices)
    assert answer.usage.completion_tokens <= 4 * 5


def test_stop_sequence_cuts_output_and_is_not_returned(sdk_client: OpenAI) -> None:
    full = sdk_client.chat.completions.create(model=CHAT, messages=HELLO, max_tokens=30, temperature=0)
    text = full.choices[0].message.content
    words = text.split(" ")
    assert len(words) >= 3, text
    stop = " " + words[2]
    expected = text[: text.index(stop)]
    unary = sdk_client.chat.completions.create(
        model=CHAT, messages=HELLO, max_tokens=30, temperature=0, stop=[stop]
    )
    assert unary.choices[0].message.content == expected
    assert unary.choices[0].finish_reason == "stop"
    streamed = list(
        sdk_client.chat.completions.create(
            model=CHAT, messages=HELLO, max_tokens=30, temperature=0, stop=stop, stream=True
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in streamed) == expected
    # A stop sequence that spans tokens is held back while it might still match, and never shown.
    spanning = words[1] + " " + words[2][:2]
    held = list(
        sdk_client.chat.completions.create(
            model=CHAT, messages=HELLO, max_tokens=30, temperature=0, stop=[spanning, "zzz"], stream=True
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in held) == text[: text.index(spanning)]


def test_max_tokens_and_max_completion_tokens_bound_the_output(sdk_client: OpenAI) -> None:
    for kwargs in ({"max_tokens": 2}, {"max_completion_tokens": 2}):
        answer = sdk_client.chat.completions.create(model=CHAT, messages=HELLO, temperature=0, **kwargs)
        assert answer.usage.completion_tokens == 2
        assert answer.choices[0].finish_reason == "length"


def test_json_object_output_parses(sdk_client: OpenAI) -> None:
    answer = sdk_client.chat.completions.create(
        model=CHAT, messages=HELLO, response_format={"type": "json_object"}, max_tokens=64
    )
    assert isinstance(json.loads(answer.choices[0].message.content), dict)


def test_logprobs_shape_and_values(sdk_client: OpenAI) -> None:
    answer = sdk_client.chat.completions.create(
        model=CHAT, messages=HELLO, max_tokens=5, temperature=0, logprobs=True, top_logprobs=3
    )
    body = answer.model_dump(exclude_unset=True)
    assert schemas.errors("CreateChatCompletionResponse", body) == []
    content = answer.choices[0].logprobs.content
    assert "".join(t.token for t in content) == answer.choices[0].message.content
    for token in content:
        assert token.logprob <= 0 and token.bytes == list(token.token.encode())
        assert len(token.top_logprobs) == 3
        assert token.top_logprobs[0].logprob >= token.logprob  # greedy: the chosen is the most likely
    streamed = list(
        sdk_client.chat.completions.create(
            model=CHAT,
            messages=HELLO,
            max_tokens=5,
            temperature=0,
            logprobs=True,
            top_logprobs=1,
            stream=True,
        )
    )
    tokens = [
        t.token
        for c in streamed
        if c.choices and c.choices[0].logprobs
        for t in c.choices[0].logprobs.content
    ]
    assert "".join(tokens) == answer.choices[0].message.content


def test_penalties_change_sampling(sdk_client: OpenAI) -> None:
    plain = sdk_client.chat.completions.create(model=CHAT, messages=HELLO, max_tokens=20, temperature=0)
    penalised = sdk_client.chat.completions.create(
        model=CHAT, messages=HELLO, max_tokens=20, temperature=0, frequency_penalty=2.0
    )
    assert plain.choices[0].message.content != penalised.choices[0].message.content


def test_message_roles_and_text_parts(sdk_client: OpenAI) -> None:
    answer = sdk_client.chat.completions.create(
        model=CHAT,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "developer", "content": [{"type": "text", "text": "Really brief."}]},
            {"role": "user", "content": [{"type": "text", "text": "Hi"}, {"type": "text", "text": "there"}]},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "content": "42", "tool_call_id": "call_1"},
            {"role": "user", "content": "Again."},
        ],
        max_tokens=4,
        user="someone",
    )
    assert answer.choices[0].message.content


FUNCTION = {"type": "function", "function": {"name": "f"}}


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"tools": [{"type": "custom", "custom": {"name": "f"}}]}, "tools[0].type"),
        ({"tool_choice": "auto"}, "tool_choice"),
        ({"parallel_tool_calls": True}, "parallel_tool_calls"),
        (
            {"tools": [FUNCTION], "tool_choice": {"type": "function", "function": {"name": "g"}}},
            "tool_choice",
        ),
        (
            {"tools": [{**FUNCTION, "function": {"name": "f", "parameters": {"type": 5}}}]},
            "tools[0].function.parameters",
        ),
        ({"functions": [{"name": "f"}]}, "functions"),
        ({"modalities": ["text", "audio"]}, "modalities"),
        ({"audio": {"voice": "alloy", "format": "wav"}}, "audio"),
        ({"logit_bias": {"12": 5}}, "logit_bias"),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": 5}}}},
            "response_format.json_schema.schema",
        ),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"min_tokens": 3}, "min_tokens"),
        ({"max_tokens": 3, "max_completion_tokens": 4}, "max_tokens"),
        ({"reasoning_effort": "high"}, "reasoning_effort"),
        ({"made_up_argument": 1}, "made_up_argument"),
        ({"temperature": 3}, "temperature"),
        ({"n": 0}, "n"),
    ],
)
def test_unsupported_or_invalid_parameters_are_refused_by_name(
    sdk_client: OpenAI, extra: dict, param: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk_client.chat.completions.create(model=CHAT, messages=HELLO, max_tokens=2, extra_body=extra)
    assert caught.value.status_code == 400
    assert caught.value.body["param"] == param, caught.value.body


@pytest.mark.parametrize(
    ("messages", "param"),
    [
        ([{"role": "usr", "content": "x"}], "messages[0].role"),
        ([{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "http://x"}}]}], None),
        (
            [
                {
                    "role": "assistant",
                    "tool_calls": [
                        {"id": "a", "type": "function", "function": {"name": "f", "arguments": "{oops"}}
                    ],
                }
            ],
            "messages[0].tool_calls[0].function.arguments",
        ),
        ([{"role": "tool", "content": "42", "tool_call_id": "call_9"}], "messages[0].tool_call_id"),
        ([], "messages"),
    ],
)
def test_bad_messages_are_refused_by_name(sdk_client: OpenAI, messages: list, param: str | None) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        sdk_client.chat.completions.create(model=CHAT, messages=messages, max_tokens=2)
    expected = param or "messages[0].content[0].type"
    assert caught.value.body["param"] == expected, caught.value.body
