"""The gateway database's tables (the reservations table is `_reservations`'s)."""

from __future__ import annotations

from . import _reservations

SCHEMA = (
    _reservations.SCHEMA
    + """
CREATE TABLE IF NOT EXISTS accounts (
    id TEXT PRIMARY KEY,
    active INTEGER NOT NULL DEFAULT 1,
    balance_micros INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    key_hash TEXT NOT NULL UNIQUE,
    display_prefix TEXT NOT NULL,
    last4 TEXT NOT NULL,
    name TEXT,
    model TEXT,
    rate_limit TEXT,
    allowed_ips TEXT,
    created_at REAL NOT NULL,
    revoked_at REAL,
    UNIQUE (account_id, name)
);
CREATE TABLE IF NOT EXISTS transactions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    key_id TEXT,
    kind TEXT NOT NULL CHECK (kind IN ('grant', 'adjustment', 'debit')),
    amount_micros INTEGER NOT NULL,
    request_id TEXT UNIQUE,
    note TEXT,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS transactions_by_account ON transactions (account_id, id);
CREATE TABLE IF NOT EXISTS usage (
    request_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    key_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    model TEXT,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    total_tokens INTEGER NOT NULL,
    cost_micros INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    status INTEGER NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS usage_by_account ON usage (account_id, created_at);
CREATE TABLE IF NOT EXISTS traces (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    created_at REAL NOT NULL,
    record TEXT NOT NULL
);
"""
)
