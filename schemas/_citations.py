"""Citations: `<doc file>:<line> "<quoted text>"`, and the provider documents they point into.

The documents live beside a checkout (`../shared`) or where $COMPAT_SUITE_SHARED_DIR says; loading a
profile never needs them, only checking its citations does.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SHARED_DIR_ENV = "COMPAT_SUITE_SHARED_DIR"
_CITE = re.compile(r'^(?P<file>[A-Za-z0-9_./-]+):(?P<line>[1-9][0-9]*) "(?P<quote>.+)"$')
# A checkout keeps the shared folder beside it: <shared>/.. holds the repository, which holds schemas/.
_CHECKOUT_SHARED = Path(__file__).resolve().parent.parent.parent / "shared"


@dataclass(frozen=True)
class Citation:
    """`<doc file>:<line> "<text on that line>"`: where a profile entry's claim is written."""

    file: str
    line: int
    quote: str

    @classmethod
    def parse(cls, text: str) -> Citation:
        match = _CITE.match(text)
        if match is None:
            raise ValueError(f'not a citation (want <file>:<line> "<quoted text>"): {text!r}')
        return cls(match["file"], int(match["line"]), match["quote"])

    def __str__(self) -> str:
        return f'{self.file}:{self.line} "{self.quote}"'

    def problem(self, docs_root: Path) -> str | None:
        """Why this citation does not hold in the docs under `docs_root`, or None when it does."""
        path = resolve_doc(self.file, docs_root)
        if not path.is_file():
            return f"{self.file}: no such document under {docs_root}"
        lines = doc_lines(path)
        if self.line > len(lines):
            return f"{self.file}:{self.line}: the document has {len(lines)} lines"
        if self.quote not in lines[self.line - 1]:
            return f"{self}: not on that line, which reads {lines[self.line - 1]!r}"
        return None


def shared_docs_dir() -> Path | None:
    """The shared reference folder ($COMPAT_SUITE_SHARED_DIR, or ../shared beside a checkout)."""
    configured = os.environ.get(SHARED_DIR_ENV)
    candidate = Path(configured) if configured else _CHECKOUT_SHARED
    return candidate if candidate.is_dir() else None


def resolve_doc(file: str, docs_root: Path) -> Path:
    """A cited file: a bare name is a provider doc; a path is relative to the shared folder."""
    return docs_root / file if "/" in file else docs_root / "provider-docs" / file


def doc_lines(path: Path) -> tuple[str, ...]:
    return tuple(path.read_text(encoding="utf-8").splitlines())


def walk_cites(node: Any, where: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            here = f"{where}.{key}" if where else str(key)
            if str(key) == "cite" or str(key).endswith("_cite"):
                if isinstance(value, str):
                    yield here, value
            else:
                yield from walk_cites(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk_cites(value, f"{where}[{i}]")
