"""Stored responses in SQLite: the Response object, its input items, and the conversation a
follow-up (`previous_response_id`) continues.

With a gateway the table lives in the gateway's database file (one file holds the server's state);
without one, in a database of its own (in memory unless a path is given). Each row has an owner (the
gateway account that created it, or none): another owner's response is not found, as on OpenAI, where
a response belongs to its project. One connection behind a lock; every write is one transaction.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Json = dict[str, Any]

SCHEMA = """
CREATE TABLE IF NOT EXISTS stored_responses (
    id TEXT PRIMARY KEY,
    owner TEXT,
    created_at REAL NOT NULL,
    response TEXT NOT NULL,
    input_items TEXT NOT NULL,
    context TEXT NOT NULL
);
"""


@dataclass(frozen=True)
class StoredResponse:
    response: Json
    input_items: list[Json]
    context: list[Json]  # what a follow-up continues: the earlier context, this input, this output


class ResponseStore:
    """Thread-safe access to the stored responses (small reads and writes, called off the event loop)."""

    def __init__(self, path: str | Path = ":memory:") -> None:
        self.path = str(path)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        if self.path != ":memory:":
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA busy_timeout=5000")  # the gateway writes to the same file
        with self._lock:
            self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def put(self, owner: str | None, response: Json, input_items: list[Json], context: list[Json]) -> None:
        row = (response["id"], owner, time.time(), _dumps(response), _dumps(input_items), _dumps(context))
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO stored_responses"
                " (id, owner, created_at, response, input_items, context) VALUES (?, ?, ?, ?, ?, ?)",
                row,
            )

    def get(self, response_id: str, owner: str | None) -> StoredResponse | None:
        with self._lock:
            row = self._db.execute(
                "SELECT response, input_items, context FROM stored_responses WHERE id = ? AND owner IS ?",
                (response_id, owner),
            ).fetchone()
        if row is None:
            return None
        return StoredResponse(json.loads(row[0]), json.loads(row[1]), json.loads(row[2]))

    def delete(self, response_id: str, owner: str | None) -> bool:
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM stored_responses WHERE id = ? AND owner IS ?", (response_id, owner)
            )
        return cursor.rowcount > 0


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
