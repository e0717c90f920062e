"""The official SDKs' structured-output helpers against a live target: what users of tools and
structured outputs actually call.

openai-python: `client.chat.completions.parse` with a pydantic `response_format`, `parse` with a
`pydantic_function_tool` and a named tool_choice (the SDK validates the arguments into the model),
and the `stream()` helper's accumulated tool call. openai-node (compat_suite/node/driver.mjs, call
kind `helpers`): `parse` of a strict json_schema and of a strict tool, the `stream()` helper's final
completion, and `runTools`, which calls a tool the model asks for and sends its result back.

Each SDK's helpers are one `ClientRecord` (kind `helpers`); the clients.*-sdk.helpers checks judge it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel

from .clients import ClientCall, ClientRecord, python_call, run_node
from .target import Target

HELPER_REQUESTS = {"python": 3, "node": 6}  # the most requests each SDK's helpers send (runTools: 3)
MAX_TOKENS = 200
PERSON_PROMPT = "Describe Alice, who is 30 and lives in Paris."
WEATHER_PROMPT = "What is the weather in Paris, in celsius? Use the get_weather tool."


class Person(BaseModel):
    name: str
    age: int
    city: str


class GetWeather(BaseModel):
    """The weather forecast for a city."""

    city: str
    unit: Literal["celsius", "fahrenheit"]


def helpers_call(target: Target) -> ClientCall:
    body = {
        "model": target.model,
        "max_tokens": MAX_TOKENS,
        "person": PERSON_PROMPT,
        "weather": WEATHER_PROMPT,
    }
    return ClientCall("helpers", "helpers", body)


def raw_request() -> dict[str, Any]:
    """The strict json_schema request the helpers' `parse` sends, for the raw exchange beside the record."""
    from openai.lib._pydantic import to_strict_json_schema

    schema = to_strict_json_schema(Person)
    fmt = {"type": "json_schema", "json_schema": {"name": "Person", "schema": schema, "strict": True}}
    user = {"role": "user", "content": PERSON_PROMPT}
    return {"messages": [user], "max_tokens": MAX_TOKENS, "temperature": 0, "response_format": fmt}


def _python_helpers(client: Any, body: dict[str, Any]) -> dict[str, Any]:
    import openai

    common = {"model": body["model"], "max_tokens": body["max_tokens"], "temperature": 0}
    person = client.chat.completions.parse(
        messages=[{"role": "user", "content": body["person"]}], response_format=Person, **common
    )
    parsed = person.choices[0].message.parsed
    if parsed is None:
        raise ValueError(f"parse handed back no parsed content: {person.choices[0].message.content!r}")
    tool = openai.pydantic_function_tool(GetWeather, name="get_weather")
    params = {
        "messages": [{"role": "user", "content": body["weather"]}],
        "tools": [tool],
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        **common,
    }
    arguments = _parsed_arguments(client.chat.completions.parse(**params))
    with client.chat.completions.stream(**params) as stream:
        streamed = _parsed_arguments(stream.get_final_completion())
    return {"parsed": parsed.model_dump(), "arguments": arguments, "streamed_arguments": streamed}


def _parsed_arguments(completion: Any) -> dict[str, Any]:
    calls = completion.choices[0].message.tool_calls or []
    if not calls or calls[0].function.parsed_arguments is None:
        raise ValueError(f"no call with parsed arguments in {completion.choices[0].message!r}"[:300])
    return calls[0].function.parsed_arguments.model_dump()


def run_python_helpers(target: Target) -> ClientRecord:
    """openai-python's helpers, through one sync client."""
    call = helpers_call(target)
    target.reserve(HELPER_REQUESTS["python"])
    return python_call(target, call, lambda client: _python_helpers(client, call.body))


def run_node_helpers(target: Target) -> ClientRecord:
    """openai-node's helpers (`ClientUnavailable` where node or the package is missing)."""
    target.reserve(HELPER_REQUESTS["node"] - 1)  # run_node reserves one request per call
    return run_node(target, [helpers_call(target)])[0]
