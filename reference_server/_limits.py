"""The documented limits of one request, and the text check every JSON body passes.

A request past a limit is refused with a 400 naming the limit and the parameter, before any model
work starts, so that no single request can hold the server for long:

- `messages`: at most MAX_MESSAGES per chat request;
- input tokens: the prompt must fit the model's context (`context_length_exceeded`);
- `input` of embeddings: at most MAX_EMBEDDING_INPUTS items;
- `n × max_tokens`: at most MAX_COMPLETION_TOKENS tokens generated per request (across choices
  and prompts).

JSON lets a string carry a lone UTF-16 surrogate (`"\\ud800"`), which is not Unicode text: it
cannot be encoded, tokenized or echoed back. `require_unicode` refuses it with a 400 naming the
field, on every route that reads a JSON body.
"""

from __future__ import annotations

from typing import Any

from .errors import APIError

MAX_MESSAGES = 2048
MAX_EMBEDDING_INPUTS = 2048
MAX_COMPLETION_TOKENS = 131_072  # n=128 choices of the default 1,024 chat tokens
LIMITS = {
    "messages per chat request": MAX_MESSAGES,
    "embeddings inputs per request": MAX_EMBEDDING_INPUTS,
    "n × max_tokens per request (summed over prompts)": MAX_COMPLETION_TOKENS,
}


def require_unicode(body: Any) -> None:
    """400 naming the first field (or key) whose string holds a lone surrogate.

    Iterative, so that nesting as deep as the JSON parser allows costs no recursion."""
    stack: list[tuple[str, Any]] = [("", body)]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            if not _is_text(value):
                raise _not_text(where or "the request body")
        elif isinstance(value, dict):
            for key, item in value.items():
                path = f"{where}.{key}" if where else str(key)
                if not _is_text(key):
                    raise _not_text(f"a key of {where or 'the request body'}")
                stack.append((path, item))
        elif isinstance(value, list):
            stack.extend((f"{where}[{i}]", item) for i, item in enumerate(value))


def require_messages(count: int) -> None:
    if count > MAX_MESSAGES:
        raise APIError(
            400,
            f"messages holds {count} messages; this server takes at most {MAX_MESSAGES} per request.",
            param="messages",
            code="too_many_messages",
        )


def require_context(prompt_tokens: int, context_length: int | None, param: str) -> None:
    """400 when one prompt does not fit the model's context (with room for one generated token)."""
    if context_length is not None and prompt_tokens >= context_length:
        raise APIError(
            400,
            f"This model's maximum context length is {context_length} tokens; "
            f"the prompt has {prompt_tokens}.",
            param=param,
            code="context_length_exceeded",
        )


def require_completion_budget(prompts: int, n: int, max_tokens: int) -> None:
    total = prompts * n * max_tokens
    if total > MAX_COMPLETION_TOKENS:
        raise APIError(
            400,
            f"This request may generate {total} tokens (prompts × n × max_tokens = "
            f"{prompts} × {n} × {max_tokens}); this server generates at most "
            f"{MAX_COMPLETION_TOKENS} per request. Lower n or max_tokens.",
            param="max_tokens",
            code="too_many_tokens",
        )


def _is_text(value: str) -> bool:
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _not_text(where: str) -> APIError:
    return APIError(
        400,
        f"Invalid value for '{where}': the string is not valid Unicode (it holds a lone surrogate).",
        param=where,
        code="invalid_unicode",
    )
