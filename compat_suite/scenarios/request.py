"""Spec-valid requests that real servers refuse: each shape the spec allows, sent once, must be served.

FIELD.md's second most reported class of breakage is strict request parsing: content-part arrays,
the `developer` role, `max_completion_tokens`, an empty assistant turn. Each case sends one small
request of that shape; `request.accepted` names the refusal, with the fields that make it valid.
"""

from __future__ import annotations

from typing import Any

from . import _requests as r
from ._context import Context
from ._registry import Proofs, proof, scenario

PARTS = [{"type": "text", "text": "You answer briefly."}, {"type": "text", "text": "Use plain words."}]
# Each case: a chat request of one shape CreateChatCompletionRequest allows.
SHAPES: dict[str, dict[str, Any]] = {
    "system-content-parts": {
        "messages": [{"role": "system", "content": PARTS}, {"role": "user", "content": r.PROMPT}]
    },
    "user-content-parts": {"messages": [{"role": "user", "content": [{"type": "text", "text": r.PROMPT}]}]},
    "developer-role": {
        "messages": [
            {"role": "developer", "content": "Answer briefly."},
            {"role": "user", "content": r.PROMPT},
        ]
    },
    "max-completion-tokens": {
        "messages": [{"role": "user", "content": r.PROMPT}],
        "max_completion_tokens": 8,
    },
    "multi-turn": {
        "messages": [
            {"role": "user", "content": "Hi."},
            {"role": "assistant", "content": "Hello."},
            {"role": "user", "content": r.PROMPT},
        ]
    },
}
CHECKS = ("request.accepted", "chat.response.schema")


@scenario("request.valid-shapes", endpoint="chat", cases=tuple(SHAPES), proves=CHECKS)
def valid_shapes(ctx: Context) -> Proofs:
    """One spec-valid request shape (content parts, developer role, ...) is served with a valid answer."""
    body = {"max_tokens": 8, "temperature": 0, **SHAPES[ctx.case or "multi-turn"]}
    if "max_completion_tokens" in body:
        body.pop("max_tokens")
    yield proof(CHECKS, ctx.target.chat(body))
