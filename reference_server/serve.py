"""`compat-suite serve`: the reference server on uvicorn, and a background runner for tests.

`main` loads the engine, starts uvicorn, and prints one ready line with the base URL once the
server answers; SIGINT and SIGTERM end it cleanly with exit status 0. `BackgroundServer` runs an app
on a free loopback port in a thread of its own, for test fixtures and the suite's embedded target.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import re
import signal
import socket
import sys
import threading
import time
from collections.abc import Generator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from schemas import REDACTED, add_arguments, redact_text

from ._http11 import DEFAULT_BODY_TIMEOUT_S, DEFAULT_HEAD_TIMEOUT_S, HttpLimits
from ._secrets import redact_minted
from .app import DEFAULT_MAX_BODY_BYTES, create_app
from .auth import resolve_keys
from .engines import load_engine
from .faults import FaultSet
from .responses import ResponseStore

READY_PREFIX = "compat-suite reference server ready at "
KEY_PREFIX = "compat-suite reference server API key (generated): "
STARTUP_TIMEOUT_S = 120.0  # engine loaded already; this bounds uvicorn's own start and the first answer
logger = logging.getLogger("reference_server")


def build_parser() -> argparse.ArgumentParser:
    """The shared options (schemas/options.yaml: keys, models, engine, persona, faults, admin key),
    and the server's own."""
    parser = argparse.ArgumentParser(
        prog="compat-suite serve",
        description="Run the reference OpenAI-compatible server.",
    )
    add_arguments(parser, "serve", title="shared with compat-suite run and load")
    own = parser.add_argument_group("server")
    own.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: 127.0.0.1)")
    own.add_argument("--port", type=int, default=8000, help="port; 0 picks a free one (default: 8000)")
    own.add_argument("--api-key-file", metavar="FILE", help="file with one accepted key per line")
    own.add_argument(
        "--max-body-bytes",
        type=_positive_int,
        default=DEFAULT_MAX_BODY_BYTES,
        metavar="N",
        help=f"largest accepted request body (default: {DEFAULT_MAX_BODY_BYTES})",
    )
    own.add_argument(
        "--admin-key-file",
        metavar="FILE",
        help="--persona only: a file holding the admin key (instead of --admin-key or $COMPAT_ADMIN_KEY)",
    )
    own.add_argument(
        "--head-timeout",
        type=_positive_float,
        default=DEFAULT_HEAD_TIMEOUT_S,
        metavar="S",
        help=f"seconds a client has to send a request head (default: {DEFAULT_HEAD_TIMEOUT_S:g}); then 408",
    )
    own.add_argument(
        "--body-timeout",
        type=_positive_float,
        default=DEFAULT_BODY_TIMEOUT_S,
        metavar="S",
        help=f"seconds a client has to send a request body (default: {DEFAULT_BODY_TIMEOUT_S:g}); then 408",
    )
    own.add_argument(
        "--token-delay-ms",
        type=float,
        default=None,
        metavar="MS",
        help="scripted engine only: delay before each generated token",
    )
    own.add_argument(
        "--device", help="transformers engine only: torch device (default: cuda if present, else cpu)"
    )
    own.add_argument(
        "--gateway-db",
        metavar="PATH",
        help="the server's SQLite file: stored responses (/v1/responses), and with --persona the gateway's"
        " keys, credits and usage (default: a temporary file with --persona, memory without)",
    )
    own.add_argument(
        "--log-level",
        default="info",
        choices=("critical", "error", "warning", "info", "debug"),
        help="default: info",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the server until SIGINT or SIGTERM; 0 on a clean stop, 1 when it cannot start, 2 on usage errors."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.token_delay_ms is not None and args.engine != "scripted":
        parser.error("--token-delay-ms applies to --engine scripted only")
    if args.token_delay_ms is not None and args.token_delay_ms < 0:
        parser.error("--token-delay-ms must not be negative")
    if args.device is not None and args.engine != "transformers":
        parser.error("--device applies to --engine transformers only")
    previous = signal.signal(signal.SIGTERM, _interrupt)  # a SIGTERM while loading ends as cleanly as SIGINT
    try:
        try:
            keys = resolve_keys(args.api_key, args.api_key_file)
            faults = FaultSet(args.fault)
            args.admin_key = _admin_key(args.admin_key, args.admin_key_file)
        except (OSError, ValueError) as exc:
            print(f"compat-suite serve: {exc}", file=sys.stderr)
            return 2
        logging.basicConfig(
            level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )
        logging.getLogger("httpx").setLevel(logging.WARNING)  # the readiness probe is not news
        _redact_logs([*keys.keys, *([args.admin_key] if args.admin_key else [])])
        options: dict[str, Any] = {}
        if args.token_delay_ms is not None:
            options["token_delay_s"] = args.token_delay_ms / 1000.0
        if args.device is not None:
            options["device"] = args.device
        logger.info("loading the %s engine", args.engine)
        engine = load_engine(
            args.engine, model_name=args.model, embedding_model_name=args.embedding_model, **options
        )
        if args.persona:
            from .personas import persona_app

            try:
                app, keys = persona_app(args, engine, keys, faults)
            except ValueError as exc:
                print(f"compat-suite serve: {exc}", file=sys.stderr)
                return 2
        else:
            store = ResponseStore(args.gateway_db) if args.gateway_db else None
            app = create_app(
                engine,
                api_keys=keys.keys,
                faults=faults,
                max_body_bytes=args.max_body_bytes,
                response_store=store,
            )
        if keys.generated:
            print(KEY_PREFIX + keys.keys[0], flush=True)
        secrets = [*keys.keys, *([args.admin_key] if args.admin_key else [])]  # a persona's admin key too
        return asyncio.run(_serve(app, engine, args, secrets))
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)


