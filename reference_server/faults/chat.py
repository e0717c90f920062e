"""Faults that fail the chat checks: the unary chat completion's fields and the parameters it honours."""

from __future__ import annotations

from . import _generation as shared  # the edits chat and completions both take
from ._hooks import choices, drop, on, put, request_edit, without
from ._registry import Fault, Json, fault

CHAT = ("chat",)


def _role_bot(payload: Json, request: Json) -> Json:
    for choice in choices(payload):
        if isinstance(choice.get("message"), dict):
            choice["message"] = {**choice["message"], "role": "bot"}
    return payload


def _logprobs_positive(payload: Json, request: Json) -> Json:
    for choice in choices(payload):
        logprobs = choice.get("logprobs")
        for entry in logprobs.get("content") or [] if isinstance(logprobs, dict) else []:
            if isinstance(entry, dict) and isinstance(entry.get("logprob"), int | float):
                entry["logprob"] = abs(entry["logprob"]) + 0.5
    return payload


# -- the response's fields ----------------------------------------------------------------------------
fault(
    Fault(
        "chat-schema-role-bot", "chat.response.schema", 'message.role is "bot"', response=on(CHAT, _role_bot)
    )
)
fault(
    Fault(
        "chat-object-wrong",
        "chat.response.object",
        '`object` is "chat.completions"',
        response=on(CHAT, put("object", "chat.completions")),
    )
)
fault(Fault("chat-id-missing", "chat.response.id", "no `id`", response=on(CHAT, drop("id"))))
fault(
    Fault(
        "chat-created-ms",
        "chat.response.created",
        "`created` in milliseconds",
        response=on(CHAT, shared.created_ms),
    )
)
fault(Fault("chat-usage-missing", "chat.usage.present", "no `usage`", response=on(CHAT, drop("usage"))))
fault(
    Fault(
        "chat-usage-sum-off-by-one",
        "chat.usage.sum",
        "total_tokens is one more than the sum",
        response=on(CHAT, shared.usage_off_by_one),
    )
)
fault(
    Fault(
        "chat-finish-reason-bogus",
        "chat.finish-reason.enum",
        'finish_reason "done"',
        response=on(CHAT, shared.finish_bogus),
    )
)
fault(
    Fault(
        "chat-logprobs-positive",
        "chat.logprobs.valid",
        "token logprobs above 0",
        response=on(CHAT, _logprobs_positive),
    )
)

# -- parameters the server ignores: the request is rewritten before it is served -----------------------
fault(
    Fault(
        "chat-n-ignored",
        "chat.n.indexed",
        "serves n=1 whatever was asked",
        request=request_edit(CHAT, shared.n_one),
    )
)
fault(
    Fault(
        "chat-max-tokens-ignored",
        "chat.max-tokens.respected",
        "raises max_tokens before serving",
        request=request_edit(CHAT, shared.max_tokens_raised),
    )
)
fault(
    Fault(
        "chat-stop-ignored",
        "chat.stop.honoured",
        "drops `stop` before serving",
        request=request_edit(CHAT, without("stop")),
    )
)
fault(
    Fault(
        "chat-seed-ignored",
        "chat.seed.determinism",
        "replaces `seed` with a random one",
        request=request_edit(CHAT, shared.seed_random),
    )
)
fault(
    Fault(
        "chat-response-format-ignored",
        "chat.response-format.json",
        "drops `response_format` before serving",
        request=request_edit(CHAT, without("response_format")),
    )
)
fault(
    Fault(
        "chat-usage-zero",
        "chat.usage.counts",
        "usage all zeros beside the content",
        response=on(CHAT, shared.usage_zero),
    )
)
fault(
    Fault(
        "chat-length-as-stop",
        "chat.finish-reason.length",
        'finish_reason "stop" for an answer cut at the token limit',
        response=on(CHAT, shared.length_as_stop),
    )
)
fault(
    Fault(
        "chat-overrun-hidden",
        "chat.max-tokens.respected",
        "text past the token limit, while usage says the limit held",
        response=on(CHAT, shared.overrun_hidden),
    )
)


def _reasoning_in_content(payload: Json, request: Json) -> Json:
    for choice in choices(payload):
        message = choice.get("message")
        if isinstance(message, dict) and isinstance(message.get("content"), str):
            message["content"] = "<think>The user wants an answer.</think>" + message["content"]
    return payload


def _reasoning_object(payload: Json, request: Json) -> Json:
    for choice in choices(payload):
        if isinstance(choice.get("message"), dict):
            choice["message"]["reasoning_content"] = {"text": "The user wants an answer."}
    return payload


def _developer_refused(body: Json) -> Json:
    messages = body.get("messages")
    if isinstance(messages, list):
        body["messages"] = [
            {**m, "role": "developr"} if isinstance(m, dict) and m.get("role") == "developer" else m
            for m in messages
        ]
    return body


# -- reasoning and roles -----------------------------------------------------------------------------------
fault(
    Fault(
        "chat-reasoning-in-content",
        "chat.reasoning.separate",
        "reasoning left in content as <think> text",
        response=on(CHAT, _reasoning_in_content),
    )
)
fault(
    Fault(
        "chat-reasoning-field-object",
        "chat.reasoning.field",
        "reasoning_content as an object",
        response=on(CHAT, _reasoning_object),
    )
)
fault(
    Fault(
        "chat-developer-role-refused",
        "chat.developer-role.accepted",
        "the developer role is refused (pi#6238)",
        request=request_edit(CHAT, _developer_refused),
    )
)
