"""Rows of the gateway's database as values: a stored key, a settled request, a ledger row."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KeyRecord:
    """A stored key: everything but the raw key, which is never stored."""

    id: str
    account_id: str
    key_hash: str
    display_prefix: str
    last4: str
    name: str | None
    model: str | None
    rate_limit: str | None
    allowed_ips: tuple[str, ...]
    created_at: float
    revoked_at: float | None
    account_active: bool
    balance_micros: int

    def public(self) -> dict[str, Any]:
        """The listing shape: a prefix and last characters, never the raw key or its hash."""
        return {
            "id": self.id,
            "object": "api_key",
            "name": self.name,
            "prefix": self.display_prefix,
            "redacted_value": f"{self.display_prefix}...{self.last4}",
            "model": self.model,
            "rate_limit": self.rate_limit,
            "allowed_ips": list(self.allowed_ips),
            "created_at": int(self.created_at),
            "revoked_at": None if self.revoked_at is None else int(self.revoked_at),
            "status": "revoked" if self.revoked_at is not None else "active",
        }


@dataclass(frozen=True)
class UsageEntry:
    """One settled request: what `Store.settle` writes as a usage row plus its debit."""

    request_id: str
    account_id: str
    key_id: str
    endpoint: str
    model: str | None
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    cost_micros: int
    latency_ms: float
    status: int


# What a KeyRecord is read from: a key joined with its account (add the WHERE).
SELECT_KEYS = (
    "SELECT k.id, k.account_id, k.key_hash, k.display_prefix, k.last4, k.name, k.model, k.rate_limit,"
    " k.allowed_ips, k.created_at, k.revoked_at, a.active, a.balance_micros"
    " FROM api_keys k JOIN accounts a ON a.id = k.account_id"
)


def key_record(row: sqlite3.Row) -> KeyRecord:
    """A row of SELECT_KEYS as a KeyRecord."""
    return KeyRecord(
        id=row["id"],
        account_id=row["account_id"],
        key_hash=row["key_hash"],
        display_prefix=row["display_prefix"],
        last4=row["last4"],
        name=row["name"],
        model=row["model"],
        rate_limit=row["rate_limit"],
        allowed_ips=tuple(json.loads(row["allowed_ips"])) if row["allowed_ips"] else (),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
        account_active=bool(row["active"]),
        balance_micros=int(row["balance_micros"]),
    )


def transaction_object(row: sqlite3.Row) -> dict[str, Any]:
    """A ledger row in the API's `credit_transaction` shape."""
    return {
        "id": row["id"],
        "object": "credit_transaction",
        "type": row["kind"],
        "amount_micros": row["amount_micros"],
        "key_id": row["key_id"],
        "request_id": row["request_id"],
        "description": row["note"],
        "created_at": int(row["created_at"]),
    }
