"""Credit reservations: the most a request can cost, held before it runs and released when it settles.

A request is admitted only if its account's balance, less what the requests still running hold,
covers the request's own most (its prompt and every token it may generate, at the price). That
check and the hold are one transaction, and so are the settle and the release, so the balance
never goes below zero however many requests race for the last credit.

A stream records what it has sent as it goes (`record_progress`). A reservation left behind by a
process that died (SIGKILL, a crash) is settled when the gateway next opens the database: billed
for what was recorded as sent, so that a stream cut by a crash is billed like one cut by its client.
Each reservation names its owner (pid and a per-process token), so that a gateway sharing the file
never settles a live sibling's requests.
"""

from __future__ import annotations

import os
import secrets
import sqlite3
import time
from dataclasses import dataclass

SCHEMA = """
CREATE TABLE IF NOT EXISTS reservations (
    request_id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    key_id TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    model TEXT,
    amount_micros INTEGER NOT NULL,
    sent INTEGER NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    owner TEXT NOT NULL,
    created_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS reservations_by_account ON reservations (account_id);
"""
OWNER = f"{os.getpid()}:{secrets.token_hex(6)}"  # this process


@dataclass(frozen=True)
class Reservation:
    request_id: str
    account_id: str
    key_id: str
    endpoint: str
    model: str | None
    amount_micros: int


@dataclass(frozen=True)
class Orphan:
    """A reservation whose process died: what it had recorded as sent."""

    reservation: Reservation
    sent: bool
    prompt_tokens: int
    completion_tokens: int
    age_s: float


def held(db: sqlite3.Connection, account_id: str) -> int:
    row = db.execute(
        "SELECT COALESCE(SUM(amount_micros), 0) FROM reservations WHERE account_id = ?", (account_id,)
    ).fetchone()
    return int(row[0])


def hold(db: sqlite3.Connection, reservation: Reservation, balance: int) -> bool:
    """Hold `reservation` if the balance less what is held covers it; inside the caller's transaction."""
    available = balance - held(db, reservation.account_id)
    if available <= 0 or reservation.amount_micros > available:
        return False
    db.execute(
        "INSERT INTO reservations (request_id, account_id, key_id, endpoint, model, amount_micros, owner,"
        " created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            reservation.request_id,
            reservation.account_id,
            reservation.key_id,
            reservation.endpoint,
            reservation.model,
            reservation.amount_micros,
            OWNER,
            time.time(),
        ),
    )
    return True


def release(db: sqlite3.Connection, request_id: str) -> int | None:
    """Drop the request's reservation; the amount it held, or None when it had none."""
    row = db.execute("SELECT amount_micros FROM reservations WHERE request_id = ?", (request_id,)).fetchone()
    if row is None:
        return None
    db.execute("DELETE FROM reservations WHERE request_id = ?", (request_id,))
    return int(row[0])


def record_progress(
    db: sqlite3.Connection, request_id: str, prompt_tokens: int, completion_tokens: int
) -> None:
    db.execute(
        "UPDATE reservations SET sent = 1, prompt_tokens = ?, completion_tokens = ? WHERE request_id = ?",
        (prompt_tokens, completion_tokens, request_id),
    )


def orphans(db: sqlite3.Connection) -> list[Orphan]:
    """Reservations of processes that are gone (another pid that no longer runs, or this pid with
    another token: a restarted process that got the same pid, as PID 1 in a container does)."""
    rows = db.execute("SELECT * FROM reservations WHERE owner != ?", (OWNER,)).fetchall()
    now = time.time()
    return [
        Orphan(
            Reservation(
                row["request_id"],
                row["account_id"],
                row["key_id"],
                row["endpoint"],
                row["model"],
                int(row["amount_micros"]),
            ),
            bool(row["sent"]),
            int(row["prompt_tokens"]),
            int(row["completion_tokens"]),
            now - float(row["created_at"]),
        )
        for row in rows
        if not _alive(row["owner"])
    ]


def _alive(owner: str) -> bool:
    pid_text, _, _ = owner.partition(":")
    try:
        pid = int(pid_text)
    except ValueError:
        return False
    if pid == os.getpid():
        return False  # ours is OWNER; the same pid with another token is a previous life
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # runs, as another user
    return True
