"""Checks of unary legacy completions (`POST /completions`, no `stream`)."""

from __future__ import annotations

from typing import Any

from ..exchange import Exchange
from . import _choices
from . import _common as c
from ._registry import MUST, SHOULD, Finding, check

ENDPOINTS = ("completions",)


def choice_text(choice: dict[str, Any]) -> Any:
    """The text of one completion choice."""
    return choice.get("text")


@check("completions.response.schema", severity=MUST, endpoints=ENDPOINTS)
def completions_response_schema(exchange: Exchange) -> None:
    """The response body validates against CreateCompletionResponse."""
    c.schema_check(exchange, "CreateCompletionResponse", c.body(exchange))


@check("completions.response.object", severity=MUST, endpoints=ENDPOINTS)
def completions_response_object(exchange: Exchange) -> None:
    """`object` is "text_completion"."""
    c.expect_object(exchange, "text_completion")


@check("completions.response.id", severity=MUST, endpoints=ENDPOINTS)
def completions_response_id(exchange: Exchange) -> None:
    """`id` is a non-empty string."""
    c.expect_id(exchange)


@check("completions.response.created", severity=MUST, endpoints=ENDPOINTS)
def completions_response_created(exchange: Exchange) -> None:
    """`created` is an integer of plausible Unix seconds (not milliseconds, not a string)."""
    _choices.expect_created(exchange)


@check("completions.usage.present", severity=MUST, endpoints=ENDPOINTS)
def completions_usage_present(exchange: Exchange) -> None:
    """`usage` reports prompt, completion and total tokens as non-negative integers."""
    c.expect_usage(exchange, ("prompt_tokens", "completion_tokens", "total_tokens"))


@check("completions.usage.sum", severity=MUST, endpoints=ENDPOINTS)
def completions_usage_sum(exchange: Exchange) -> None:
    """`usage.total_tokens` equals prompt_tokens + completion_tokens."""
    _choices.expect_usage_sum(exchange)


@check("completions.usage.counts", severity=MUST, endpoints=ENDPOINTS)
def completions_usage_counts(exchange: Exchange) -> None:
    """`usage` counts what was sent and made: prompt_tokens above 0, completion_tokens above 0 when a choice has text."""
    _choices.expect_usage_counts(exchange, choice_text)


@check("completions.finish-reason.length", severity=MUST, endpoints=ENDPOINTS)
def completions_finish_reason_length(exchange: Exchange) -> None:
    """A choice that reached the token limit has finish_reason "length", not "stop"."""
    _choices.expect_length_when_cut(exchange, "max_tokens")


@check("completions.finish-reason.enum", severity=MUST, endpoints=ENDPOINTS)
def completions_finish_reason_enum(exchange: Exchange) -> None:
    """Every choice's finish_reason is one of the documented values."""
    _choices.expect_finish_reasons(exchange)


@check("completions.n.indexed", severity=MUST, endpoints=ENDPOINTS)
def completions_n_indexed(exchange: Exchange) -> None:
    """A request for n choices of one prompt gets exactly n, indexed 0..n-1."""
    prompt = c.request_body(exchange).get("prompt")
    if isinstance(prompt, list) and len(prompt) > 1 and all(isinstance(p, str) for p in prompt):
        _expect_batch_indexed(exchange, len(prompt))
    else:
        _choices.expect_n_indexed(exchange)


def _expect_batch_indexed(exchange: Exchange, prompts: int) -> None:
    # A batch of prompts gets n choices per prompt, indexed 0..prompts*n-1.
    n = c.requested_n(c.request_body(exchange)) * prompts
    items = c.choices(exchange, c.body(exchange))
    indices = [item.get("index") for item in items]
    if len(items) != n or sorted(i for i in indices if c.is_int(i)) != list(range(n)):
        raise Finding(
            f"{prompts} prompts x n expect {n} choices indexed 0..{n - 1}; got indices {indices}",
            c.evidence(exchange, indices=indices),
        )


@check("completions.max-tokens.respected", severity=MUST, endpoints=ENDPOINTS)
def completions_max_tokens_respected(exchange: Exchange) -> None:
    """No choice generates more than max_tokens: completion_tokens is at most max_tokens per choice."""
    _choices.expect_max_tokens(exchange, "max_tokens")


@check("completions.stop.honoured", severity=MUST, endpoints=ENDPOINTS)
def completions_stop_honoured(exchange: Exchange) -> None:
    """No choice's text contains a requested stop sequence."""
    request = c.request_body(exchange)
    if request.get("echo") is True:
        # With echo the prompt leads the text and may itself contain the stop sequence.
        prompt = request.get("prompt")
        prefix = prompt if isinstance(prompt, str) else ""
        _choices.expect_stop_honoured(exchange, lambda ch: _after_prefix(choice_text(ch), prefix))
    else:
        _choices.expect_stop_honoured(exchange, choice_text)


def _after_prefix(text: Any, prefix: str) -> Any:
    return text[len(prefix) :] if isinstance(text, str) and text.startswith(prefix) else text


@check("completions.seed.determinism", severity=SHOULD, endpoints=ENDPOINTS)
def completions_seed_determinism(first: Exchange, second: Exchange) -> None:
    """The same request with the same seed gives the same text twice."""
    _choices.expect_same_texts(first, second, choice_text)


@check("completions.echo.prefix", severity=SHOULD, endpoints=ENDPOINTS)
def completions_echo_prefix(exchange: Exchange) -> None:
    """With echo, each choice's text starts with its prompt."""
    request = c.request_body(exchange)
    if request.get("echo") is not True:
        return  # not requested
    prompt = request.get("prompt")
    prompts = [prompt] if isinstance(prompt, str) else prompt
    if not isinstance(prompts, list) or not prompts or not all(isinstance(p, str) for p in prompts):
        return  # token-id prompts: the echo is text we cannot predict without the tokenizer
    n = c.requested_n(request)
    bad = {}
    for i, choice in enumerate(c.choices(exchange, c.body(exchange))):
        index = c.index_of(choice, i)
        expected = prompts[min(max(index, 0) // n, len(prompts) - 1)]
        text = choice_text(choice)
        if not isinstance(text, str) or not text.startswith(expected):
            bad[index] = {"prompt": expected, "text": text}
    if bad:
        raise Finding(
            f"echo: text of choice(s) {list(bad)} does not start with the prompt",
            c.evidence(exchange, bad=bad),
        )
