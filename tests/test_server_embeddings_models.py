"""Embeddings, the model list, model health and /openapi.json against a real server (scripted engine)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import httpx
import openai
import pytest
from openai import OpenAI

import schemas

if TYPE_CHECKING:
    from conftest import RunningServer

EMBED = "scripted-embed"
CHAT = "scripted-chat"


def test_float_embeddings_shape_norm_and_usage(sdk_client: OpenAI, scripted_server: RunningServer) -> None:
    inputs = ["hello world", "the river", "a"]
    answer = sdk_client.embeddings.create(model=EMBED, input=inputs, encoding_format="float")
    assert schemas.errors("CreateEmbeddingResponse", answer.model_dump(exclude_unset=True)) == []
    assert [d.index for d in answer.data] == [0, 1, 2]
    for item in answer.data:
        assert len(item.embedding) == scripted_server.engine.embedding_dimensions()
        assert math.isclose(math.fsum(x * x for x in item.embedding), 1.0, rel_tol=1e-6)
    tokens = scripted_server.engine.count_embedding_tokens(inputs)
    assert answer.usage.prompt_tokens == tokens == answer.usage.total_tokens


def test_base64_embeddings_decode_to_the_float_ones(
    sdk_client: OpenAI, scripted_server: RunningServer
) -> None:
    floats = sdk_client.embeddings.create(model=EMBED, input="hello world", encoding_format="float")
    # The SDK asks for base64 by default and decodes it itself (numpy-free path: array of float32).
    decoded = sdk_client.embeddings.create(model=EMBED, input="hello world")
    assert len(decoded.data[0].embedding) == len(floats.data[0].embedding)
    for a, b in zip(decoded.data[0].embedding, floats.data[0].embedding, strict=True):
        assert math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-7)
    raw = httpx.post(
        f"{scripted_server.base_url}/embeddings",
        json={"model": EMBED, "input": ["hello world"], "encoding_format": "base64"},
        headers=scripted_server.auth_headers,
    ).json()
    assert schemas.errors("CreateEmbeddingResponseBase64", raw) == []


def test_token_inputs_equal_text_inputs(sdk_client: OpenAI, scripted_server: RunningServer) -> None:
    ids = scripted_server.engine.tokenize("hello world")
    by_text = sdk_client.embeddings.create(model=EMBED, input="hello world", encoding_format="float")
    by_ids = sdk_client.embeddings.create(model=EMBED, input=ids, encoding_format="float")
    by_lists = sdk_client.embeddings.create(model=EMBED, input=[ids, ids], encoding_format="float")
    assert by_ids.data[0].embedding == by_text.data[0].embedding
    assert [d.embedding for d in by_lists.data] == [by_text.data[0].embedding] * 2


def test_dimensions_truncate_and_renormalise(sdk_client: OpenAI) -> None:
    full = (
        sdk_client.embeddings.create(model=EMBED, input="hello world", encoding_format="float")
        .data[0]
        .embedding
    )
    short = sdk_client.embeddings.create(
        model=EMBED, input="hello world", dimensions=8, encoding_format="float"
    )
    vector = short.data[0].embedding
    assert len(vector) == 8
    assert math.isclose(math.fsum(x * x for x in vector), 1.0, rel_tol=1e-6)
    scale = math.sqrt(math.fsum(x * x for x in full[:8]))
    assert all(math.isclose(v, f / scale, rel_tol=1e-6) for v, f in zip(vector, full[:8], strict=True))


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": ""}, "input"),
        ({"input": []}, "input"),
        ({"input": ["ok", ""]}, "input"),
        ({"input": "x", "dimensions": 0}, "dimensions"),
        ({"input": "x", "dimensions": 65}, "dimensions"),
        ({"input": "x", "encoding_format": "hex"}, "encoding_format"),
        ({"input": "x", "model": CHAT}, "model"),
    ],
)
def test_bad_embedding_requests_are_refused_by_name(
    scripted_server: RunningServer, body: dict, param: str
) -> None:
    response = httpx.post(
        f"{scripted_server.base_url}/embeddings",
        json={"model": EMBED, **body},
        headers=scripted_server.auth_headers,
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"]["param"].startswith(param), response.text


def test_models_list_and_retrieve(sdk_client: OpenAI) -> None:
    listed = sdk_client.models.list()
    assert schemas.errors("ListModelsResponse", listed.model_dump(exclude_unset=True)) == []
    assert {m.id for m in listed.data} == {CHAT, EMBED}
    assert all(m.object == "model" and m.owned_by and m.created > 0 for m in listed.data)
    assert sdk_client.models.retrieve(EMBED).id == EMBED
    with pytest.raises(openai.NotFoundError) as caught:
        sdk_client.models.retrieve("no-such-model")
    assert caught.value.body["code"] == "model_not_found"


def test_model_for_the_wrong_endpoint_is_400_and_unknown_is_404(sdk_client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as wrong:
        sdk_client.chat.completions.create(model=EMBED, messages=[{"role": "user", "content": "x"}])
    assert wrong.value.body["param"] == "model"
    with pytest.raises(openai.NotFoundError) as unknown:
        sdk_client.chat.completions.create(model="gpt-nope", messages=[{"role": "user", "content": "x"}])
    assert unknown.value.body["code"] == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        sdk_client.embeddings.create(model="embed-nope", input="x")


def test_health_is_public_and_follows_engine_status(start_server) -> None:
    server = start_server()
    url = f"{server.base_url}/models/{CHAT}/health"
    answer = httpx.get(url)
    assert answer.status_code == 200
    assert answer.json() == {"model": CHAT, "status": "ready"}
    assert schemas.errors("ModelHealth", answer.json()) == []
    server.engine._status = "loading"  # the scripted engine's own state, as a loading engine reports it
    assert httpx.get(url).json()["status"] == "loading"
    refused = httpx.post(
        f"{server.base_url}/chat/completions",
        json={"model": CHAT, "messages": [{"role": "user", "content": "x"}]},
        headers=server.auth_headers,
    )
    assert refused.status_code == 503 and refused.json()["error"]["code"] == "model_not_ready"
    assert httpx.get(f"{server.base_url}/models/nope/health").status_code == 404


def test_openapi_document_is_public_and_names_this_server(scripted_server: RunningServer) -> None:
    for url in (f"{scripted_server.root_url}/openapi.json", f"{scripted_server.base_url}/openapi.json"):
        response = httpx.get(url)
        assert response.status_code == 200
        document = response.json()
        assert document["openapi"].startswith("3.")
        assert document["servers"] == [{"url": scripted_server.base_url}]
        assert "CreateChatCompletionRequest" in document["components"]["schemas"]
