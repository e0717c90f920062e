"""The engine interface: what routes need from a model, and nothing more.

Routes turn an OpenAI request into a `GenerationRequest` (prompt token ids plus sampling
parameters) and consume the `TokenDelta`s that `Engine.generate` yields. Stop sequences, `n`,
usage and the response shapes live above the engine (see `reference_server/generation/`), so
every engine gets them the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol, runtime_checkable

FinishReason = Literal["stop", "length"]
ModelStatus = Literal["ready", "loading", "unavailable"]


@dataclass(frozen=True)
class ToolCall:
    """A call the model made: `arguments` is the JSON text it wrote."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class ChatMessage:
    role: str  # system | user | assistant | tool
    content: str
    tool_calls: tuple[ToolCall, ...] = ()  # an assistant turn that called tools
    tool_call_id: str | None = None  # a tool turn: the call it answers


@dataclass(frozen=True)
class ToolSpec:
    """A function the model may call: its name, what it does, its parameters as a JSON Schema."""

    name: str
    parameters: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    description: str = ""


StructureKind = Literal["json_object", "json_schema", "tools"]
ToolMode = Literal["none", "auto", "required"]


@dataclass(frozen=True)
class Structure:
    """What the output must be, said once for every engine.

    `json_object`: a JSON object. `json_schema`: JSON valid against `schema`. `tools`: under `auto`
    the model answers in text (JSON valid against `schema`, where a response_format set one) or calls
    some of `tools`; under `required` it calls at least one (a named tool_choice is `required` over
    that one tool); under `none` it answers in text that does not open a call. Calls are written in the tool-call format
    of `reference_server.tools` and at most one is made unless `parallel`.
    """

    kind: StructureKind
    schema: Mapping[str, Any] | None = None
    tools: tuple[ToolSpec, ...] = ()
    mode: ToolMode = "auto"
    parallel: bool = True


@dataclass(frozen=True)
class GenerationRequest:
    """One sequence to generate. `n` choices are `n` requests with seeds `seed + i`."""

    prompt_ids: Sequence[int]
    max_tokens: int
    temperature: float = 1.0  # 0 is greedy
    top_p: float = 1.0
    seed: int | None = None
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    top_logprobs: int | None = None  # None: no logprobs; k >= 0: the chosen token's and k alternatives
    structure: Structure | None = None  # JSON, a JSON Schema or tool calls (None: free text)
    ignore_eos: bool = False


@dataclass(frozen=True)
class TokenLogprob:
    token: str
    logprob: float
    bytes: list[int] | None = None


@dataclass(frozen=True)
class TokenDelta:
    """One generated token as it is produced."""

    token_id: int
    text: str  # the text this token adds (may be "" while a multi-byte character is incomplete)
    logprob: float | None = None
    top_logprobs: list[TokenLogprob] = field(default_factory=list)
    finish_reason: FinishReason | None = None  # set on the last delta only


@runtime_checkable
class Engine(Protocol):
    """A chat/completions model and an embedding model, behind one small interface."""

    model_name: str
    embedding_model_name: str

    def status(self) -> ModelStatus: ...

    def tokenize(self, text: str) -> list[int]: ...

    def detokenize(self, ids: Sequence[int]) -> str: ...

    def chat_prompt(self, messages: Sequence[ChatMessage], tools: Sequence[ToolSpec] = ()) -> list[int]:
        """Token ids of the model's own chat template, ending with the assistant turn's opening;
        `tools` are described to the model the way its template does."""
        ...

    def check_structure(self, structure: Structure) -> None:
        """Raise APIError (400, naming the parameter) when `structure` cannot be enforced."""
        ...

    def generate(self, request: GenerationRequest) -> AsyncIterator[TokenDelta]:
        """Yield token deltas as they are produced; the last one carries `finish_reason`.

        Cancelling the consumer (a client that disconnects) must free the request's slot at once.
        """
        ...

    def embedding_dimensions(self) -> int: ...

    async def embed(self, inputs: Sequence[str | Sequence[int]]) -> list[list[float]]:
        """Unit-normalised embeddings, one per input, in order. Token-id inputs are detokenized
        with the embedding model's own tokenizer."""
        ...

    def count_embedding_tokens(self, inputs: Sequence[str | Sequence[int]]) -> int: ...

    async def close(self) -> None: ...
