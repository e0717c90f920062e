"""Faults that fail the completions checks: the unary text completion's fields and the parameters it
honours."""

from __future__ import annotations

from . import _generation as shared  # the edits chat and completions both take
from ._hooks import choices, drop, on, put, request_edit, without
from ._registry import Fault, Json, fault

COMPLETIONS = ("completions",)


def _no_logprobs_key(payload: Json, request: Json) -> Json:
    for choice in choices(payload):
        choice.pop("logprobs", None)
    return payload


# -- the response's fields ----------------------------------------------------------------------------
fault(
    Fault(
        "completions-schema-no-logprobs",
        "completions.response.schema",
        "choices lack the `logprobs` key",
        response=on(COMPLETIONS, _no_logprobs_key),
    )
)
fault(
    Fault(
        "completions-object-wrong",
        "completions.response.object",
        '`object` is "text_completions"',
        response=on(COMPLETIONS, put("object", "text_completions")),
    )
)
fault(
    Fault(
        "completions-id-missing", "completions.response.id", "no `id`", response=on(COMPLETIONS, drop("id"))
    )
)
fault(
    Fault(
        "completions-created-ms",
        "completions.response.created",
        "`created` in milliseconds",
        response=on(COMPLETIONS, shared.created_ms),
    )
)
fault(
    Fault(
        "completions-usage-missing",
        "completions.usage.present",
        "no `usage`",
        response=on(COMPLETIONS, drop("usage")),
    )
)
fault(
    Fault(
        "completions-usage-sum-off-by-one",
        "completions.usage.sum",
        "total_tokens is one more than the sum",
        response=on(COMPLETIONS, shared.usage_off_by_one),
    )
)
fault(
    Fault(
        "completions-finish-reason-bogus",
        "completions.finish-reason.enum",
        'finish_reason "done"',
        response=on(COMPLETIONS, shared.finish_bogus),
    )
)

# -- parameters the server ignores: the request is rewritten before it is served -----------------------
fault(
    Fault(
        "completions-n-ignored",
        "completions.n.indexed",
        "serves n=1 whatever was asked",
        request=request_edit(COMPLETIONS, shared.n_one),
    )
)
fault(
    Fault(
        "completions-max-tokens-ignored",
        "completions.max-tokens.respected",
        "raises max_tokens before serving",
        request=request_edit(COMPLETIONS, shared.max_tokens_raised),
    )
)
fault(
    Fault(
        "completions-stop-ignored",
        "completions.stop.honoured",
        "drops `stop` before serving",
        request=request_edit(COMPLETIONS, without("stop")),
    )
)
fault(
    Fault(
        "completions-seed-ignored",
        "completions.seed.determinism",
        "replaces `seed` with a random one",
        request=request_edit(COMPLETIONS, shared.seed_random),
    )
)
fault(
    Fault(
        "completions-echo-ignored",
        "completions.echo.prefix",
        "drops `echo` before serving",
        request=request_edit(COMPLETIONS, without("echo")),
    )
)
fault(
    Fault(
        "completions-usage-zero",
        "completions.usage.counts",
        "usage all zeros beside the content",
        response=on(COMPLETIONS, shared.usage_zero),
    )
)
fault(
    Fault(
        "completions-length-as-stop",
        "completions.finish-reason.length",
        'finish_reason "stop" for an answer cut at the token limit',
        response=on(COMPLETIONS, shared.length_as_stop),
    )
)
fault(
    Fault(
        "completions-overrun-hidden",
        "completions.max-tokens.respected",
        "text past the token limit, while usage says the limit held",
        response=on(COMPLETIONS, shared.overrun_hidden),
    )
)
