"""The reference server's Responses API: the Response object, the event stream, stored responses in
SQLite (retrieve, input_items, delete, per account, persistent), previous_response_id, and the
parameters it refuses rather than ignore."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import schemas
from reference_server.app import create_app
from reference_server.engines.base import GenerationRequest, TokenDelta
from reference_server.engines.scripted import ScriptedEngine
from reference_server.gateway import Gateway, GatewayConfig
from reference_server.responses import ResponseStore

pytestmark = pytest.mark.asyncio
MODEL = "scripted-chat"
BODY: dict[str, Any] = {
    "model": MODEL,
    "input": "Say hello in three words.",
    "max_output_tokens": 64,
    "temperature": 0,
}


def events_of(raw: bytes) -> list[tuple[str | None, dict[str, Any]]]:
    """(event line, data) of each event of a well-formed Responses stream."""
    out = []
    for block in raw.decode().split("\n\n"):
        lines = block.split("\n")
        name = next((line[len("event: ") :] for line in lines if line.startswith("event: ")), None)
        data = [line[len("data: ") :] for line in lines if line.startswith("data: ")]
        if data:
            out.append((name, json.loads("\n".join(data))))
    return out


async def stream(client: httpx.AsyncClient, body: dict[str, Any]) -> list[tuple[str | None, dict[str, Any]]]:
    response = await client.post("/responses", json={**body, "stream": True})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    return events_of(response.content)


def joined(response: dict[str, Any]) -> str:
    return "".join(p["text"] for i in response["output"] if i["type"] == "message" for p in i["content"])


# -- creating ------------------------------------------------------------------------------------------------
async def test_a_response_is_the_documented_object(asgi_client: httpx.AsyncClient) -> None:
    answer = (await asgi_client.post("/responses", json=BODY)).json()
    assert schemas.errors("Response", answer) == []
    assert answer["object"] == "response" and answer["id"].startswith("resp_")
    assert answer["status"] == "completed" and answer["completed_at"] >= answer["created_at"]
    usage = answer["usage"]
    assert (
        usage["input_tokens"] > 0 and usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]
    )
    assert answer["max_output_tokens"] == 64 and answer["temperature"] == 0 and answer["store"] is True
    [message] = answer["output"]
    assert (
        message["type"] == "message" and message["role"] == "assistant" and message["id"].startswith("msg_")
    )
    assert joined(answer)


async def test_a_cut_answer_is_incomplete(asgi_client: httpx.AsyncClient) -> None:
    body = {**BODY, "input": "Count from one to one hundred.", "max_output_tokens": 16}
    answer = (await asgi_client.post("/responses", json=body)).json()
    assert answer["status"] == "incomplete" and answer["incomplete_details"] == {
        "reason": "max_output_tokens"
    }
    assert answer["usage"]["output_tokens"] == 16 and answer["output"][0]["status"] == "incomplete"
    assert answer["completed_at"] is None


async def test_the_stream_keeps_the_grammar_and_equals_the_unary_answer(
    asgi_client: httpx.AsyncClient,
) -> None:
    found = await stream(asgi_client, BODY)
    kinds = [data["type"] for _, data in found]
    assert all(name == data["type"] for name, data in found)  # the event line names the type
    assert [data["sequence_number"] for _, data in found] == list(range(len(found)))
    assert kinds[:5] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added", "response.output_text.delta"]  # fmt: skip
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done",
                          "response.output_item.done", "response.completed"]  # fmt: skip
    deltas = "".join(data["delta"] for _, data in found if data["type"] == "response.output_text.delta")
    final = found[-1][1]["response"]
    assert joined(final) == deltas == found[-4][1]["text"]
    assert final["id"] == found[0][1]["response"]["id"] and found[0][1]["response"]["output"] == []
    for _, data in found:
        assert schemas.errors("ResponseStreamEvent", data) == [], data
    unary = (await asgi_client.post("/responses", json=BODY)).json()
    assert joined(unary) == deltas


async def test_obfuscation_pads_the_deltas_when_asked(asgi_client: httpx.AsyncClient) -> None:
    found = await stream(asgi_client, {**BODY, "stream_options": {"include_obfuscation": True}})
    deltas = [data for _, data in found if data["type"] == "response.output_text.delta"]
    assert deltas and all(isinstance(d["obfuscation"], str) and d["obfuscation"] for d in deltas)


class BreakingEngine(ScriptedEngine):
    """Fails after its third token, as a model that runs out of memory mid-answer."""

    async def generate(self, request: GenerationRequest) -> AsyncIterator[TokenDelta]:
        produced = 0
        async for delta in super().generate(request):
            if produced == 3:
                raise RuntimeError("out of memory")
            produced += 1
            yield delta


async def test_an_error_mid_stream_is_an_error_event_then_a_failed_response() -> None:
    app = create_app(BreakingEngine(), api_keys=["k"])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t/v1",
                                 headers={"Authorization": "Bearer k"}) as client:  # fmt: skip
        found = await stream(client, {**BODY, "input": "Count from one to one hundred."})
        error = next(data for _, data in found if data["type"] == "error")
        assert schemas.errors("ResponseErrorEvent", error) == []
        assert error["code"] == "server_error"
        kinds = [data["type"] for _, data in found]
        assert kinds[-1] == "response.failed" and kinds.index("error") < kinds.index(
            "response.output_item.done"
        )
        failed = found[-1][1]["response"]
        assert failed["status"] == "failed" and failed["error"]["code"] == "server_error"
        stored = await client.get(f"/responses/{failed['id']}")
        assert stored.json()["status"] == "failed"


# -- stored responses ----------------------------------------------------------------------------------------
async def test_stored_responses_are_retrieved_listed_and_deleted(asgi_client: httpx.AsyncClient) -> None:
    conversation = [
        {"type": "message", "role": "user", "content": "My name is Alice."},
        {"role": "assistant", "content": "Hello Alice!"},
        {"role": "user", "content": [{"type": "input_text", "text": "What is my name?"}]},
    ]
    created = (await asgi_client.post("/responses", json={**BODY, "input": conversation})).json()
    rid = created["id"]
    assert (await asgi_client.get(f"/responses/{rid}")).json() == created
    listed = (await asgi_client.get(f"/responses/{rid}/input_items", params={"order": "asc"})).json()
    assert schemas.errors("ResponseItemList", listed) == []
    assert [i["role"] for i in listed["data"]] == ["user", "assistant", "user"]
    assert listed["data"][1]["content"] == [
        {"annotations": [], "type": "output_text", "text": "Hello Alice!"}
    ]
    assert (listed["first_id"], listed["last_id"]) == (listed["data"][0]["id"], listed["data"][-1]["id"])
    newest_first = (await asgi_client.get(f"/responses/{rid}/input_items")).json()  # desc is the default
    assert [i["id"] for i in newest_first["data"]] == [i["id"] for i in reversed(listed["data"])]
    page = (await asgi_client.get(f"/responses/{rid}/input_items",
                                  params={"order": "asc", "limit": 1, "after": listed["data"][0]["id"]})).json()  # fmt: skip
    assert [i["id"] for i in page["data"]] == [listed["data"][1]["id"]] and page["has_more"] is True
    for params, param in (({"limit": 0}, "limit"), ({"order": "up"}, "order"), ({"after": "msg_x"}, "after")):
        refused = await asgi_client.get(f"/responses/{rid}/input_items", params=params)
        assert refused.status_code == 400 and refused.json()["error"]["param"] == param

    deleted = await asgi_client.delete(f"/responses/{rid}")
    assert deleted.json() == {"id": rid, "object": "response", "deleted": True}
    for gone in (await asgi_client.get(f"/responses/{rid}"), await asgi_client.delete(f"/responses/{rid}")):
        assert gone.status_code == 404 and gone.json()["error"]["code"] == "response_not_found"


async def test_store_false_is_not_kept(asgi_client: httpx.AsyncClient) -> None:
    created = (await asgi_client.post("/responses", json={**BODY, "store": False})).json()
    assert created["store"] is False
    assert (await asgi_client.get(f"/responses/{created['id']}")).status_code == 404


async def test_previous_response_id_carries_the_conversation(asgi_client: httpx.AsyncClient) -> None:
    first = (await asgi_client.post("/responses", json=BODY)).json()
    follow = (await asgi_client.post("/responses", json={**BODY, "input": "And again?",
                                                          "previous_response_id": first["id"]})).json()  # fmt: skip
    assert follow["previous_response_id"] == first["id"]
    alone = (await asgi_client.post("/responses", json={**BODY, "input": "And again?"})).json()
    earlier = first["usage"]["input_tokens"] + first["usage"]["output_tokens"]
    assert follow["usage"]["input_tokens"] >= earlier + alone["usage"]["input_tokens"]
    third = (await asgi_client.post("/responses", json={**BODY, "input": "Once more.",
                                                         "previous_response_id": follow["id"]})).json()  # fmt: skip
    assert third["usage"]["input_tokens"] > follow["usage"]["input_tokens"] + follow["usage"]["output_tokens"]
    # the input items are the follow-up's own, not the conversation it continues
    listed = (await asgi_client.get(f"/responses/{follow['id']}/input_items")).json()
    assert [i["content"][0]["text"] for i in listed["data"]] == ["And again?"]
    await asgi_client.delete(f"/responses/{first['id']}")
    orphan = await asgi_client.post("/responses", json={**BODY, "previous_response_id": first["id"]})
    assert orphan.status_code == 404
    assert orphan.json()["error"] | {"message": ""} == {"message": "", "type": "invalid_request_error",
                                                          "param": "previous_response_id",
                                                          "code": "previous_response_not_found"}  # fmt: skip
    # a chain goes on although a response before it is gone: each stored its whole conversation
    assert (
        await asgi_client.post("/responses", json={**BODY, "previous_response_id": third["id"]})
    ).status_code == 200


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"include": ["message.output_text.logprobs"]}, "include"),
        ({"background": True}, "background"),
        ({"truncation": "auto"}, "truncation"),
        ({"reasoning": {"effort": "high"}}, "reasoning.effort"),
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"text": {"verbosity": "low"}}, "text.verbosity"),
        ({"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "https://x/i.png"}]}]},
         "input[0].content[0].type"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "input[0]"),
        ({"input": []}, "input"),
        ({"max_output_tokens": 8}, "max_output_tokens"),
        ({"conversation": "conv_1"}, "conversation"),
        ({"model": "no-such-model"}, "model"),
    ],
)  # fmt: skip
async def test_what_cannot_be_honoured_is_refused_naming_it(
    asgi_client: httpx.AsyncClient, change: dict[str, Any], param: str
) -> None:
    refused = await asgi_client.post("/responses", json={**BODY, **change})
    assert refused.status_code in (400, 404), refused.text
    assert refused.json()["error"]["param"] == param


async def test_streaming_a_stored_response_again_is_refused(asgi_client: httpx.AsyncClient) -> None:
    created = (await asgi_client.post("/responses", json=BODY)).json()
    again = await asgi_client.get(f"/responses/{created['id']}", params={"stream": "true"})
    assert again.status_code == 400 and again.json()["error"]["param"] == "stream"


# -- where they are stored ------------------------------------------------------------------------------------
async def test_responses_belong_to_an_account_and_outlive_the_app(tmp_path: Path) -> None:
    """With a gateway the responses sit in its SQLite file: another account cannot see them, and a new
    app over the same file (a restart) still serves them."""
    gateway = Gateway(tmp_path / "state.db", GatewayConfig())
    alice, _ = gateway.issue_key(credit_micros=10**9)
    bob, _ = gateway.issue_key(credit_micros=10**9)

    def client_for(app: Any, key: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t/v1",
                                 headers={"Authorization": f"Bearer {key}"})  # fmt: skip

    try:
        app = create_app(ScriptedEngine(), api_keys=(), gateway=gateway)
        async with client_for(app, alice) as as_alice, client_for(app, bob) as as_bob:
            created = (await as_alice.post("/responses", json=BODY)).json()
            assert (await as_bob.get(f"/responses/{created['id']}")).status_code == 404
            assert (await as_bob.delete(f"/responses/{created['id']}")).status_code == 404
            follow = await as_bob.post("/responses", json={**BODY, "previous_response_id": created["id"]})
            assert follow.status_code == 404
        await asyncio.sleep(0.1)
        restarted = create_app(ScriptedEngine(), api_keys=(), gateway=gateway)
        async with client_for(restarted, alice) as as_alice:
            assert (await as_alice.get(f"/responses/{created['id']}")).json() == created
        store = ResponseStore(tmp_path / "state.db")
        try:
            assert store.get(created["id"], owner=None) is None  # owned: not anyone's to read
        finally:
            store.close()
    finally:
        gateway.close()


async def test_instructions_are_not_carried_into_a_follow_up() -> None:
    """OpenAI's rule: a follow-up through previous_response_id gets the earlier input and output, not
    the earlier instructions (its own, if any, come first)."""
    from reference_server.responses._request import conversation, input_items

    earlier = [
        *input_items("Hi."),
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Hello."}]},
    ]
    talk = conversation({"model": MODEL, "input": "Again?", "instructions": "Be kind."}, earlier)
    assert [(m["role"], m["content"]) for m in talk.chat_body["messages"]] == [
        ("system", "Be kind."),
        ("user", "Hi."),
        ("assistant", "Hello."),
        ("user", "Again?"),
    ]


# -- function calls and structured output (the generation path of chat's tools) ---------------------------------
TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
}
TOOLS = {**BODY, "input": "What is the weather in Paris?", "tools": [TOOL], "max_output_tokens": 200}
NAMED = {"type": "function", "name": "get_weather"}


async def test_a_forced_call_is_a_function_call_item(asgi_client: httpx.AsyncClient) -> None:
    answer = (await asgi_client.post("/responses", json={**TOOLS, "tool_choice": NAMED})).json()
    assert schemas.errors("Response", answer) == [] and answer["status"] == "completed"
    [call] = answer["output"]
    assert call["type"] == "function_call" and call["name"] == "get_weather" and call["id"].startswith("fc_")
    assert call["call_id"].startswith("call_") and set(json.loads(call["arguments"])) >= {"city", "unit"}
    assert answer["tools"][0]["strict"] is True and answer["tool_choice"] == NAMED
    none = (await asgi_client.post("/responses", json={**TOOLS, "tool_choice": "none"})).json()
    assert [item["type"] for item in none["output"]] == ["message"]


async def test_a_streamed_call_writes_its_arguments_in_deltas(asgi_client: httpx.AsyncClient) -> None:
    found = await stream(asgi_client, {**TOOLS, "tool_choice": "required"})
    kinds = [data["type"] for _, data in found]
    assert kinds[2] == "response.output_item.added" and found[2][1]["item"]["type"] == "function_call"
    deltas = "".join(d["delta"] for _, d in found if d["type"] == "response.function_call_arguments.delta")
    done = next(d for _, d in found if d["type"] == "response.function_call_arguments.done")
    final = found[-1][1]["response"]
    assert deltas == done["arguments"] == final["output"][0]["arguments"] and json.loads(deltas)
    assert kinds[-3:] == [
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    for _, data in found:
        assert schemas.errors("ResponseStreamEvent", data) == [], data


async def test_a_call_s_output_goes_back_both_ways(asgi_client: httpx.AsyncClient) -> None:
    first = (await asgi_client.post("/responses", json={**TOOLS, "tool_choice": NAMED})).json()
    [call] = first["output"]
    output = {"type": "function_call_output", "call_id": call["call_id"], "output": "Sunny, 24 degrees."}
    history = [{"role": "user", "content": "What is the weather in Paris?"}, call, output]
    stateless = await asgi_client.post("/responses", json={**TOOLS, "input": history})
    chained = await asgi_client.post(
        "/responses", json={**TOOLS, "input": [output], "previous_response_id": first["id"]}
    )
    assert stateless.status_code == chained.status_code == 200
    assert chained.json()["usage"]["input_tokens"] > first["usage"]["input_tokens"]
    listed = (await asgi_client.get(f"/responses/{chained.json()['id']}/input_items")).json()
    assert [item["type"] for item in listed["data"]] == ["function_call_output"]
    unanswered = {**output, "call_id": "call_nobody_made"}
    refused = await asgi_client.post("/responses", json={**TOOLS, "input": [unanswered]})
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "input[0].call_id"
    assert (
        "input[0]" in refused.json()["error"]["message"]
        and "messages" not in refused.json()["error"]["message"]
    )


async def test_a_strict_json_schema_format_is_kept(asgi_client: httpx.AsyncClient) -> None:
    schema = {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"}},
              "required": ["name", "age"], "additionalProperties": False}  # fmt: skip
    fmt = {"type": "json_schema", "name": "person", "schema": schema, "strict": True}
    answer = (
        await asgi_client.post("/responses", json={**BODY, "max_output_tokens": 200, "text": {"format": fmt}})
    ).json()
    assert answer["text"]["format"] == fmt
    value = json.loads(joined(answer))
    assert set(value) == {"name", "age"} and isinstance(value["age"], int)
    broken = {**fmt, "schema": {"type": "object", "properties": {"x": {"type": "no-such-type"}}}}
    refused = await asgi_client.post("/responses", json={**BODY, "text": {"format": broken}})
    assert refused.status_code == 400 and refused.json()["error"]["param"].startswith("text.format")
