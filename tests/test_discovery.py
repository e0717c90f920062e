"""Model discovery: with no --model, the models GET /models lists are probed, and the first chat and
embedding models that serve a request are picked (and said)."""

from __future__ import annotations

import json

import httpx
from _check_cases import CHAT, EMB, ERROR

from compat_suite.discovery import discover
from compat_suite.target import Target
from schemas import load_profile

LISTED = {
    "object": "list",
    "data": [{"id": m, "object": "model"} for m in ("text-embed-small", "vision-x", "chat-y")],
}


def target_serving(chat_models: set[str], embedding_models: set[str]) -> tuple[Target, list[str]]:
    asked: list[str] = []

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/models"):
            return httpx.Response(200, json=LISTED)
        model = json.loads(request.content)["model"]
        asked.append(f"{request.url.path.rsplit('/', 1)[-1]}:{model}")
        served = chat_models if request.url.path.endswith("/chat/completions") else embedding_models
        return (
            httpx.Response(200, json=CHAT if "chat" in request.url.path else EMB)
            if model in served
            else (httpx.Response(404, json=ERROR))
        )

    target = Target(base_url="http://target.invalid/v1", api_key="k", profile=load_profile("openai"))
    target._client = httpx.Client(transport=httpx.MockTransport(handle))
    return target, asked


def test_the_first_models_that_serve_are_picked_embedding_names_first_for_embeddings() -> None:
    target, asked = target_serving({"vision-x", "chat-y"}, {"text-embed-small"})
    found = discover(target)
    assert (found.model, found.embedding_model) == ("chat-y", "text-embed-small")
    assert asked == ["completions:chat-y", "embeddings:text-embed-small"]  # names tried in a sensible order
    assert "chat model chat-y" in found.summary() and "embedding model text-embed-small" in found.summary()


def test_no_model_serves_and_the_summary_says_so() -> None:
    target, _ = target_serving(set(), set())
    found = discover(target)
    assert found.model is None and found.embedding_model is None and found.probed == 6
    assert "none served a chat request" in found.summary()


def test_a_profile_without_a_model_list_asks_for_model() -> None:
    target = Target(base_url="http://target.invalid/v1", api_key="k", profile=load_profile("carrot"))
    assert "give --model" in discover(target).summary()