async def _serve(app: ASGIApp, engine: Any, args: argparse.Namespace, secrets: Sequence[str]) -> int:
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        lifespan="off",
        timeout_graceful_shutdown=5,
        http=HttpLimits(head_timeout_s=args.head_timeout, body_timeout_s=args.body_timeout).protocol(),
    )
    _redact_logs(secrets)  # uvicorn has just configured its own handlers
    server = _Server(config)
    sock = config.bind_socket()
    base_url = _base_url(args.host, sock.getsockname()[1])
    if getattr(args, "persona", None):  # the persona's documented base path, not /v1
        from .personas import load_persona

        base_url = base_url.removesuffix("/v1") + load_persona(args.persona).base_path
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        if await _wait_ready(server, serving, f"{base_url}/models/{engine.model_name}/health"):
            print(READY_PREFIX + base_url, flush=True)
        else:
            logger.error("the server did not start answering within %.0f s", STARTUP_TIMEOUT_S)
            server.should_exit = True
        await serving
    finally:
        sock.close()
        await engine.close()
    return 0 if server.started else 1


async def _wait_ready(server: uvicorn.Server, serving: asyncio.Task[None], probe_url: str) -> bool:
    """True once the server answers `probe_url` (any status); False if it stopped or took too long."""
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    async with httpx.AsyncClient(timeout=5.0) as client:
        while time.monotonic() < deadline and not serving.done() and not server.should_exit:
            if server.started:
                with contextlib.suppress(httpx.HTTPError):
                    await client.get(probe_url)
                    return True
            await asyncio.sleep(0.05)
    return False


def _base_url(host: str, port: int) -> str:
    shown = {"0.0.0.0": "127.0.0.1", "::": "[::1]", "": "127.0.0.1"}.get(host, host)
    if ":" in shown and not shown.startswith("["):
        shown = f"[{shown}]"
    return f"http://{shown}:{port}/v1"


