"""The chat checks on synthetic exchanges (the unary chat completion): each passes on a good input and
fails on its fault's effect (the builders are in tests/_check_cases.py)."""

from __future__ import annotations

from _check_cases import (
    BASE,
    CHAT,
    CHAT_REQ,
    LOGPROB_REQ,
    Cases,
    case_tests,
    chat,
    choice0,
    err,
    hook_case,
    length_case,
    one,
    with_,
)

from compat_suite.checks import run
from compat_suite.exchange import Exchange, RecordedRequest

N2_REQ = {**CHAT_REQ, "n": 2}
CHAT_N2 = with_(CHAT, choices=[{**CHAT["choices"][0], "index": i} for i in range(2)])
LOGPROB_CHAT = choice0(
    CHAT,
    logprobs={
        "content": [
            {
                "token": "hello",
                "logprob": -0.1,
                "bytes": [104],
                "top_logprobs": [{"token": "hello", "logprob": -0.1}],
            },
            {
                "token": " there",
                "logprob": -0.2,
                "bytes": None,
                "top_logprobs": [{"token": " there", "logprob": -0.2}],
            },
        ]
    },
)
JSON_REQ = {**CHAT_REQ, "response_format": {"type": "json_object"}}
SEED_REQ = {**CHAT_REQ, "seed": 7, "temperature": 1.0}
DEVELOPER_REQ = {
    **CHAT_REQ,
    "messages": [{"role": "developer", "content": "Be brief."}, *CHAT_REQ["messages"]],
}

CASES: Cases = {
    "chat.response.schema": hook_case(chat, "chat-schema-role-bot", CHAT, CHAT_REQ),
    "chat.response.object": hook_case(chat, "chat-object-wrong", CHAT, CHAT_REQ),
    "chat.response.id": hook_case(chat, "chat-id-missing", CHAT, CHAT_REQ),
    "chat.response.created": hook_case(chat, "chat-created-ms", CHAT, CHAT_REQ),
    "chat.usage.present": hook_case(chat, "chat-usage-missing", CHAT, CHAT_REQ),
    "chat.usage.sum": hook_case(chat, "chat-usage-sum-off-by-one", CHAT, CHAT_REQ),
    "chat.usage.counts": hook_case(chat, "chat-usage-zero", CHAT, CHAT_REQ),
    "chat.finish-reason.length": length_case(chat, "chat-length-as-stop", CHAT, CHAT_REQ),
    "chat.finish-reason.enum": hook_case(chat, "chat-finish-reason-bogus", CHAT, CHAT_REQ),
    "chat.n.indexed": (one(chat(CHAT_N2, N2_REQ)), one(chat(CHAT, N2_REQ))),  # n-ignored: one choice for n=2
    "chat.max-tokens.respected": (
        one(chat()),
        one(chat(with_(CHAT, usage={"prompt_tokens": 5, "completion_tokens": 70, "total_tokens": 75}))),
    ),
    "chat.stop.honoured": (
        one(
            chat(
                request={**CHAT_REQ, "stop": [" there"]},
                payload=choice0(CHAT, message={"role": "assistant", "content": "hello"}),
            )
        ),
        one(chat(request={**CHAT_REQ, "stop": [" there"]})),
    ),
    "chat.seed.determinism": (
        one(chat(request=SEED_REQ), chat(request=SEED_REQ)),
        one(
            chat(request=SEED_REQ),
            chat(choice0(CHAT, message={"role": "assistant", "content": "other"}), SEED_REQ),
        ),
    ),
    "chat.logprobs.valid": hook_case(chat, "chat-logprobs-positive", LOGPROB_CHAT, LOGPROB_REQ),
    "chat.response-format.json": (
        one(chat(choice0(CHAT, message={"role": "assistant", "content": '{"a": 1}'}), JSON_REQ)),
        one(chat(CHAT, JSON_REQ)),
    ),
    "chat.reasoning.separate": hook_case(chat, "chat-reasoning-in-content", CHAT, CHAT_REQ),
    "chat.reasoning.field": hook_case(
        chat,
        "chat-reasoning-field-object",
        choice0(CHAT, message={"role": "assistant", "content": "42", "reasoning": "12 + 30"}),
        CHAT_REQ,
    ),
    "chat.developer-role.accepted": (one(chat(CHAT, DEVELOPER_REQ)), one(err(400))),
}


def test_the_reasoning_field_is_named() -> None:
    with_reasoning = choice0(
        CHAT, message={"role": "assistant", "content": "42", "reasoning_content": "12 + 30"}
    )
    assert (
        run("chat.reasoning.field", chat(with_reasoning, CHAT_REQ)).message
        == "reasoning in `reasoning_content`"
    )
    assert run("chat.reasoning.field", chat(CHAT, CHAT_REQ)).message == "no reasoning returned"


test_check_passes_on_good_input, test_check_fails_on_fault_effect = case_tests(CASES)


def test_transport_failure_reads_as_no_json_body() -> None:
    ex = Exchange(
        "chat", RecordedRequest("POST", BASE + "/chat/completions", {}), transport_error="timed out after 5 s"
    )
    outcome = run("chat.response.object", ex)
    assert not outcome.passed
    assert outcome.message.startswith("no JSON body") and "timed out" in outcome.message


def test_max_tokens_is_judged_by_the_text_too_not_only_by_usage() -> None:
    # usage says 2 tokens for a limit of 2, but the text holds 9 words: each word is at least a token.
    request = {**CHAT_REQ, "max_tokens": 2}
    told = with_(CHAT, usage={"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7})
    wordy = choice0(
        told, message={"role": "assistant", "content": "one two three four five six seven eight nine"}
    )
    outcome = run("chat.max-tokens.respected", chat(wordy, request))
    assert not outcome.passed and "more words" in outcome.message
    assert run(
        "chat.max-tokens.respected",
        chat(choice0(told, message={"role": "assistant", "content": "one two"}), request),
    ).passed
