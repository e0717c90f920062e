"""Prices and the funds check: integer micro-units throughout, so sums never drift."""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import APIError

MICROS = 1_000_000  # 1 credit unit = 1_000_000 micro-units


@dataclass(frozen=True)
class Pricing:
    """Price per 1,000 tokens, in micro-units; a request costs the ceiling of its exact price."""

    prompt_micros_per_1k: int = 1_000
    completion_micros_per_1k: int = 2_000

    def __post_init__(self) -> None:
        if self.prompt_micros_per_1k < 0 or self.completion_micros_per_1k < 0:
            raise ValueError("prices must not be negative")

    def cost(self, prompt_tokens: int, completion_tokens: int = 0) -> int:
        thousandths = (
            prompt_tokens * self.prompt_micros_per_1k + completion_tokens * self.completion_micros_per_1k
        )
        return -(-thousandths // 1000)


def require_funds(balance_micros: int, minimum_cost_micros: int) -> None:
    """Refuse (402) when the balance is spent or cannot cover the least the request will cost."""
    if balance_micros <= 0 or balance_micros < minimum_cost_micros:
        raise APIError(
            402,
            "You exceeded your current quota: the credit balance cannot cover this request. "
            "Top up your account.",
            type="insufficient_quota",
            code="insufficient_quota",
        )
