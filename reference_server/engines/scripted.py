"""A deterministic engine with no model: fast, torch-free, for self-tests and load calibration.

Its tokenizer is a fixed word vocabulary with a byte fallback, so every text round-trips and
token counts are stable. Generation draws words from a seeded generator whose distribution is
shaped by temperature, top_p and the penalties, so those parameters have real, testable effect,
and the log-probabilities it reports are the true ones of that distribution.

Structured output is written whole, then token by token: a `json_schema` answer and tool arguments
are values drawn from the schema (`_schema_values`), seeded by the prompt. Under tool_choice `auto`
it calls the tools the last user message names (all of them, or the first without
`parallel_tool_calls`), and answers a tool's result by quoting it; under `required` it calls the
named tools, or the first.
"""

from __future__ import annotations

import asyncio
import codecs
import hashlib
import json
import math
import random
import re
from collections import Counter
from collections.abc import AsyncIterator, Sequence

from ..tools import describe_tools, render_calls, render_request_calls
from ._schema_values import value_for
from .base import (
    ChatMessage,
    FinishReason,
    GenerationRequest,
    ModelStatus,
    Structure,
    TokenDelta,
    TokenLogprob,
    ToolSpec,
)

_WORDS = (
    "the a of and to in is it that for on with as was at by be this are from or an which not "
    "model token stream server client answer request response test check value data time fast "
    "small large quiet bright river stone cloud light paper garden window music number simple "
    "always never often green blue red yellow north south east west coffee tea bread apple "
    "hello world yes no maybe good great fine well very more less first last next open close"
).split()
_SPECIAL = ("<|im_start|>", "<|im_end|>", "\n")
_BYTE_BASE = 0
_SPECIAL_BASE = 256
_WORD_BASE = _SPECIAL_BASE + len(_SPECIAL)
EOS_ID = _SPECIAL_BASE + 1  # <|im_end|>
CONTEXT_LENGTH = 32_768  # tokens one sequence may hold (prompt and generated), as a real model's context
_MIN_TEMPERATURE = 1e-4  # below this, sampling is greedy in all but name; keeps the arithmetic finite
_PIECE = re.compile(r"<\|im_start\|>|<\|im_end\|>|\n| ?[A-Za-z]+| ?[^A-Za-z\s]|[ \t]+")


