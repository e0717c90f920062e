"""What the transformers engine knows of tokens, without torch: each token's bytes, the
end-of-sequence ids and the context length (`Vocabulary`), text decoded token by token
(`TextStream`), and the checks a request's token ids and parameters get before they reach the model.
"""

from __future__ import annotations

import codecs
from collections.abc import Sequence
from typing import Any

from ..errors import APIError
from .base import GenerationRequest

MAX_TOP_LOGPROBS = 20  # OpenAI's documented maximum


def _byte_decoder() -> dict[str, int]:
    """The inverse of GPT-2's byte-to-unicode table that byte-level BPE vocabularies are written in."""
    printable = [
        *range(ord("!"), ord("~") + 1),
        *range(ord("¡"), ord("¬") + 1),
        *range(ord("®"), ord("ÿ") + 1),
    ]
    chars = list(printable)
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return {chr(c): b for b, c in zip(printable, chars, strict=True)}


class Vocabulary:
    """What sampling needs to know about tokens: their bytes, end-of-sequence ids, the context."""

    def __init__(self, tokenizer: Any, model: Any) -> None:
        self.tokenizer = tokenizer
        self.size = int(model.get_output_embeddings().weight.shape[0])
        self.context_length = int(getattr(model.config, "max_position_embeddings", 2048))
        special = set(tokenizer.all_special_ids) | set(getattr(tokenizer, "added_tokens_decoder", {}))
        eos = model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        eos_ids |= {
            i for i in (tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|endoftext|>")) if i
        }
        self.eos_ids = frozenset(i for i in eos_ids if isinstance(i, int) and 0 <= i < self.size)
        self.pad_id = int(tokenizer.pad_token_id if tokenizer.pad_token_id is not None else min(self.eos_ids))
        self.bos_id = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else self.pad_id
        decoder = _byte_decoder()
        pieces = tokenizer.convert_ids_to_tokens(list(range(self.size)))
        # None marks special tokens: they have no text (they never appear in a delta's text).
        self.token_bytes: list[bytes | None] = [
            None if i in special or piece is None else bytes(decoder.get(ch, 0x3F) for ch in piece)
            for i, piece in enumerate(pieces)
        ]

    def display(self, token_id: int) -> tuple[str, list[int]]:
        """A token's text for logprobs (undecodable bytes replaced) and its bytes."""
        raw = self.token_bytes[token_id]
        if raw is None:
            text = self.tokenizer.convert_ids_to_tokens(token_id)
            return text, list(text.encode())
        return raw.decode("utf-8", errors="replace"), list(raw)


class TextStream:
    """Incremental detokenization over token bytes: a character split across tokens is held back
    ("" is emitted) until its last byte arrives, so U+FFFD can only appear in the final piece,
    for bytes that never became a character."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")

    def push(self, raw: bytes | None, *, final: bool = False) -> str:
        """The text `raw` completes (special tokens, `None`, add none)."""
        return self._decoder.decode(raw or b"", final=final)


def validate_request(request: GenerationRequest, vocab: Vocabulary) -> None:
    """Client mistakes the routes may have missed become a 400, not a worker failure."""
    if request.max_tokens < 1:
        raise APIError(400, "max_tokens must be at least 1", param="max_tokens")
    if len(request.prompt_ids) >= vocab.context_length:
        raise APIError(
            400,
            f"This model's maximum context length is {vocab.context_length} tokens; "
            f"the prompt has {len(request.prompt_ids)}.",
            param="messages",
            code="context_length_exceeded",
        )
    check_token_ids(request.prompt_ids, vocab)
    if request.temperature < 0 or not 0 < request.top_p <= 1:
        raise APIError(400, "temperature must be >= 0 and top_p in (0, 1]", param="temperature")
    if request.top_logprobs is not None and not 0 <= request.top_logprobs <= MAX_TOP_LOGPROBS:
        raise APIError(400, f"top_logprobs must be between 0 and {MAX_TOP_LOGPROBS}", param="top_logprobs")


def check_token_ids(ids: Sequence[int], vocab: Vocabulary) -> None:
    bad = [i for i in ids if not 0 <= int(i) < vocab.size]
    if bad:
        raise APIError(
            400, f"token id {bad[0]} is outside the vocabulary (0..{vocab.size - 1})", param="prompt"
        )
