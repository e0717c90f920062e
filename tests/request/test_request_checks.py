"""The request checks on synthetic exchanges: a spec-valid request served passes; the same request
refused (the fault's effect: a 500 for system content parts) fails, citing why it was valid."""

from __future__ import annotations

import pytest
from _check_cases import CHAT, ERROR, Cases, case_tests, chat, lazy, one

from compat_suite.checks import run
from reference_server.faults import FaultSet

PARTS_REQ = {
    "model": "m",
    "messages": [
        {"role": "system", "content": [{"type": "text", "text": "Be brief."}]},
        {"role": "user", "content": "hi"},
    ],
    "max_tokens": 8,
}


def _refused_by_fault() -> object:
    """The request the fault's hook refuses (it raises: the app answers 500), as that 500."""
    with pytest.raises(TypeError):
        FaultSet(["request-system-parts-500"]).request("chat", dict(PARTS_REQ))
    return chat({"error": {**ERROR["error"], "type": "server_error"}}, PARTS_REQ, status=500)


CASES: Cases = {
    "request.accepted": (one(chat(CHAT, PARTS_REQ)), lazy(_refused_by_fault)),
}

test_check_passes_on_good_input, test_check_fails_on_fault_effect = case_tests(CASES)


def test_a_refusal_cites_what_makes_the_request_valid() -> None:
    outcome = run("request.accepted", chat({"error": ERROR["error"]}, PARTS_REQ, status=500))
    assert "refused with 500" in outcome.message
    assert "valid against CreateChatCompletionRequest" in outcome.message
    assert "system: text parts" in outcome.message


def test_a_request_the_suite_got_wrong_is_said_to_be_the_suites_mistake() -> None:
    outcome = run("request.accepted", chat({"error": ERROR["error"]}, {"model": "m"}, status=400))
    assert "suite's own mistake" in outcome.message
