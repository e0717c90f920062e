"""The `StepBackend` over a causal LM: the active sequences as one left-padded batch, one KV cache.

A new request is prefilled (with the others that arrived with it), then its cache rows are left-padded
to the batch's length and concatenated; finished or abandoned rows are cut out and the columns that
became padding for every row are trimmed, so a step costs what the live rows need. Sampling (greedy,
temperature, top-p, penalties, seeds) and structured outputs' token masks are per row.
"""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from transformers import DynamicCache

from ._grammar import Grammars
from ._vocabulary import TextStream as _TextStream
from ._vocabulary import Vocabulary as _Vocabulary
from .base import FinishReason, GenerationRequest, TokenDelta, TokenLogprob

_BIT_SHIFTS = torch.arange(32, dtype=torch.int32)  # unpacks llguidance's int32 token bitmasks
_GREEDY_BELOW = 1e-5  # temperatures this small are the argmax; dividing by them overflows


def _is_greedy(request: GenerationRequest) -> bool:
    return request.temperature < _GREEDY_BELOW


@dataclass(eq=False)
class _Sequence:
    """One request's decoding state: the rows of `_CausalBatch` are these."""

    request: GenerationRequest
    generator: torch.Generator
    limit: int  # tokens it may still add: max_tokens, or less where the context ends first
    counts: Counter[int] = field(default_factory=Counter)
    produced: int = 0
    last_token: int = 0
    text: _TextStream = field(default_factory=lambda: _TextStream())
    matcher: Any = None  # the llguidance matcher of a structured output


def _layers(cache: DynamicCache | None) -> list[Any]:
    """The cache's per-layer holders of `keys` and `values` ([batch, heads, length, head_dim])."""
    return list(cache.layers) if cache is not None else []


