"""Crash safety: SIGKILL a serving gateway under 240 concurrent requests, restart it, audit the ledger.

The server is the reference app itself (`python -m reference_server --engine scripted --persona openai`:
`create_app(..., gateway=...)` behind the persona's adapter) in a subprocess on a free loopback port.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from _repo import REPO_ROOT

ADMIN = {"X-Admin-Key": "adm_crash_test_admin"}
MODEL = "scripted-chat"
INITIAL_MICROS = 50_000_000
REQUESTS = 240
KILL_AFTER_COMPLETED = 70  # kill once this many responses are complete: well inside the run
TOKEN_DELAY_MS = "200"  # per token: responses spread over seconds, so the kill lands mid-run


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    base_url: str

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_server(db: Path, log: Path) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "reference_server", "--engine", "scripted", "--persona", "openai",
               "--gateway-db", str(db), "--port", str(port), "--admin-key", ADMIN["X-Admin-Key"],
               "--token-delay-ms", TOKEN_DELAY_MS, "--log-level", "warning"]  # fmt: skip
    with log.open("ab") as out:
        process = subprocess.Popen(command, cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT)
    server = Server(process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"{server.base_url}/admin/keys/none", headers=ADMIN, timeout=1).status_code == 404:
                return server
        except httpx.TransportError:
            time.sleep(0.1)
    server.stop()
    raise RuntimeError("server did not start within 30 s")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[Server]]:
    started: list[Server] = []
    yield started
    for server in started:
        server.stop()


@dataclass
class Outcome:
    request_id: str | None = None
    completed: bool = False  # the whole response arrived (unary body parsed, or the stream's [DONE])
    received: bytes = b""  # what arrived (streams: the frames sent before a kill cut it)

    @property
    def content_frames(self) -> int:
        return self.received.count(b'"delta":{"content":"') - self.received.count(b'"delta":{"content":""')


async def fire(base_url: str, key: str, kill: Callable[[], None]) -> list[Outcome]:
    outcomes = [Outcome() for _ in range(REQUESTS)]
    completed = 0
    enough = asyncio.Event()
    limits = httpx.Limits(max_connections=REQUESTS, max_keepalive_connections=REQUESTS)
    async with httpx.AsyncClient(base_url=base_url, limits=limits, timeout=30) as client:

        async def one(i: int) -> None:
            nonlocal completed
            body = {
                "model": MODEL,
                "messages": [{"role": "user", "content": f"request {i}"}],
                "max_tokens": 24,
                "stream": i % 4 == 0,
            }
            headers = {"Authorization": f"Bearer {key}"}
            try:
                async with client.stream(
                    "POST", "/v1/chat/completions", headers=headers, json=body
                ) as response:
                    outcomes[i].request_id = response.headers.get("x-request-id")
                    async for part in response.aiter_bytes():
                        outcomes[i].received += part
                    raw = outcomes[i].received
                    if response.status_code != 200:
                        return
                    if body["stream"]:
                        outcomes[i].completed = raw.endswith(b"data: [DONE]\n\n")
                    else:
                        outcomes[i].completed = json.loads(raw)["object"] == "chat.completion"
            except (httpx.TransportError, json.JSONDecodeError):
                return
            if outcomes[i].completed:
                completed += 1
                if completed >= KILL_AFTER_COMPLETED:
                    enough.set()

        async def killer() -> None:
            await asyncio.wait_for(enough.wait(), timeout=60)
            kill()

        await asyncio.wait_for(asyncio.gather(killer(), *(one(i) for i in range(REQUESTS))), timeout=120)
    return outcomes


def ledger_rows(db: Path, account_id: str) -> tuple[list[tuple[str, int]], list[tuple[str, int]], int, int]:
    """The account's usage rows, debits, grants and balance, read from the file (the server also
    seeds an account of its own for its generated key)."""
    with sqlite3.connect(db) as conn:
        usage = conn.execute("SELECT request_id, cost_micros FROM usage WHERE account_id = ?", (account_id,))
        debits = conn.execute(
            "SELECT request_id, -amount_micros FROM transactions"
            " WHERE kind = 'debit' AND account_id = ? ORDER BY id",
            (account_id,),
        ).fetchall()
        grants = conn.execute(
            "SELECT COALESCE(SUM(amount_micros), 0) FROM transactions WHERE kind != 'debit' AND account_id = ?",
            (account_id,),
        ).fetchone()[0]
        balance = conn.execute("SELECT balance_micros FROM accounts WHERE id = ?", (account_id,)).fetchone()[
            0
        ]
        return usage.fetchall(), debits, grants, balance


@pytest.mark.slow
def test_sigkill_under_concurrent_load_loses_nothing(tmp_path: Path, servers: list[Server]) -> None:
    db, log = tmp_path / "gateway.db", tmp_path / "server.log"
    servers.append(start_server(db, log))
    created = httpx.post(
        f"{servers[0].base_url}/admin/keys",
        headers=ADMIN,
        json={"credit_micros": INITIAL_MICROS, "rate_limit": "100000/minute"},
        timeout=10,
    ).json()

    def kill() -> None:
        os.kill(servers[0].process.pid, signal.SIGKILL)

    outcomes = asyncio.run(fire(servers[0].base_url, created["key"], kill))
    servers[0].process.wait(timeout=10)
    assert servers[0].process.returncode == -signal.SIGKILL

    done = [o for o in outcomes if o.completed]
    assert len(done) >= KILL_AFTER_COMPLETED
    assert len(done) < REQUESTS, "every request finished before the kill: it was not in the middle"
    assert any(o.completed for o in outcomes[::4]), "no stream finished before the kill"

    servers.append(start_server(db, log))  # restart on the same database
    ledger = httpx.get(
        f"{servers[1].base_url}/admin/ledger?key_id={created['id']}", headers=ADMIN, timeout=10
    ).json()
    usage, debits, granted, balance = ledger_rows(db, created["account_id"])

    assert granted == INITIAL_MICROS
    assert balance == ledger["balance_micros"] == INITIAL_MICROS - sum(cost for _, cost in debits)
    assert sorted(usage) == sorted(debits), "a usage row without its debit, or a debit without its usage row"
    assert len({request_id for request_id, _ in debits}) == len(debits), "a request debited twice"
    logged = {request_id for request_id, _ in usage}
    missing = [o.request_id for o in done if o.request_id not in logged]
    assert not missing, f"{len(missing)} requests answered 200 before the kill were not logged"
    assert ledger["audit"]["consistent"] is True

    # streams cut by the kill were billed for what they had sent (recorded as sent, at most every
    # 0.5 s: a stream that had shown two tokens, 200 ms apart, was recorded after its first)
    cut = [o for o in outcomes[::4] if not o.completed and o.request_id and o.content_frames >= 2]
    assert cut, "no stream was cut in the middle by the kill"
    with sqlite3.connect(db) as conn:
        billed = dict(conn.execute("SELECT request_id, completion_tokens FROM usage").fetchall())
    unbilled = [o.request_id for o in cut if billed.get(o.request_id, 0) < 1]
    assert not unbilled, f"{len(unbilled)} of {len(cut)} streams cut by the kill were not billed"

    # the restarted server serves the same key from the same balance
    after = httpx.post(
        f"{servers[1].base_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {created['key']}"},
        json={"model": MODEL, "messages": [{"role": "user", "content": "after restart"}], "max_tokens": 4},
        timeout=10,
    )
    assert after.status_code == 200
    _, debits_after, _, balance_after = ledger_rows(db, created["account_id"])
    assert len(debits_after) == len(debits) + 1
    assert balance_after == balance - debits_after[-1][1]
