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


def chat_body(prompt: str = PROMPT, **params: Any) -> dict[str, Any]:
    """A one-message chat request (`max_tokens` MAX_TOKENS unless given)."""
    return {"messages": [{"role": "user", "content": prompt}], "max_tokens": MAX_TOKENS, **params}


def completion_body(prompt: str = COMPLETION_PROMPT, **params: Any) -> dict[str, Any]:
    """A legacy completions request (`max_tokens` MAX_TOKENS unless given)."""
    return {"prompt": prompt, "max_tokens": MAX_TOKENS, **params}


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
