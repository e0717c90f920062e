"""openai-python's structured-output helpers against a served engine: what tests of both engines run.

`client.chat.completions.parse` with a pydantic `response_format` and with `pydantic_function_tool`
tools, and the `stream()` helper's accumulated tool calls, each unary and streamed. The functions
assert what the SDK parsed; the model's answer only has to be valid, not right.
"""

from __future__ import annotations

from typing import Literal

import openai
from openai import OpenAI
from pydantic import BaseModel, Field


class Address(BaseModel):
    city: str = Field(max_length=24)
    country: str = Field(max_length=24)


class Person(BaseModel):
    name: str = Field(max_length=24)
    age: int = Field(ge=0, le=130)
    address: Address


class GetWeather(BaseModel):
    """The weather forecast of a city."""

    city: str = Field(max_length=24)
    unit: Literal["celsius", "fahrenheit"]


ASK_PERSON = [{"role": "user", "content": "Describe Alice, who is 30 and lives in Paris, France."}]
ASK_WEATHER = [{"role": "user", "content": "What is the get_weather forecast for Paris?"}]


def parse_response_format(client: OpenAI, model: str, max_tokens: int = 200) -> None:
    """`parse` with a pydantic model as response_format (strict json_schema), unary and streamed."""
    answer = client.chat.completions.parse(
        model=model, messages=ASK_PERSON, response_format=Person, max_tokens=max_tokens, temperature=0
    )
    message = answer.choices[0].message
    assert answer.choices[0].finish_reason == "stop", message.content
    assert isinstance(message.parsed, Person), message.content
    with client.chat.completions.stream(
        model=model, messages=ASK_PERSON, response_format=Person, max_tokens=max_tokens, temperature=0
    ) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.parsed == message.parsed


def parse_function_tool(client: OpenAI, model: str, max_tokens: int = 200) -> None:
    """`parse` with `pydantic_function_tool` (strict) and a named tool_choice, unary and streamed:
    the SDK hands back the call's arguments parsed into the model class."""
    tool = openai.pydantic_function_tool(GetWeather)
    params = {
        "model": model,
        "messages": ASK_WEATHER,
        "tools": [tool],
        "tool_choice": {"type": "function", "function": {"name": "GetWeather"}},
        "max_tokens": max_tokens,
        "temperature": 0,
    }
    answer = client.chat.completions.parse(**params)
    choice = answer.choices[0]
    assert choice.finish_reason == "tool_calls", choice.message
    [call] = choice.message.tool_calls
    assert call.function.name == "GetWeather" and call.id
    assert isinstance(call.function.parsed_arguments, GetWeather)
    with client.chat.completions.stream(**params) as stream:
        events = [event.type for event in stream]
        final = stream.get_final_completion()
    assert "tool_calls.function.arguments.done" in events
    [streamed] = final.choices[0].message.tool_calls
    assert streamed.function.parsed_arguments == call.function.parsed_arguments
    assert final.choices[0].finish_reason == "tool_calls"


def tool_round_trip(client: OpenAI, model: str, max_tokens: int = 200) -> str:
    """A forced call, its result sent back as a `tool` message (assistant content null), and the
    answer that follows: returns that answer's text."""
    tool = openai.pydantic_function_tool(GetWeather)
    first = client.chat.completions.create(
        model=model, messages=ASK_WEATHER, tools=[tool], tool_choice="required", max_tokens=max_tokens
    )
    message = first.choices[0].message
    assert message.tool_calls, message
    messages = [
        *ASK_WEATHER,
        {"role": "assistant", "content": None, "tool_calls": [c.model_dump() for c in message.tool_calls]},
        *(
            {"role": "tool", "tool_call_id": c.id, "content": "Sunny, 24 degrees."}
            for c in message.tool_calls
        ),
    ]
    second = client.chat.completions.create(
        model=model, messages=messages, tools=[tool], max_tokens=max_tokens
    )
    assert second.choices[0].message.content is not None
    return second.choices[0].message.content
