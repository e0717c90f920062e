"""The gateway's durable state: accounts, hashed keys, the credit ledger, usage and traces, in SQLite.

One connection, guarded by a lock, is the single writer: every change is one `BEGIN IMMEDIATE`
transaction, so concurrent requests can neither lose nor double a ledger entry. A debit and its
usage row are written in the same transaction, keyed by the request id (unique in both tables),
which makes settling idempotent and a crash unable to leave one without the other.

Durability: WAL mode. With `synchronous=NORMAL` a commit has reached the WAL file (the OS page
cache) before `COMMIT` returns, so a killed process (SIGKILL) loses nothing that committed; only a
power loss can drop the last few commits. `synchronous=FULL` adds an fsync per commit for that case.

The balance is stored on the account for a cheap read, and updated in the same transaction as the
ledger row that changes it; `audit()` proves it equals the sum of the ledger.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from . import _reservations
from ._records import SELECT_KEYS, KeyRecord, UsageEntry, key_record, transaction_object
from ._reservations import Orphan, Reservation
from ._schema import SCHEMA

MAX_MICROS = 2**63 - 1  # SQLite's INTEGER: a balance past it would silently become a float


class BalanceOverflow(ValueError):
    """A credit change would take the balance outside what an integer column holds."""


class Conflict(Exception):
    """A uniqueness rule was broken (e.g. a key name that exists in the account)."""


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


class Store:
    """Synchronous, thread-safe access to the gateway's SQLite database (call it off the event loop)."""

    def __init__(self, path: str | Path, *, synchronous: str = "NORMAL") -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        # isolation_level=None: we issue BEGIN IMMEDIATE ourselves, so a writer takes the lock up front.
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute(f"PRAGMA synchronous={synchronous.upper()}")
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.execute("PRAGMA busy_timeout=5000")  # another process on the same file (a replica, a test)
        with self._lock:
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            yield self._db

    # -- accounts and credits ------------------------------------------------------------------
    def create_account(self, credit_micros: int = 0, *, account_id: str | None = None) -> str:
        account_id = account_id or new_id("acct")
        with self._write() as db:
            db.execute("INSERT INTO accounts (id, created_at) VALUES (?, ?)", (account_id, time.time()))
            if credit_micros:
                _append(db, account_id, None, "grant", credit_micros, None, "initial credit")
        return account_id

    def account_exists(self, account_id: str) -> bool:
        with self._read() as db:
            return db.execute("SELECT 1 FROM accounts WHERE id = ?", (account_id,)).fetchone() is not None

    def grant(
        self, account_id: str, amount_micros: int, *, key_id: str | None = None, note: str = "grant"
    ) -> int:
        """Add credit (a `grant` ledger row); returns the new balance."""
        with self._write() as db:
            _require_account(db, account_id)
            _append(db, account_id, key_id, "grant", amount_micros, None, note)
            return _balance(db, account_id)

    def set_balance(self, account_id: str, balance_micros: int, *, key_id: str | None = None) -> int:
        """Bring the balance to a value with one `adjustment` row (the ledger stays the whole story)."""
        with self._write() as db:
            _require_account(db, account_id)
            delta = balance_micros - _balance(db, account_id)
            if delta:
                _append(db, account_id, key_id, "adjustment", delta, None, "balance set by admin")
            return _balance(db, account_id)

    def set_account_active(self, account_id: str, active: bool) -> None:
        with self._write() as db:
            _require_account(db, account_id)
            db.execute("UPDATE accounts SET active = ? WHERE id = ?", (int(active), account_id))

    def balance(self, account_id: str) -> int:
        with self._read() as db:
            return _balance(db, account_id)

    def transactions(
        self, account_id: str, *, key_id: str | None = None, limit: int = 100, after: int | None = None
    ) -> list[dict[str, Any]]:
        where, args = _of_account(account_id, key_id)
        query = "SELECT * FROM transactions" + where
        if after is not None:
            query += " AND id > ?"
            args.append(after)
        query += " ORDER BY id LIMIT ?"
        args.append(limit)
        with self._read() as db:
            return [transaction_object(row) for row in db.execute(query, args)]

    # -- keys -----------------------------------------------------------------------------------
    def create_key(
        self,
        account_id: str,
        *,
        key_hash: str,
        display_prefix: str,
        last4: str,
        name: str | None = None,
        model: str | None = None,
        rate_limit: str | None = None,
        allowed_ips: Sequence[str] = (),
    ) -> KeyRecord:
        key_id = new_id("key")
        try:
            with self._write() as db:
                _require_account(db, account_id)
                db.execute(
                    "INSERT INTO api_keys (id, account_id, key_hash, display_prefix, last4, name, model,"
                    " rate_limit, allowed_ips, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        key_id,
                        account_id,
                        key_hash,
                        display_prefix,
                        last4,
                        name,
                        model,
                        rate_limit,
                        json.dumps(list(allowed_ips)) if allowed_ips else None,
                        time.time(),
                    ),
                )
        except sqlite3.IntegrityError as exc:
            if "api_keys.name" in str(exc):
                raise Conflict(f"an API key named {name!r} already exists in this account") from exc
            raise
        record = self.get_key(key_id)
        assert record is not None
        return record

    def find_key_by_hash(self, key_hash: str) -> KeyRecord | None:
        with self._read() as db:
            row = db.execute(SELECT_KEYS + " WHERE k.key_hash = ?", (key_hash,)).fetchone()
        return key_record(row) if row else None

    def get_key(self, key_id: str) -> KeyRecord | None:
        with self._read() as db:
            row = db.execute(SELECT_KEYS + " WHERE k.id = ?", (key_id,)).fetchone()
        return key_record(row) if row else None

    def list_keys(self, account_id: str) -> list[KeyRecord]:
        with self._read() as db:
            rows = db.execute(
                SELECT_KEYS + " WHERE k.account_id = ? ORDER BY k.created_at, k.id", (account_id,)
            ).fetchall()
        return [key_record(row) for row in rows]

    def revoke_key(self, key_id: str) -> KeyRecord | None:
        """Revoke for good: `revoked_at` is set once and never cleared (no method clears it)."""
        with self._write() as db:
            db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
                (time.time(), key_id),
            )
        return self.get_key(key_id)

    # -- reservations ---------------------------------------------------------------------------
    def reserve(self, reservation: Reservation) -> bool:
        """Hold the request's most cost if the balance less what is held covers it (one transaction)."""
        with self._write() as db:
            return _reservations.hold(db, reservation, _balance(db, reservation.account_id))

    def record_progress(self, request_id: str, prompt_tokens: int, completion_tokens: int) -> None:
        with self._write() as db:
            _reservations.record_progress(db, request_id, prompt_tokens, completion_tokens)

    def orphaned_reservations(self) -> list[Orphan]:
        with self._read() as db:
            return _reservations.orphans(db)

    # -- usage and settlement -------------------------------------------------------------------
    def settle(self, entry: UsageEntry, trace: tuple[str, dict[str, Any]] | None = None) -> bool:
        """Write the usage row, its debit (and its trace) in one transaction, releasing the request's
        reservation; False if already settled. A debit never exceeds what was reserved."""
        with self._write() as db:
            reserved = _reservations.release(db, entry.request_id)
            if reserved is not None and entry.cost_micros > reserved:
                entry = replace(entry, cost_micros=reserved)
            inserted = db.execute(
                "INSERT INTO usage (request_id, account_id, key_id, endpoint, model, prompt_tokens,"
                " completion_tokens, total_tokens, cost_micros, latency_ms, status, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (request_id) DO NOTHING",
                (
                    entry.request_id,
                    entry.account_id,
                    entry.key_id,
                    entry.endpoint,
                    entry.model,
                    entry.prompt_tokens,
                    entry.completion_tokens,
                    entry.total_tokens,
                    entry.cost_micros,
                    entry.latency_ms,
                    entry.status,
                    time.time(),
                ),
            ).rowcount
            if not inserted:
                return False
            _append(
                db,
                entry.account_id,
                entry.key_id,
                "debit",
                -entry.cost_micros,
                entry.request_id,
                entry.endpoint,
            )
            if trace is not None:
                trace_id, record = trace
                db.execute(
                    "INSERT OR REPLACE INTO traces (id, account_id, key_id, created_at, record) VALUES (?, ?, ?, ?, ?)",
                    (trace_id, entry.account_id, entry.key_id, time.time(), json.dumps(record)),
                )
            return True

    def usage(self, account_id: str, *, key_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        where, args = _of_account(account_id, key_id)
        query = "SELECT * FROM usage" + where + " ORDER BY created_at DESC, request_id LIMIT ?"
        args.append(limit)
        with self._read() as db:
            return [dict(row) for row in db.execute(query, args)]

    def usage_totals(self, account_id: str, *, key_id: str | None = None) -> dict[str, int]:
        where, args = _of_account(account_id, key_id)
        query = (
            "SELECT COUNT(*) AS requests, COALESCE(SUM(prompt_tokens), 0) AS prompt_tokens,"
            " COALESCE(SUM(completion_tokens), 0) AS completion_tokens,"
            " COALESCE(SUM(total_tokens), 0) AS total_tokens, COALESCE(SUM(cost_micros), 0) AS cost_micros"
            " FROM usage" + where
        )
        with self._read() as db:
            return dict(db.execute(query, args).fetchone())

    # -- traces ---------------------------------------------------------------------------------
    def get_trace(self, trace_id: str, account_id: str) -> dict[str, Any] | None:
        with self._read() as db:
            row = db.execute(
                "SELECT record FROM traces WHERE id = ? AND account_id = ?", (trace_id, account_id)
            ).fetchone()
        return json.loads(row["record"]) if row else None

    # -- audit ----------------------------------------------------------------------------------
    def audit(self, account_id: str) -> dict[str, Any]:
        """The ledger's invariants for one account, as numbers a test or an operator can compare."""
        with self._read() as db:
            stored = _balance(db, account_id)
            sums = db.execute(
                "SELECT COALESCE(SUM(CASE WHEN kind != 'debit' THEN amount_micros END), 0) AS credited,"
                " COALESCE(SUM(CASE WHEN kind = 'debit' THEN -amount_micros END), 0) AS debited,"
                " COUNT(CASE WHEN kind = 'debit' THEN 1 END) AS debits"
                " FROM transactions WHERE account_id = ?",
                (account_id,),
            ).fetchone()

            def count(rows: str) -> int:
                """SELECT COUNT(*) FROM `rows`, whose one parameter is the account."""
                return int(db.execute("SELECT COUNT(*) FROM " + rows, (account_id,)).fetchone()[0])

            usage_rows = count("usage WHERE account_id = ?")
            orphan_usage = count(
                "usage u LEFT JOIN transactions t ON t.request_id = u.request_id"
                " WHERE u.account_id = ? AND t.id IS NULL"
            )
            orphan_debits = count(
                "transactions t LEFT JOIN usage u ON u.request_id = t.request_id"
                " WHERE t.account_id = ? AND t.kind = 'debit' AND u.request_id IS NULL"
            )
            mismatched_cost = count(
                "usage u JOIN transactions t ON t.request_id = u.request_id"
                " WHERE u.account_id = ? AND -t.amount_micros != u.cost_micros"
            )
        return {
            "account_id": account_id,
            "balance_micros": stored,
            "credited_micros": sums["credited"],
            "debited_micros": sums["debited"],
            "debits": sums["debits"],
            "usage_rows": usage_rows,
            "usage_without_debit": orphan_usage,
            "debits_without_usage": orphan_debits,
            "debits_not_matching_cost": mismatched_cost,
            "consistent": stored == sums["credited"] - sums["debited"]
            and orphan_usage == 0
            and orphan_debits == 0
            and mismatched_cost == 0,
        }


def _of_account(account_id: str, key_id: str | None) -> tuple[str, list[Any]]:
    """The WHERE clause (and its arguments) for one account's rows, or one key's when `key_id` is given."""
    if key_id is None:
        return " WHERE account_id = ?", [account_id]
    return " WHERE account_id = ? AND key_id = ?", [account_id, key_id]


def _require_account(db: sqlite3.Connection, account_id: str) -> None:
    if db.execute("SELECT 1 FROM accounts WHERE id = ?", (account_id,)).fetchone() is None:
        raise KeyError(account_id)


def _balance(db: sqlite3.Connection, account_id: str) -> int:
    row = db.execute("SELECT balance_micros FROM accounts WHERE id = ?", (account_id,)).fetchone()
    if row is None:
        raise KeyError(account_id)
    return int(row[0])


def _append(
    db: sqlite3.Connection,
    account_id: str,
    key_id: str | None,
    kind: str,
    amount_micros: int,
    request_id: str | None,
    note: str | None,
) -> None:
    """One ledger row and the balance it moves, inside the caller's transaction."""
    if not -MAX_MICROS <= _balance_or_zero(db, account_id) + amount_micros <= MAX_MICROS:
        raise BalanceOverflow(f"the balance would pass {MAX_MICROS} micro-units")
    db.execute(
        "INSERT INTO transactions (account_id, key_id, kind, amount_micros, request_id, note, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (account_id, key_id, kind, amount_micros, request_id, note, time.time()),
    )
    db.execute(
        "UPDATE accounts SET balance_micros = balance_micros + ? WHERE id = ?", (amount_micros, account_id)
    )


def _balance_or_zero(db: sqlite3.Connection, account_id: str) -> int:
    row = db.execute("SELECT balance_micros FROM accounts WHERE id = ?", (account_id,)).fetchone()
    return 0 if row is None else int(row[0])
