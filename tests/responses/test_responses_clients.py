"""The Responses API through the SDKs' own parsers: good answers replayed into openai-python (sync,
async: strict validation and the `stream()` helper's accumulator) and openai-node (its stream helper)
parse; and where an SDK rejects a broken stream, a raw check rejects it too (the raw reader is at least
as strict as the SDKs)."""

from __future__ import annotations

import copy
from collections.abc import Callable

import pytest
from _responses_cases import LISTED, RESP, events, get, resp, stream

from compat_suite.checks import run
from compat_suite.checks.clients import node_sdk_unavailable
from compat_suite.exchange import Exchange
from compat_suite.scenarios import responses as scenario

SDK_CHECKS = ("clients.python-sdk.parse", "clients.python-async-sdk.parse", "clients.node-sdk.parse")
RAW_STREAM_CHECKS = ("stream.sse.json-data", *(c for c in scenario.STREAM if c.startswith("responses.")))
Events = list[dict]


def sdk_checks() -> tuple[str, ...]:
    return SDK_CHECKS if node_sdk_unavailable() is None else SDK_CHECKS[:2]


@pytest.mark.parametrize(
    "make",
    [
        lambda: resp(),
        lambda: stream(),
        lambda: stream(events(cut=True)),
        lambda: get("resp_1", RESP),
        lambda: get("resp_1/input_items?order=asc", LISTED),
    ],
    ids=["create", "stream", "stream-incomplete", "retrieve", "input-items"],
)
def test_good_answers_parse_in_every_sdk(make: Callable[[], Exchange]) -> None:
    exchange = make()
    for check_id in sdk_checks():
        outcome = run(check_id, exchange)
        assert outcome.passed, f"{check_id}: {outcome.message}"


def _without(kind: str) -> Callable[[Events], Events]:
    return lambda found: [e for e in found if e["type"] != kind]


def _set(kind: str, **fields: object) -> Callable[[Events], Events]:
    return lambda found: [{**e, **fields} if e["type"] == kind else e for e in found]


def _completed_id(found: Events) -> Events:
    found[-1]["response"] = {**found[-1]["response"], "id": "resp_other"}
    return found


# Broken streams, each a way servers have been seen to break them or a rule an SDK enforces.
MUTATIONS: dict[str, Callable[[Events], Events]] = {
    "no-created": _without("response.created"),
    "no-item-added": _without("response.output_item.added"),
    "no-part-added": _without("response.content_part.added"),
    "delta-content-index-1": _set("response.output_text.delta", content_index=1),
    "delta-output-index-3": _set("response.output_text.delta", output_index=3),
    "item-done-id-changes": lambda found: [
        {**e, "item": {**e["item"], "id": "msg_other"}} if e["type"] == "response.output_item.done" else e
        for e in found
    ],
    "completed-id-changes": _completed_id,
    "item-added-twice": lambda found: [*found[:3], copy.deepcopy(found[2]), *found[3:]],
    "no-terminal": lambda found: found[:-1],
    "delta-without-logprobs": _set("response.output_text.delta", logprobs=None),
    "sequence-missing": lambda found: [{k: v for k, v in e.items() if k != "sequence_number"} for e in found],
}


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_raw_checks_reject_every_stream_an_sdk_rejects(mutation: str) -> None:
    broken = stream(MUTATIONS[mutation](events()))
    sdk_failed = [check_id for check_id in sdk_checks() if not run(check_id, broken).passed]
    raw_failed = [check_id for check_id in RAW_STREAM_CHECKS if not run(check_id, broken).passed]
    # stricter than the SDKs: every broken stream fails a raw check, whether or not an SDK notices
    assert raw_failed, f"no raw check rejects {mutation} (the SDKs that do: {sdk_failed})"


def test_print_which_sdk_notices_what() -> None:
    """Not an assertion about the SDKs (they may loosen): a table, in the test log, of what each sees."""
    for mutation, mutate in sorted(MUTATIONS.items()):
        broken = stream(mutate(events()))
        seen = {check_id.split(".")[1]: run(check_id, broken).passed for check_id in sdk_checks()}
        print(mutation, seen)
