"""What chat and completions answers share: their choices' finish reasons, indices, usage and
token limits, stop sequences and seeded determinism (the `chat.*` and `completions.*` checks)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..exchange import Exchange
from ._common import (
    CREATED_MAX,
    CREATED_MIN,
    body,
    choices,
    evidence,
    index_of,
    is_int,
    request_body,
    requested_n,
    short,
    token_limit,
)
from ._registry import Finding

FINISH_REASONS = frozenset({"stop", "length", "tool_calls", "content_filter", "function_call"})

TextOf = Callable[[dict[str, Any]], Any]


def stop_sequences(request: dict[str, Any]) -> list[str]:
    """The request's `stop` as a list of non-empty strings."""
    stop = request.get("stop")
    if isinstance(stop, str):
        return [stop] if stop else []
    if isinstance(stop, list):
        return [s for s in stop if isinstance(s, str) and s]
    return []


def expect_created(exchange: Exchange) -> None:
    value = body(exchange).get("created")
    if not is_int(value):
        raise Finding(
            f"`created` is {short(value)}, expected integer Unix seconds", evidence(exchange, created=value)
        )
    if not CREATED_MIN <= value < CREATED_MAX:
        hint = " (milliseconds?)" if value >= CREATED_MAX else ""
        raise Finding(
            f"`created` {value} is not plausible Unix seconds{hint}", evidence(exchange, created=value)
        )


def expect_usage_sum(exchange: Exchange) -> None:
    usage = body(exchange).get("usage")
    if not isinstance(usage, dict):
        return  # absent usage is *.usage.present's failure
    parts = (usage.get("prompt_tokens"), usage.get("completion_tokens"), usage.get("total_tokens"))
    if not all(is_int(p) for p in parts):
        return
    prompt, completion, total = parts
    if prompt + completion != total:
        raise Finding(
            f"total_tokens {total} != prompt_tokens {prompt} + completion_tokens {completion}",
            evidence(exchange, usage=usage),
        )


def expect_usage_counts(exchange: Exchange, text_of: TextOf) -> None:
    """Usage counts what was sent and made: a prompt is at least one token, and a choice with text
    took at least one completion token (all-zero usage beside content is made up)."""
    usage = body(exchange).get("usage")
    if not isinstance(usage, dict):
        return  # absent usage is *.usage.present's failure
    prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
    problems = []
    if is_int(prompt) and prompt == 0:
        problems.append("prompt_tokens is 0, but the request had a prompt")
    texts = [t for t in texts_by_index(exchange, text_of).values() if isinstance(t, str) and t]
    if texts and is_int(completion) and completion == 0:
        problems.append(f"completion_tokens is 0, but {len(texts)} choice(s) have text")
    if problems:
        raise Finding("; ".join(problems), evidence(exchange, usage=usage))


def expect_length_when_cut(exchange: Exchange, *limit_names: str) -> None:
    """A choice that used the whole token limit stopped for `length`, not `stop`: the spec's
    finish_reason is "length" when the maximum number of tokens in the request was reached."""
    request = request_body(exchange)
    limit = token_limit(request, *limit_names)
    if limit is None:
        return  # no limit to reach
    payload = body(exchange)
    items = choices(exchange, payload)
    usage = payload.get("usage")
    used = usage.get("completion_tokens") if isinstance(usage, dict) else None
    if not is_int(used) or len(items) != 1 or used < limit:
        return  # one choice whose usage shows the limit reached: what can be judged without a tokenizer
    reason = items[0].get("finish_reason")
    if reason == "stop":
        raise Finding(
            f'finish_reason is "stop", but the answer used all {used} of {limit_names[0]}={limit} tokens '
            '(expected "length")',
            evidence(exchange, limit=limit, completion_tokens=used),
        )


def expect_finish_reasons(exchange: Exchange) -> None:
    items = choices(exchange, body(exchange))
    bad = {index_of(c, i): c.get("finish_reason") for i, c in enumerate(items)}
    bad = {k: v for k, v in bad.items() if v not in FINISH_REASONS}
    if bad:
        raise Finding(
            f"finish_reason not one of {sorted(FINISH_REASONS)}: {short(bad)}",
            evidence(exchange, finish_reasons=bad),
        )


def expect_n_indexed(exchange: Exchange) -> None:
    n = requested_n(request_body(exchange))
    items = choices(exchange, body(exchange))
    indices = [c.get("index") for c in items]
    if len(items) != n or sorted(i for i in indices if is_int(i)) != list(range(n)):
        raise Finding(
            f"requested n={n}; got {len(items)} choice(s) with indices {indices}",
            evidence(exchange, n=n, indices=indices),
        )


