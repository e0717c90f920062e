"""Model discovery: with no `--model`, the suite asks the target which models it has and probes them.

`discover(target)` lists `/models` (where the profile declares it), then sends each listed model the
smallest chat request and the smallest embeddings request, until one of each is served: the first
chat model and the first embedding model that answer 2xx are the ones the run uses. Ids that name
embeddings are tried for embeddings first and for chat last. Every probe goes through the target, so
it counts against `--max-requests` and its rate limit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .target import RequestBudgetExhausted, Target

MAX_PROBED = 8  # models tried per kind: a paid target is not walked through a catalogue
_EMBEDDING_HINTS = ("embed", "e5-", "bge", "minilm", "gte-", "nomic")


@dataclass
class Discovery:
    model: str | None = None
    embedding_model: str | None = None
    listed: list[str] = field(default_factory=list)
    probed: int = 0
    note: str = ""

    def summary(self) -> str:
        """One line for the console and the report: what was picked, and how."""
        if self.note:
            return f"model discovery: {self.note}"
        chat = self.model or "none served a chat request"
        embed = self.embedding_model or "none served an embeddings request"
        return (
            f"model discovery: {len(self.listed)} model(s) listed at /models, {self.probed} probe(s); "
            f"chat model {chat}; embedding model {embed}"
        )

    def as_json(self) -> dict[str, Any]:
        return {"model": self.model, "embedding_model": self.embedding_model, "listed": self.listed[:50],
                "probes": self.probed, "summary": self.summary()}  # fmt: skip


def discover(target: Target, *, want_chat: bool = True, want_embeddings: bool = True) -> Discovery:
    """Find a chat and an embedding model on `target` (see the module doc)."""
    found = Discovery()
    if not target.profile.declares("models"):
        found.note = f"profile {target.profile.name!r} declares no model list; give --model"
        return found
    try:
        listing = target.get("models")
    except RequestBudgetExhausted:
        found.note = "--max-requests left no room to list the models"
        return found
    data = listing.json.get("data") if isinstance(listing.json, dict) else None
    found.listed = [m["id"] for m in data or [] if isinstance(m, dict) and isinstance(m.get("id"), str)]
    if not found.listed:
        found.note = f"GET /models listed no model (status {listing.status}); give --model"
        return found
    embedding_first = sorted(found.listed, key=lambda m: not _looks_like_embeddings(m))
    try:
        if want_chat and target.profile.declares("chat"):
            found.model = _first_served(target, found, list(reversed(embedding_first)), _chat_probe)
        if want_embeddings and target.profile.declares("embeddings"):
            found.embedding_model = _first_served(target, found, embedding_first, _embeddings_probe)
    except RequestBudgetExhausted:
        found.note = "--max-requests ran out while probing the listed models"
    return found


def _looks_like_embeddings(model: str) -> bool:
    return any(hint in model.lower() for hint in _EMBEDDING_HINTS)


def _first_served(target: Target, found: Discovery, candidates: list[str], probe: Any) -> str | None:
    for model in candidates[:MAX_PROBED]:
        found.probed += 1
        answer = probe(target, model)
        if answer.status is not None and 200 <= answer.status < 300 and isinstance(answer.json, dict):
            return model
    return None


def _chat_probe(target: Target, model: str) -> Any:
    body = {"model": model, "messages": [{"role": "user", "content": "Say hi."}], "max_tokens": 1}
    return target.chat(body)


def _embeddings_probe(target: Target, model: str) -> Any:
    return target.embeddings({"model": model, "input": "hi"})
