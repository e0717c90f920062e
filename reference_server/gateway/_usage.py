"""The token counts a request used, from whichever usage shape the route produced."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TokenUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    @classmethod
    def of(cls, usage: Mapping[str, Any] | None) -> TokenUsage:
        """Accept OpenAI's names or Karta's (`input_tokens`/`output_tokens`); missing counts are 0."""
        if not usage:
            return cls()
        prompt = usage.get("prompt_tokens", usage.get("input_tokens", 0))
        completion = usage.get("completion_tokens", usage.get("output_tokens", 0))
        if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in (prompt, completion)):
            raise ValueError(f"usage token counts must be non-negative integers, got {dict(usage)!r}")
        return cls(prompt_tokens=prompt, completion_tokens=completion)
