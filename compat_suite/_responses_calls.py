"""The Responses API calls the SDKs make against a live target, as openai-python users make them.

`responses.create`, the `responses.stream()` helper (its accumulated final response),
`responses.retrieve`, `responses.input_items.list`, `responses.delete` (then a retrieve that must
raise NotFoundError) and `responses.parse` with a pydantic `text_format`. Each call that stores a response deletes it again. A call returns the summary
its `ClientRecord` holds, in the shape the Node driver prints for the same call.
"""

from __future__ import annotations

import contextlib
from typing import Any

KINDS = ("responses", "responses_stream", "responses_retrieve", "responses_input_items", "responses_delete",
         "responses_parse")  # fmt: skip
# Requests each call sends (create, then what it does with the stored response, then the clean-up).
REQUESTS = {"responses": 1, "responses_stream": 1, "responses_retrieve": 3, "responses_input_items": 3,
            "responses_delete": 3, "responses_parse": 1}  # fmt: skip
PARSE_MAX_OUTPUT_TOKENS = 200  # room for the whole object (a cut one cannot be parsed)


def body(model: str | None, prompt: str, max_output_tokens: int) -> dict[str, Any]:
    return {"model": model, "input": prompt, "max_output_tokens": max_output_tokens, "temperature": 0}


def parse_body(model: str | None) -> dict[str, Any]:
    """What `responses.parse(text_format=Person)` sends: the strict JSON Schema openai-python derives
    from the pydantic model, as `text.format` (the raw exchange and the Node SDK send it as is)."""
    from openai.lib._pydantic import to_strict_json_schema

    from .sdk_helpers import PERSON_PROMPT, Person

    fmt = {"type": "json_schema", "name": "Person", "schema": to_strict_json_schema(Person), "strict": True}
    return {**body(model, PERSON_PROMPT, PARSE_MAX_OUTPUT_TOKENS), "text": {"format": fmt}}


def _summary(response: Any) -> dict[str, Any]:
    usage = response.usage.model_dump(mode="json") if response.usage is not None else None
    return {"object": response.object, "id": response.id, "status": response.status,
            "text": response.output_text, "usage": usage}  # fmt: skip


def _not_found(error: BaseException) -> bool:
    import openai

    return isinstance(error, openai.NotFoundError)


def _parsed(response: Any) -> dict[str, Any]:
    if response.output_parsed is None:
        raise ValueError(f"responses.parse handed back nothing parsed: {response.output_text!r}"[:300])
    return {"id": response.id, "status": response.status, "parsed": response.output_parsed.model_dump()}


def _parse_params(request: dict[str, Any]) -> dict[str, Any]:
    from .sdk_helpers import Person

    return {**{k: v for k, v in request.items() if k != "text"}, "text_format": Person}


def sync_call(client: Any, kind: str, request: dict[str, Any]) -> dict[str, Any]:
    """One Responses call through a sync openai-python client."""
    if kind == "responses":
        return _summary(client.responses.create(**request))
    if kind == "responses_parse":
        return _parsed(client.responses.parse(**_parse_params(request)))
    if kind == "responses_stream":
        with client.responses.stream(**request) as stream:
            events = sum(1 for _ in stream)
            return {**_summary(stream.get_final_response()), "events": events}
    created = client.responses.create(**request)
    if kind != "responses_delete":
        try:
            if kind == "responses_retrieve":
                return {**_summary(client.responses.retrieve(created.id)), "created_id": created.id}
            items = list(client.responses.input_items.list(created.id, order="asc"))
            return {"id": created.id, "items": [item.id for item in items]}
        finally:
            with contextlib.suppress(Exception):  # clean-up; the call's own outcome is what counts
                client.responses.delete(created.id)
    client.responses.delete(created.id)
    try:
        client.responses.retrieve(created.id)
    except Exception as exc:
        if _not_found(exc):
            return {"id": created.id, "deleted": True}
        raise
    raise ValueError(f"response {created.id} was still retrieved after responses.delete")


async def async_call(client: Any, kind: str, request: dict[str, Any]) -> dict[str, Any]:
    """One Responses call through an async openai-python client."""
    if kind == "responses":
        return _summary(await client.responses.create(**request))
    if kind == "responses_parse":
        return _parsed(await client.responses.parse(**_parse_params(request)))
    if kind == "responses_stream":
        async with client.responses.stream(**request) as stream:
            events = 0
            async for _ in stream:
                events += 1
            return {**_summary(await stream.get_final_response()), "events": events}
    created = await client.responses.create(**request)
    if kind != "responses_delete":
        try:
            if kind == "responses_retrieve":
                return {**_summary(await client.responses.retrieve(created.id)), "created_id": created.id}
            items = [item async for item in client.responses.input_items.list(created.id, order="asc")]
            return {"id": created.id, "items": [item.id for item in items]}
        finally:
            with contextlib.suppress(Exception):
                await client.responses.delete(created.id)
    await client.responses.delete(created.id)
    try:
        await client.responses.retrieve(created.id)
    except Exception as exc:
        if _not_found(exc):
            return {"id": created.id, "deleted": True}
        raise
    raise ValueError(f"response {created.id} was still retrieved after responses.delete")
