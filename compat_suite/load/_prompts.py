"""The prompt dataset a load run draws from (prompts.jsonl beside this module by default)."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

DEFAULT_PROMPTS = Path(__file__).with_name("prompts.jsonl")


@dataclass(frozen=True)
class Prompt:
    id: str
    length: str  # short | medium | long
    prompt: str


def load_prompts(path: Path | str = DEFAULT_PROMPTS) -> list[Prompt]:
    """Every prompt in a JSON-lines file of `{"id", "length", "prompt"}` objects."""
    out = []
    with Path(path).open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                out.append(Prompt(str(row["id"]), str(row.get("length", "short")), str(row["prompt"])))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{n}: not a prompt row: {exc}") from None
    if not out:
        raise ValueError(f"{path}: no prompts")
    return out


def prompt_cycle(prompts: list[Prompt], start: int = 0) -> Iterator[str]:
    """The prompts' texts in order, forever, starting at `start` (so users do not move in lockstep)."""
    k = start % len(prompts)
    return (p.prompt for p in itertools.chain(prompts[k:], itertools.cycle(prompts)))