class ScriptedEngine:
    """Implements `Engine` with a word vocabulary and a seeded sampler."""

    def __init__(
        self,
        model_name: str = "scripted-chat",
        embedding_model_name: str = "scripted-embed",
        *,
        token_delay_s: float = 0.0,
        dimensions: int = 64,
    ) -> None:
        self.model_name = model_name
        self.embedding_model_name = embedding_model_name
        self.token_delay_s = token_delay_s
        self.context_length = CONTEXT_LENGTH
        self._dims = dimensions
        self._vocab: list[str] = [bytes([b]).decode("latin-1") for b in range(256)]
        self._vocab += list(_SPECIAL)
        self._vocab += [" " + w for w in _WORDS] + list(_WORDS)
        self._ids = {piece: i for i, piece in enumerate(self._vocab) if i >= _SPECIAL_BASE}
        self._status: ModelStatus = "ready"
        self._vectors: dict[int, list[float]] = {}  # token id -> its embedding contribution (a few hundred)

    # -- tokenizer ---------------------------------------------------------------------------
    def status(self) -> ModelStatus:
        return self._status

    def tokenize(self, text: str) -> list[int]:
        ids: list[int] = []
        pos = 0
        for match in _PIECE.finditer(text):
            if match.start() > pos:  # characters the pattern does not cover (other whitespace)
                ids.extend(text[pos : match.start()].encode("utf-8"))
            piece = match.group()
            if piece in self._ids:
                ids.append(self._ids[piece])
            else:
                ids.extend(piece.encode("utf-8"))
            pos = match.end()
        if pos < len(text):
            ids.extend(text[pos:].encode("utf-8"))
        return ids

    def detokenize(self, ids: Sequence[int]) -> str:
        out = bytearray()
        for i in ids:
            if i < _SPECIAL_BASE:
                out.append(i)
            else:
                out += self._vocab[i].encode("utf-8")
        return out.decode("utf-8", errors="replace")

    def chat_prompt(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()) -> list[int]:
        turns = [("system", describe_tools(tools))] if tools else []
        for m in messages:
            turns.append((m.role, m.content + (render_request_calls(m.tool_calls) if m.tool_calls else "")))
        text = "".join(f"<|im_start|>{role}\n{content}<|im_end|>\n" for role, content in turns)
        return self.tokenize(text + "<|im_start|>assistant\n")

    # -- generation --------------------------------------------------------------------------
    def check_structure(self, structure: Structure) -> None:
        """Every schema the request validation accepted can be written (`_schema_values`)."""

    def _scores(self, rng_key: bytes) -> list[float]:
        """Fixed per-prompt word preferences: the 'model'."""
        digest = hashlib.sha256(rng_key).digest()
        base = random.Random(digest)
        return [base.uniform(-3.0, 3.0) for _ in _WORDS]

    async def generate(self, request: GenerationRequest) -> AsyncIterator[TokenDelta]:
        prompt_key = ",".join(map(str, request.prompt_ids)).encode()
        scores = self._scores(prompt_key)
        seed = request.seed if request.seed is not None else random.SystemRandom().randrange(2**32)
        rng = random.Random(f"{seed}:{hashlib.sha256(prompt_key).hexdigest()}")
        # The answer's natural length is fixed by the prompt: sometimes short, sometimes long.
        natural = 4 + int(hashlib.sha256(prompt_key + b"len").digest()[0]) % 24
        counts: Counter[int] = Counter()
        structure = request.structure
        # Structured values depend on the prompt and the seed only: the same at any temperature.
        values = random.Random(f"{request.seed}:{hashlib.sha256(prompt_key).hexdigest()}")
        written = self._written(structure, request.prompt_ids, values) if structure is not None else None
        if written is not None:
            async for delta in self._write(written, request):
                yield delta
            return
        json_parts = (
            self._json_frame(request) if structure is not None and structure.kind == "json_object" else None
        )
        produced = 0
        while True:
            if produced >= request.max_tokens:
                return
            if self.token_delay_s:
                await asyncio.sleep(self.token_delay_s)
            else:
                await asyncio.sleep(0)
            if json_parts is not None:
                opening, closing = json_parts
                if produced < len(opening):  # the frame's opening, one piece per token
                    produced += 1
                    yield self._delta_for_piece(opening[produced - 1], request, _length_at(produced, request))
                    continue
                room = request.max_tokens - produced
                if produced - len(opening) >= natural or room <= len(closing):
                    for k, piece in enumerate(closing[:room]):
                        produced += 1
                        done = k == len(closing) - 1
                        yield self._delta_for_piece(
                            piece, request, "stop" if done else _length_at(produced, request)
                        )
                    return
            elif produced >= natural and not request.ignore_eos:
                yield TokenDelta(token_id=EOS_ID, text="", logprob=0.0, finish_reason="stop")
                return
            token_id, logprob, top = self._sample(request, scores, counts, rng, first=produced == 0)
            counts[token_id] += 1
            produced += 1
            finish = "length" if produced >= request.max_tokens else None
            yield TokenDelta(
                token_id=token_id,
                text=self._vocab[token_id],
                logprob=logprob if request.top_logprobs is not None else None,
                top_logprobs=top,
                finish_reason=finish,
            )

    def _written(self, structure: Structure, prompt_ids: Sequence[int], rng: random.Random) -> str | None:
        """The whole answer a structure makes this engine write, or None where words are sampled
        (a JSON object's value, a text answer under tool_choice auto)."""
        if structure.kind == "json_schema":
            return json.dumps(value_for(structure.schema or {}, rng), ensure_ascii=False)
        if structure.kind != "tools" or structure.mode == "none":
            return None
        role, content = _last_turn(self.detokenize(prompt_ids))
        if structure.mode == "auto" and role == "tool":
            answer = "The tool returned: " + content.strip()
            return answer if structure.schema is None else json.dumps(value_for(structure.schema, rng))
        named = [t for t in structure.tools if t.name in content or t.name.replace("_", " ") in content]
        if structure.mode == "auto" and not named:
            return None if structure.schema is None else json.dumps(value_for(structure.schema, rng))
        calls = named or list(structure.tools[:1])
        calls = calls if structure.parallel else calls[:1]
        return render_calls((t.name, value_for(t.parameters, rng)) for t in calls)

    async def _write(self, text: str, request: GenerationRequest) -> AsyncIterator[TokenDelta]:
        """`text`, token by token, cut at max_tokens ("length"), else ending with "stop"."""
        ids = self.tokenize(text)
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")  # a character may span tokens
        for produced, token_id in enumerate(ids[: request.max_tokens], start=1):
            await asyncio.sleep(self.token_delay_s)
            finish: FinishReason | None = "stop" if produced == len(ids) else _length_at(produced, request)
            raw = bytes([token_id]) if token_id < _SPECIAL_BASE else self._vocab[token_id].encode()
            yield self._certain(token_id, decoder.decode(raw, final=finish is not None), request, finish)

    def _json_frame(self, request: GenerationRequest) -> tuple[list[str], list[str]]:
        """The pieces a JSON answer opens and closes with; the words between are sampled."""
        return (["{", '"', "answer", '"', ":", " ", '"'], ['"', "}"])

    def _delta_for_piece(
        self, piece: str, request: GenerationRequest, finish: FinishReason | None
    ) -> TokenDelta:
        return self._certain(self.tokenize(piece)[0], piece, request, finish)

    def _certain(
        self, token_id: int, text: str, request: GenerationRequest, finish: FinishReason | None
    ) -> TokenDelta:
        """A token the structure dictates: probability 1, its own only alternative."""
        top = [TokenLogprob(text, 0.0, list(text.encode()))] if request.top_logprobs else []
        logprob = 0.0 if request.top_logprobs is not None else None
        return TokenDelta(token_id, text, logprob=logprob, top_logprobs=top, finish_reason=finish)

    def _sample(
        self,
        request: GenerationRequest,
        scores: list[float],
        counts: Counter[int],
        rng: random.Random,
        *,
        first: bool,
    ) -> tuple[int, float, list[TokenLogprob]]:
        # Word ids: spaced forms, except the first word of an answer has no leading space.
        offset = _WORD_BASE + (len(_WORDS) if first else 0)
        logits = []
        for k, s in enumerate(scores):
            tid = offset + k
            c = counts[tid]
            logits.append(s - request.frequency_penalty * c - (request.presence_penalty if c else 0.0))
        temperature = request.temperature
        if temperature <= 0:
            best = max(range(len(logits)), key=lambda k: (logits[k], -k))
            logprobs = _log_softmax(logits, 1.0)
            probs = [math.exp(lp) for lp in logprobs]
            choice = best
        else:
            logprobs = _log_softmax(logits, max(temperature, _MIN_TEMPERATURE))
            probs = [math.exp(lp) for lp in logprobs]
            order = sorted(range(len(probs)), key=lambda k: -probs[k])
            kept, mass = [], 0.0
            for k in order:
                kept.append(k)
                mass += probs[k]
                if mass >= request.top_p:
                    break
            total = sum(probs[k] for k in kept)
            r = rng.random() * total
            choice = kept[-1]
            for k in kept:
                r -= probs[k]
                if r <= 0:
                    choice = k
                    break
        top: list[TokenLogprob] = []
        if request.top_logprobs:
            order = sorted(range(len(logprobs)), key=lambda k: -logprobs[k])[: request.top_logprobs]
            top = [
                TokenLogprob(self._vocab[offset + k], logprobs[k], list(self._vocab[offset + k].encode()))
                for k in order
            ]
        return offset + choice, logprobs[choice], top

    # -- embeddings --------------------------------------------------------------------------
    def embedding_dimensions(self) -> int:
        return self._dims

    def count_embedding_tokens(self, inputs: Sequence[str | Sequence[int]]) -> int:
        return sum(len(self.tokenize(x)) if isinstance(x, str) else len(x) for x in inputs)

    async def embed(self, inputs: Sequence[str | Sequence[int]]) -> list[list[float]]:
        # CPU work: on a thread, so that the event loop keeps answering meanwhile.
        return await asyncio.to_thread(self._embed, list(inputs))

    def _embed(self, inputs: list[str | Sequence[int]]) -> list[list[float]]:
        out = []
        for item in inputs:
            text = item if isinstance(item, str) else self.detokenize(item)
            vec = [0.0] * self._dims
            for tid in self.tokenize(text):
                for d, x in enumerate(self._token_vector(tid)):
                    vec[d] += x
            norm = math.sqrt(sum(v * v for v in vec)) or 1.0
            out.append([v / norm for v in vec] if any(vec) else [1.0 / math.sqrt(self._dims)] * self._dims)
        return out

    def _token_vector(self, token_id: int) -> list[float]:
        vector = self._vectors.get(token_id)
        if vector is None:
            r = random.Random(token_id)
            vector = self._vectors[token_id] = [r.uniform(-1.0, 1.0) for _ in range(self._dims)]
        return vector

    async def close(self) -> None:
        return None


def _last_turn(prompt: str) -> tuple[str, str]:
    """(role, content) of the last turn before the assistant's opening."""
    turns = prompt.split("<|im_start|>")
    last = turns[-2] if len(turns) >= 2 else ""
    role, _, content = last.partition("\n")
    return role, content.removesuffix("\n").removesuffix("<|im_end|>")


def _length_at(produced: int, request: GenerationRequest) -> FinishReason | None:
    return "length" if produced >= request.max_tokens else None


def _log_softmax(logits: list[float], temperature: float) -> list[float]:
    """Log-probabilities, computed in log space so a tiny temperature cannot underflow to log(0)."""
    scaled = [x / temperature for x in logits]
    peak = max(scaled)
    log_total = peak + math.log(sum(math.exp(x - peak) for x in scaled))
    return [x - log_total for x in scaled]
