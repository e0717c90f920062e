"""The small requests the scenarios send, as data: prompts, limits, seeds, bodies, and reading answers.

Small on purpose: users run the suite against paid endpoints.
"""

from __future__ import annotations

from typing import Any

PROMPT = "Say hello in three words."
LONG_ANSWER = "Count from one to fifty."
COMPLETION_PROMPT = "The three primary colours are"
REASON = "Think it through, then answer: what is 12 + 30?"
MAX_TOKENS = 16
SEED = 1234
EMBEDDING_INPUTS = ["The sky is blue.", "Grass is green.", "Snow is white."]
INCLUDE_USAGE = {"stream_options": {"include_usage": True}}
RESPONSES_MAX_OUTPUT_TOKENS = 16  # the least max_output_tokens OpenAI takes
RESPONSES_ROOMY = 64  # room for a short answer to end by itself
# Longer than 16 tokens from SmolLM2-135M-Instruct and the scripted engine alike (a count is not:
# the small model answers "Count from one to one hundred." in one short sentence).
RESPONSES_LONG_ANSWER = "Tell me everything you know about the history of Rome."
UNKNOWN_RESPONSE_ID = "resp_compat_suite_never_stored_0000"
INSTRUCTIONS = "Answer like a pirate."
MORE_INSTRUCTIONS = " Keep every answer short, and end it with a question of your own."
# A short conversation as input items: a developer message (some servers refuse the role), a message
# with `type` and ones without, content as text and as parts.
CONVERSATION: list[dict[str, Any]] = [
    {"role": "developer", "content": "Answer in one short sentence."},
    {"type": "message", "role": "user", "content": "My name is Alice."},
    {"role": "assistant", "content": "Hello Alice! Nice to meet you."},
    {"role": "user", "content": [{"type": "input_text", "text": "What is my name?"}]},
]


def chat_body(prompt: str = PROMPT, **params: Any) -> dict[str, Any]:
    """A one-message chat request (`max_tokens` MAX_TOKENS unless given)."""
    return {"messages": [{"role": "user", "content": prompt}], "max_tokens": MAX_TOKENS, **params}


def completion_body(prompt: str = COMPLETION_PROMPT, **params: Any) -> dict[str, Any]:
    """A legacy completions request (`max_tokens` MAX_TOKENS unless given)."""
    return {"prompt": prompt, "max_tokens": MAX_TOKENS, **params}


def responses_body(input: Any = PROMPT, **params: Any) -> dict[str, Any]:
    """A Responses request (`max_output_tokens` RESPONSES_MAX_OUTPUT_TOKENS unless given), `stream: false`
    said explicitly: one scenario tests the default, the others test their own subject."""
    return {"input": input, "max_output_tokens": RESPONSES_MAX_OUTPUT_TOKENS, "stream": False, **params}


def message_text(payload: Any) -> str:
    """The first chat choice's content ("" when there is none)."""
    try:
        text = payload["choices"][0]["message"]["content"]
    except (TypeError, KeyError, IndexError):
        return ""
    return text if isinstance(text, str) else ""


def completion_text(payload: Any) -> str:
    """The first completion choice's text ("" when there is none)."""
    try:
        text = payload["choices"][0]["text"]
    except (TypeError, KeyError, IndexError):
        return ""
    return text if isinstance(text, str) else ""
