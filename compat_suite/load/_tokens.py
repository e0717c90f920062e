"""Counting the tokens of a piece of streamed text, for per-token ITL (`--tokenizer`).

Used only where the target reports no per-chunk usage and an event may carry several tokens. The
count comes from a Hugging Face `tokenizer.json` (the `tokenizers` library, no model hub): give
the target model's own tokenizer, since another one counts differently.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path


def token_counter(path: str | Path) -> Callable[[str], int]:
    """A function counting the tokens of a text with the tokenizer at `path` (a file or its folder)."""
    from tokenizers import Tokenizer  # only when asked for: the [load] extra carries it

    source = Path(path)
    if source.is_dir():
        source = source / "tokenizer.json"
    if not source.is_file():
        raise ValueError(f"--tokenizer: no tokenizer.json at {path}")
    tokenizer = Tokenizer.from_file(str(source))

    def count(text: str) -> int:
        return len(tokenizer.encode(text, add_special_tokens=False).ids)

    return count