class CausalBatch:
    """The `StepBackend` over a causal LM: left-padded rows, one KV cache, per-row sampling."""

    def __init__(self, model: Any, vocab: _Vocabulary, device: torch.device, grammars: Grammars) -> None:
        self.model = model
        self.vocab = vocab
        self.device = device
        self.grammars = grammars
        self.rows: list[_Sequence] = []
        # Kept from step to step (rebuilding one per step would copy every layer's tensors).
        self.cache: DynamicCache | None = None
        self.mask = torch.zeros((0, 0), dtype=torch.long, device=device)

    # -- StepBackend -----------------------------------------------------------------------------
    @torch.inference_mode()
    def admit(self, requests: Sequence[GenerationRequest]) -> list[TokenDelta]:
        prompts = [list(r.prompt_ids) or [self.vocab.bos_id] for r in requests]
        width = max(map(len, prompts))
        ids = torch.full((len(prompts), width), self.vocab.pad_id, dtype=torch.long)
        mask = torch.zeros((len(prompts), width), dtype=torch.long)
        for row, prompt in enumerate(prompts):
            ids[row, width - len(prompt) :] = torch.tensor(prompt)
            mask[row, width - len(prompt) :] = 1
        ids, mask = ids.to(self.device), mask.to(self.device)
        positions = (mask.cumsum(1) - 1).clamp(min=0)
        cache = DynamicCache()
        out = self.model(
            input_ids=ids,
            attention_mask=mask,
            position_ids=positions,
            past_key_values=cache,
            use_cache=True,
            logits_to_keep=1,
        )
        joiners = [self._new_sequence(r, len(p)) for r, p in zip(requests, prompts, strict=True)]
        self._merge(out.past_key_values, mask)
        self.rows.extend(joiners)
        return self._choose_all(joiners, out.logits[:, -1, :])

    @torch.inference_mode()
    def step(self) -> list[TokenDelta]:
        ids = torch.tensor([[seq.last_token] for seq in self.rows], dtype=torch.long, device=self.device)
        self.mask = torch.cat([self.mask, self.mask.new_ones((len(self.rows), 1))], dim=1)
        positions = self.mask.sum(1, keepdim=True) - 1
        out = self.model(
            input_ids=ids,
            attention_mask=self.mask,
            position_ids=positions,
            past_key_values=self.cache,
            use_cache=True,
        )
        return self._choose_all(self.rows, out.logits[:, -1, :])

    def keep(self, rows: Sequence[int]) -> None:
        if not rows:
            self.rows, self.cache = [], None
            self.mask = self.mask[:0, :0]
            return
        index = torch.tensor(list(rows), dtype=torch.long, device=self.device)
        self.rows = [self.rows[i] for i in rows]
        self.mask = self.mask.index_select(0, index)
        # Columns that are padding in every remaining row cost attention time and hold no data.
        start = int((self.mask.sum(0) > 0).nonzero()[0, 0]) if self.mask.numel() else 0
        self.mask = self.mask[:, start:]
        for layer in _layers(self.cache):
            layer.keys = layer.keys.index_select(0, index)[:, :, start:]
            layer.values = layer.values.index_select(0, index)[:, :, start:]

    # -- rows ------------------------------------------------------------------------------------
    def _new_sequence(self, request: GenerationRequest, prompt_length: int) -> _Sequence:
        seed = request.seed if request.seed is not None else random.SystemRandom().randrange(2**63)
        generator = torch.Generator(device=self.device).manual_seed(int(seed) % 2**63)
        limit = min(request.max_tokens, self.vocab.context_length - prompt_length)
        matcher = self.grammars.matcher(request.structure) if request.structure is not None else None
        return _Sequence(request, generator, limit, matcher=matcher)

    def _merge(self, cache: DynamicCache, mask: torch.Tensor) -> None:
        """Append rows to the batch, left-padding whichever side is shorter."""
        if self.cache is None or not self.rows:
            self.cache, self.mask = cache, mask
            return
        width = max(self.mask.shape[1], mask.shape[1])

        def pad(t: torch.Tensor, dim_from_end: int) -> torch.Tensor:
            missing = width - t.shape[-dim_from_end]
            if not missing:
                return t
            return F.pad(t, (0, 0, missing, 0) if dim_from_end == 2 else (missing, 0))

        self.mask = torch.cat([pad(self.mask, 1), pad(mask, 1)], dim=0)
        for mine, theirs in zip(_layers(self.cache), _layers(cache), strict=True):
            mine.keys = torch.cat([pad(mine.keys, 2), pad(theirs.keys, 2)], dim=0)
            mine.values = torch.cat([pad(mine.values, 2), pad(theirs.values, 2)], dim=0)

    # -- sampling --------------------------------------------------------------------------------
    def _choose_all(self, rows: Sequence[_Sequence], logits: torch.Tensor) -> list[TokenDelta]:
        """A token for each row; constrained rows and free ones share the batch, and the grammar
        masks of the constrained ones are computed together, in llguidance's own threads."""
        allowed = self._allowed([seq.matcher for seq in rows])
        return [
            self._choose(seq, row_logits, allowed.get(i))
            for i, (seq, row_logits) in enumerate(zip(rows, logits, strict=True))
        ]

    def _allowed(self, matchers: Sequence[Any]) -> dict[int, torch.Tensor]:
        """Row -> boolean mask of the tokens its grammar allows next, for the rows that have one."""
        rows = [i for i, m in enumerate(matchers) if m is not None]
        if not rows:
            return {}
        bits = torch.zeros((len(rows), self.grammars.words), dtype=torch.int32)
        self.grammars.fill([(matchers[i], k) for k, i in enumerate(rows)], bits.data_ptr(), len(rows))
        unpacked = (bits.unsqueeze(-1) >> _BIT_SHIFTS) & 1  # [rows, words, 32], bit j of word w: token 32w+j
        allowed = unpacked.reshape(len(rows), -1)[:, : self.vocab.size].bool().to(self.device)
        return {i: allowed[k] for k, i in enumerate(rows)}

    def _choose(
        self, seq: _Sequence, logits: torch.Tensor, allowed: torch.Tensor | None = None
    ) -> TokenDelta:
        request = seq.request
        scores = logits.float()
        if seq.counts and (request.frequency_penalty or request.presence_penalty):
            ids = torch.tensor(list(seq.counts), device=scores.device)
            counts = torch.tensor(list(seq.counts.values()), dtype=scores.dtype, device=scores.device)
            scores = scores.clone()
            scores[ids] -= request.frequency_penalty * counts + request.presence_penalty
        if not _is_greedy(request):
            scores = scores / request.temperature
        logprobs = torch.log_softmax(scores, dim=-1)
        if allowed is not None:  # drawn among the tokens the grammar allows, renormalised
            token = self._draw(seq, torch.log_softmax(logprobs.masked_fill(~allowed, -math.inf), dim=-1))
        elif request.ignore_eos:
            candidates = logprobs.clone()
            candidates[list(self.vocab.eos_ids)] = -math.inf
            token = self._draw(seq, candidates)
        else:
            token = self._draw(seq, logprobs)
        return self._emit(seq, token, logprobs)

    def _draw(self, seq: _Sequence, logprobs: torch.Tensor) -> int:
        """Argmax for temperature 0, else a top-p draw from `logprobs` with the sequence's generator."""
        if _is_greedy(seq.request):
            return int(torch.argmax(logprobs))
        probs = logprobs.exp()
        if seq.request.top_p < 1:
            sorted_probs, order = torch.sort(probs, descending=True)
            # A token is outside the nucleus when the mass before it already reaches top_p. The most
            # likely token always stays: a top_p below float32's range would otherwise empty it.
            outside = sorted_probs.cumsum(0) - sorted_probs >= seq.request.top_p
            outside[0] = False
            sorted_probs[outside] = 0.0
            probs = torch.zeros_like(probs).scatter_(0, order, sorted_probs)
        return int(torch.multinomial(probs, 1, generator=seq.generator))

    def _emit(self, seq: _Sequence, token: int, logprobs: torch.Tensor) -> TokenDelta:
        seq.produced += 1
        seq.counts[token] += 1
        seq.last_token = token
        raw = self.vocab.token_bytes[token]
        if seq.matcher is not None:
            seq.matcher.consume_token(token)
        finish: FinishReason | None = None
        if seq.matcher is not None and seq.matcher.is_stopped():
            finish = "stop"  # the grammar is complete: nothing may follow
        elif token in self.vocab.eos_ids and not seq.request.ignore_eos:
            finish = "stop"
        elif seq.produced >= seq.limit:
            finish = "length"
        text = seq.text.push(raw, final=finish is not None)
        k = seq.request.top_logprobs
        top: list[TokenLogprob] = []
        if k:
            values, ids = torch.topk(logprobs, k)
            for value, tid in zip(values.tolist(), ids.tolist(), strict=True):
                shown, raw_bytes = self.vocab.display(tid)
                top.append(TokenLogprob(shown, value, raw_bytes))
        return TokenDelta(
            token_id=token,
            text=text,
            logprob=float(logprobs[token]) if k is not None else None,
            top_logprobs=top,
            finish_reason=finish,
        )
