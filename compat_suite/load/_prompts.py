"""What a load run sends: conversations drawn from a prompt file or a ShareGPT-format dataset.

`--dataset FILE` takes
- JSON lines of prompts: `{"prompt": "..."}` (or `"text"`; `"id"` optional) — prompts.jsonl beside
  this module is the default set;
- a ShareGPT-format file (a JSON array, or JSON lines) of `{"conversations": [{"from": "human",
  "value": "..."}, {"from": "gpt", ...}, ...]}` (`"messages"` with OpenAI `role`/`content` too).

`--turns first` sends each conversation's first user turn alone; `--turns all` sends every user
turn in order, each with the history so far — the user's earlier turns and the target's own
answers to them — so the prompt grows turn by turn and shares its prefix with the last one (what
prefix caching serves); `--turns N` keeps at most N user turns, and for a prompt file makes
conversations of N consecutive prompts.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

DEFAULT_PROMPTS = Path(__file__).with_name("prompts.jsonl")
_USER = {"human", "user"}
_ROLES = {"human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant", "system": "system"}


@dataclass(frozen=True)
class Conversation:
    id: str
    turns: tuple[str, ...]  # the user's messages, in order
    system: str | None = None


def parse_turns(spec: str | int | None) -> int | None:
    """`first` -> 1, `all` -> None (no limit), `N` -> N."""
    if spec in (None, "", "first"):
        return 1
    if spec == "all":
        return None
    try:
        n = int(spec)
    except (TypeError, ValueError):
        raise ValueError(f"--turns {spec!r}: want first, all or a number of turns") from None
    if n < 1:
        raise ValueError("--turns must be at least 1")
    return n


def _rows(path: Path) -> list[Any]:
    text = path.read_text(encoding="utf-8")
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ValueError(f"{path}: not JSON: {exc}") from None
        return list(data)
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                rows.append(json.loads(line))
            except ValueError as exc:
                raise ValueError(f"{path}:{n}: not a JSON line: {exc}") from None
    return rows


def _conversation(row: Any, n: int, limit: int | None) -> Conversation | None:
    """One dataset row as a conversation; None for a row with no user turn."""
    if not isinstance(row, dict):
        raise ValueError(f"row {n}: not a JSON object")
    ident = str(row.get("id", n))
    turns = row.get("conversations", row.get("messages"))
    if turns is None:
        text = row.get("prompt", row.get("text"))
        if not isinstance(text, str):
            raise ValueError(f"row {n}: no prompt, text, conversations or messages")
        return Conversation(ident, (text,))
    if not isinstance(turns, list):
        raise ValueError(f"row {n}: conversations is not a list")
    system = None
    users: list[str] = []
    for turn in turns:
        if not isinstance(turn, dict):
            continue
        role = _ROLES.get(str(turn.get("from", turn.get("role", ""))).lower())
        text = turn.get("value", turn.get("content"))
        if not isinstance(text, str):
            continue
        if role == "system" and not users:
            system = text
        elif role == "user":
            users.append(text)
    if not users:
        return None
    return Conversation(ident, tuple(users[:limit] if limit else users), system)


def load_conversations(
    path: Path | str | None = None, turns: str | int | None = "first"
) -> list[Conversation]:
    """The conversations of a dataset (default: prompts.jsonl), each cut to `turns` user turns."""
    source = Path(path) if path else DEFAULT_PROMPTS
    limit = parse_turns(turns)
    try:
        rows = _rows(source)
    except OSError as exc:
        raise ValueError(f"{source}: {exc.strerror or exc}") from None
    out = []
    for n, row in enumerate(rows, 1):
        try:
            conv = _conversation(row, n, limit)
        except ValueError as exc:
            raise ValueError(f"{source}: {exc}") from None
        if conv is not None:
            out.append(conv)
    if not out:
        raise ValueError(f"{source}: no prompts or user turns")
    single = all(len(c.turns) == 1 for c in out)
    if single and limit and limit > 1:  # a prompt file: N consecutive prompts make one conversation
        out = [
            Conversation(f"{group[0].id}+{len(group)}", tuple(c.turns[0] for c in group))
            for group in (out[i : i + limit] for i in range(0, len(out), limit))
        ]
    return out


def conversation_cycle(conversations: list[Conversation], start: int = 0) -> Iterator[Conversation]:
    """The conversations in order, forever, from `start` (so users do not move in lockstep)."""
    k = start % len(conversations)
    return itertools.chain(conversations[k:], itertools.cycle(conversations))


class Dialogue:
    """One user's place in its conversations: the messages to send next, and the history they grow."""

    def __init__(self, conversations: Iterator[Conversation]) -> None:
        self._conversations = conversations
        self._current: Conversation | None = None
        self._turn = 0
        self._history: list[dict[str, str]] = []

    def next_messages(self) -> list[dict[str, str]]:
        """The messages of the next request: the history so far and the next user turn."""
        if self._current is None or self._turn >= len(self._current.turns):
            self._current = next(self._conversations)
            self._turn = 0
            self._history = (
                [{"role": "system", "content": self._current.system}] if self._current.system else []
            )
        self._history.append({"role": "user", "content": self._current.turns[self._turn]})
        self._turn += 1
        return list(self._history)

    def pending(self) -> bool:
        """The current conversation has turns left."""
        return self._current is not None and self._turn < len(self._current.turns)

    def answered(self, text: str | None) -> None:
        """The target's answer to the last turn joins the history (an empty one when it failed)."""
        if self._current is not None and self._turn < len(self._current.turns):
            self._history.append({"role": "assistant", "content": text or ""})