def expect_max_tokens(exchange: Exchange, *limit_names: str) -> None:
    """The limit holds per choice: `usage.completion_tokens` is at most the limit times the number of
    choices (n per prompt, a batch of prompts included), and no choice whose logprobs list its
    generated tokens lists more than the limit."""
    request = request_body(exchange)
    limit = token_limit(request, *limit_names)
    if limit is None:
        return  # nothing to respect
    payload = body(exchange)
    items = payload.get("choices")
    items = [ch for ch in items if isinstance(ch, dict)] if isinstance(items, list) else []
    over = {}
    for i, choice in enumerate(items):
        generated = generated_token_count(choice, echo=request.get("echo") is True)
        if generated is not None and generated > limit:
            over[index_of(choice, i)] = generated
    if over:
        raise Finding(
            f"choice(s) {list(over)} generated more than {limit_names[0]}={limit} tokens: {over}",
            evidence(exchange, limit=limit, tokens_by_choice=over),
        )
    echo = request.get("echo") is True  # the prompt's words come first: not generated
    words = {} if echo else {index_of(ch, i): _word_count(ch) for i, ch in enumerate(items)}
    over_words = {i: n for i, n in words.items() if n is not None and n > limit}
    if over_words:  # the server's own usage is not trusted: a word takes at least one token
        raise Finding(
            f"choice(s) {list(over_words)} hold more words than {limit_names[0]}={limit} allows tokens: "
            f"{over_words}",
            evidence(exchange, limit=limit, words_by_choice=over_words),
        )
    usage = payload.get("usage")
    used = usage.get("completion_tokens") if isinstance(usage, dict) else None
    if not is_int(used):
        return  # no token count to judge by: *.usage.present's failure
    count = len(items) or requested_n(request)
    if used > limit * count:
        raise Finding(
            f"completion_tokens {used} exceeds {limit_names[0]}={limit}"
            + (f" x {count} choices" if count > 1 else ""),
            evidence(exchange, limit=limit, choices=count, completion_tokens=used),
        )


def _word_count(choice: dict[str, Any]) -> int | None:
    """Whitespace-separated words of a choice's generated text (chat content, or completion text)."""
    message = choice.get("message")
    text = message.get("content") if isinstance(message, dict) else choice.get("text")
    return len(text.split()) if isinstance(text, str) else None


def generated_token_count(choice: dict[str, Any], *, echo: bool = False) -> int | None:
    """The tokens a choice generated, where its logprobs list them (chat: `content` and `refusal`
    entries; completions: `tokens`, unless echo put the prompt's tokens first); None where they do not."""
    logprobs = choice.get("logprobs")
    if not isinstance(logprobs, dict):
        return None
    if "message" in choice:  # chat: one entry per generated token
        listed = [logprobs.get(k) for k in ("content", "refusal")]
        lists = [entries for entries in listed if isinstance(entries, list)]
        return sum(map(len, lists)) if lists else None
    tokens = logprobs.get("tokens")
    return len(tokens) if isinstance(tokens, list) and not echo else None


def expect_stop_honoured(exchange: Exchange, text_of: TextOf) -> None:
    stops = stop_sequences(request_body(exchange))
    if not stops:
        return  # the request set no stop sequence
    items = choices(exchange, body(exchange))
    hits = {}
    for i, choice in enumerate(items):
        text = text_of(choice)
        if isinstance(text, str):
            found = [s for s in stops if s in text]
            if found:
                hits[index_of(choice, i)] = {"stop": found, "text": text}
    if hits:
        raise Finding(f"the output contains a stop sequence: {short(hits)}", evidence(exchange, hits=hits))


def texts_by_index(exchange: Exchange, text_of: TextOf) -> dict[Any, Any]:
    items = choices(exchange, body(exchange))
    return {index_of(c, i): text_of(c) for i, c in enumerate(items)}


def expect_same_texts(first: Exchange, second: Exchange, text_of: TextOf) -> None:
    """Two answers to the same seeded request carry the same text in every choice."""
    if first.request.json != second.request.json:
        raise Finding(
            "the two exchanges answer different requests; determinism needs the same request twice",
            evidence(first, other_request=second.request.body[:2048].decode("utf-8", "backslashreplace")),
        )
    a, b = texts_by_index(first, text_of), texts_by_index(second, text_of)
    if a != b:
        raise Finding(
            "the same seeded request gave different outputs",
            {"first": evidence(first), "second": evidence(second), "texts": {"first": a, "second": b}},
        )