class _Server(uvicorn.Server):
    """uvicorn's server, except that a signal that stopped it is not raised again afterwards
    (uvicorn re-raises it, which would turn a clean SIGTERM stop into a non-zero exit)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        originals = {sig: signal.signal(sig, self.handle_exit) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in originals.items():
                signal.signal(sig, handler)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _admin_key(flag: str | None, file: str | None) -> str | None:
    """The admin key from --admin-key (or $COMPAT_ADMIN_KEY) or from --admin-key-file, not both."""
    if file is None:
        return flag
    if flag:
        raise ValueError("give the admin key once: --admin-key (or $COMPAT_ADMIN_KEY) or --admin-key-file")
    lines = [line.strip() for line in Path(file).read_text(encoding="utf-8").splitlines() if line.strip()]
    if len(lines) != 1:
        raise ValueError(f"{file} must hold exactly one admin key (one non-empty line)")
    return lines[0]


# Query parameters that carry credentials, whatever their value looks like.
_SECRET_QUERY = re.compile(r"(?i)([?&][^=&\s]*(?:key|token|secret|auth|password|sig)[^=&\s]*=)[^&\s\"]*")


def redact_log_text(text: str, secrets: Sequence[str] = ()) -> str:
    """A log line with every key taken out, in a path, a query or a message: the known ones, the known
    key shapes, every key this server minted (whatever its prefix), and the values of credential-named
    query parameters."""
    text = redact_text(text, secrets)
    text = _SECRET_QUERY.sub(lambda m: m.group(1) + REDACTED, text)
    return redact_minted(text, REDACTED)


class _RedactingFilter(logging.Filter):
    """Keys never reach a log line: messages and tracebacks are redacted before formatting."""

    def __init__(self, secrets: Sequence[str]) -> None:
        super().__init__()
        self.secrets = tuple(secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        # Redact the parts, not the formatted message: uvicorn's formatters read `args` themselves.
        if isinstance(record.msg, str):
            record.msg = redact_log_text(record.msg, self.secrets)
        if isinstance(record.args, tuple):
            record.args = tuple(self._redact(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: self._redact(v) for k, v in record.args.items()}
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_log_text(record.exc_text, self.secrets)
        return True

    def _redact(self, value: Any) -> Any:
        return redact_log_text(value, self.secrets) if isinstance(value, str) else value


def _redact_logs(secrets: Sequence[str]) -> None:
    """Put the redacting filter on every handler of the root and uvicorn loggers."""
    for name in ("", "uvicorn", "uvicorn.error", "uvicorn.access", "reference_server"):
        for handler in logging.getLogger(name).handlers:
            present = [f for f in handler.filters if isinstance(f, _RedactingFilter)]
            for existing in present:  # a later call knows more secrets (a persona's admin key)
                existing.secrets = tuple(dict.fromkeys([*existing.secrets, *secrets]))
            if not present:
                handler.addFilter(_RedactingFilter(secrets))


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError("must be a positive number")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be a positive integer")
    return value


class BackgroundServer:
    """An ASGI app served by uvicorn in a background thread on a free loopback port.

    Use as a context manager; `base_url` ends with `/v1`. `stop` is bounded in time.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_level: str = "warning",
        limits: HttpLimits | None = None,
    ) -> None:
        self.config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level=log_level,
            log_config=None,
            lifespan="off",
            timeout_graceful_shutdown=2,
            http=(limits or HttpLimits()).protocol(),
        )
        self.server = _Server(self.config)
        self._socket: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    @property
    def root_url(self) -> str:
        return _base_url(self.config.host, self.port).removesuffix("/v1")

    @property
    def base_url(self) -> str:
        return _base_url(self.config.host, self.port)

    def start(self, timeout: float = 30.0) -> BackgroundServer:
        self._socket = self.config.bind_socket()
        self.port = self._socket.getsockname()[1]
        self._thread = threading.Thread(
            target=self.server.run,
            kwargs={"sockets": [self._socket]},
            name=f"uvicorn:{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the server on port {self.port} did not start within {timeout:.0f} s")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():  # open connections outlived the graceful period
                self.server.force_exit = True
                self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve_in_thread(
    engine: Any, *, api_keys: Sequence[str], faults: FaultSet | None = None, **app_options: Any
) -> BackgroundServer:
    """Start `create_app(engine, ...)` on a free loopback port in a background thread."""
    return BackgroundServer(create_app(engine, api_keys=api_keys, faults=faults, **app_options)).start()
