"""The locust side of a load run: LLM users, the open-loop user, and the sample collector (`_collector`)
wired to locust's events.

Imported only by locustfiles (locust patches the standard library when imported). The target (key,
models, profile, headers, timeout) is read from each process's environment, in the variables of the
shared option declaration (COMPAT_API_KEY, COMPAT_MODEL, ...), so no secret travels on a command
line; the load's own settings arrive as `--llm-*` options, which locust forwards from the master to
every worker, so the same locustfile runs standalone, with local workers, or on other machines.

Workers ship their raw samples (compact columns) and HDR histograms to the master with every stats
report and once more, in full, when they stop (`llm_final`), so the master accounts for every
request sent. The master (or a standalone process) writes the union to `--llm-out` as JSON.
"""

from __future__ import annotations

import os
import random
import time
from typing import Any, ClassVar

import gevent
from gevent.pool import Pool
from locust import LoadTestShape, User, events
from locust.env import Environment
from locust.runners import MasterRunner, WorkerRunner

from schemas import load_profile, parse_headers

from ._client import KINDS, LLMClient, fixed_length_body, load_extensions, profile_paths
from ._collector import Collector
from ._judge import DEFAULT_SPOOL_BYTES
from ._metrics import RequestTiming
from ._prompts import Dialogue, conversation_cycle, load_conversations
from ._ramp import parse_ramp
from ._schedule import OpenLoopDispatcher, arrival_offsets
from ._target import target_from_environment
from ._tokens import token_counter

FINAL_WAIT_S = 120.0  # how long the master waits for every worker's final samples and verdicts


@events.init_command_line_parser.add_listener
def _add_options(parser: Any) -> None:
    group = parser.add_argument_group("compat-suite LLM load")
    # The target (key, models, profile, headers, timeout) comes from the environment, in the
    # variables of the shared option declaration: see compat_suite/load/_target.py.
    group.add_argument("--llm-max-tokens", type=int, default=64)
    group.add_argument("--llm-dataset", default="", help="prompts (JSON lines) or ShareGPT file")
    group.add_argument("--llm-turns", default="first", help="first | all | N user turns per conversation")
    group.add_argument("--llm-warmup", type=float, default=-1.0, help="warm-up seconds (<0: first per user)")
    group.add_argument("--llm-tokenizer", default="", help="tokenizer.json (or its folder) for per-token ITL")
    group.add_argument("--llm-judge-mb", type=float, default=DEFAULT_SPOOL_BYTES / 2**20)
    group.add_argument("--llm-scenario", default="chat-stream", help="open loop: request kind or 'mix'")
    group.add_argument("--llm-rate", type=float, default=0.0, help="open loop: total requests per second")
    group.add_argument("--llm-arrival", default="constant", choices=("constant", "poisson"))
    group.add_argument("--llm-generators", type=int, default=1, help="open loop: dispatching users in all")
    group.add_argument("--llm-duration", type=float, default=10.0, help="open loop: schedule length (s)")
    group.add_argument("--llm-max-inflight", type=int, default=256, help="open loop: cap per dispatcher")
    group.add_argument("--llm-seed", type=int, default=0)
    group.add_argument("--llm-ramp", default="", help="ramp stages 'users:seconds,...' (with the ramp shape)")
    group.add_argument("--llm-out", default="", help="master/standalone: write the raw results here")
    group.add_argument("--llm-progress", type=float, default=1.0, help="seconds between progress lines")


@events.init.add_listener
def _on_init(environment: Environment, **_kw: Any) -> None:
    collector = Collector(environment)
    environment.llm_collector = collector  # type: ignore[attr-defined]
    runner = environment.runner

    @environment.events.test_start.add_listener
    def _started(environment: Environment, **_kw: Any) -> None:
        collector.test_start_ns = time.perf_counter_ns()

    if isinstance(runner, WorkerRunner):
        collector.worker_id = runner.client_id

        @environment.events.report_to_master.add_listener
        def _ship(client_id: str, data: dict[str, Any]) -> None:
            collector.worker_id = client_id
            data["llm"] = collector.batch(final=False)

        @environment.events.test_stop.add_listener
        def _ship_final(environment: Environment, **_kw: Any) -> None:
            collector.worker_id = runner.client_id
            # Sent before "client_stopped", so the master has it before its own test_stop fires.
            runner.send_message("llm_final", collector.batch(final=True))

        return

    if isinstance(runner, MasterRunner):

        @environment.events.worker_report.add_listener
        def _absorb(client_id: str, data: dict[str, Any]) -> None:
            if "llm" in data:
                collector.absorb(data["llm"])

        runner.register_message("llm_final", lambda environment, msg, **kw: collector.absorb(msg.data))
    else:

        @environment.events.test_stop.add_listener
        def _absorb_local(environment: Environment, **_kw: Any) -> None:
            collector.absorb(collector.batch(final=True))

    @environment.events.test_start.add_listener
    def _progress(environment: Environment, **_kw: Any) -> None:
        interval = environment.parsed_options.llm_progress if environment.parsed_options else 0

        def loop() -> None:
            while interval > 0:
                gevent.sleep(interval)
                if not isinstance(runner, MasterRunner):
                    collector.absorb(collector.batch(final=False))  # standalone: show live numbers
                print(collector.progress_line(), flush=True)

        collector.progress = gevent.spawn(loop)  # type: ignore[attr-defined]

    @environment.events.test_stop.add_listener
    def _write(environment: Environment, **_kw: Any) -> None:
        progress = getattr(collector, "progress", None)
        if progress is not None:
            progress.kill(block=False)
        collector.write()

    def await_finals() -> None:
        """Stop the workers and wait (up to FINAL_WAIT_S) for each one's final samples and verdicts."""
        runner.stop()
        if isinstance(runner, MasterRunner):
            deadline = time.monotonic() + FINAL_WAIT_S
            expected = set(runner.worker_indexes)
            while time.monotonic() < deadline and not all(
                collector.workers.get(w, {}).get("final") for w in expected
            ):
                gevent.sleep(0.1)

    if isinstance(runner, MasterRunner):
        # Locust's headless shutdown quits workers without stopping them first, waits 0.5 s and
        # then kills the greenlet that receives their messages; workers judge their answers when
        # they stop, so stop them first and wait for their finals while they can still arrive.
        quit_now = runner.quit

        def quit_after_finals() -> None:
            await_finals()
            quit_now()

        runner.quit = quit_after_finals  # type: ignore[method-assign]

    @environment.events.quitting.add_listener
    def _finish(environment: Environment, **_kw: Any) -> None:
        await_finals()
        collector.write()


def _client_for(user: User) -> LLMClient:
    opts = user.environment.parsed_options
    collector: Collector = user.environment.llm_collector  # type: ignore[attr-defined]
    target = target_from_environment(os.environ)
    profile = load_profile(target["profile"])
    stream_options: dict[str, Any] = {"include_usage": True}
    if "continuous_usage_stats" in load_extensions(profile):  # per-chunk usage: per-token ITL
        stream_options["continuous_usage_stats"] = True
    return LLMClient(
        base_url=user.host or "",
        record=collector.record,
        on_start=collector.on_request_start,
        api_key=target["api_key"],
        model=target["model"],
        embedding_model=target["embedding_model"],
        max_tokens=opts.llm_max_tokens,
        extra_body=fixed_length_body(profile, opts.llm_max_tokens),
        stream_options=stream_options,
        headers=parse_headers(target["header"]),
        paths=profile_paths(profile),
        timeout_s=target["timeout"],
        count_tokens=token_counter(opts.llm_tokenizer) if opts.llm_tokenizer else None,
        capture=opts.llm_judge_mb > 0,
    )


def _dialogue(opts: Any) -> Dialogue:
    conversations = load_conversations(opts.llm_dataset or None, opts.llm_turns)
    return Dialogue(conversation_cycle(conversations, start=random.randrange(1 << 16)))


class LLMUser(User):
    """A closed-loop LLM user: one request at a time, the next as soon as the last reply ends.

    Subclasses declare tasks that call `self.turn(kind)`: the next turn of the user's
    conversation, with its history (the earlier turns and the target's answers).
    """

    abstract = True

    def on_start(self) -> None:
        self.llm = _client_for(self)
        self.dialogue = _dialogue(self.environment.parsed_options)
        self._collector: Collector = self.environment.llm_collector  # type: ignore[attr-defined]
        self._first = True

    def on_stop(self) -> None:
        self.llm.close()

    def turn(self, kind: str) -> RequestTiming:
        """Send the next turn of this user's conversation as a request of `kind`."""
        warmup = self._collector.is_warmup(self._first)
        self._first = False
        timing = self.llm.send(kind, self.dialogue.next_messages(), warmup=warmup)
        self.dialogue.answered("".join(timing.text) if timing.error is None else None)
        return timing


class OpenLoopUser(User):
    """Dispatches requests on an open-loop schedule: `--llm-rate` shared by `--llm-generators` users.

    Each arrival is fired at its intended time in its own greenlet, whether earlier ones have
    finished or not; only `--llm-max-inflight` holds it back, and that wait is recorded as lag.
    An arrival is one conversation: with several turns, each turn follows the answer to the last.
    Subclasses set `kinds` (kind -> weight) for `--llm-scenario mix`.
    """

    abstract = True
    kinds: ClassVar[dict[str, int]] = {"chat-stream": 1}

    def on_start(self) -> None:
        opts = self.environment.parsed_options
        self.pool = Pool(max(1, opts.llm_max_inflight))
        self.llm = _client_for(self)
        self._collector: Collector = self.environment.llm_collector  # type: ignore[attr-defined]
        self._conversations = conversation_cycle(
            load_conversations(opts.llm_dataset or None, opts.llm_turns), start=random.randrange(1 << 16)
        )
        self._rng = random.Random(opts.llm_seed + id(self))
        scenario = opts.llm_scenario
        if scenario == "mix":
            self._choices, self._weights = list(self.kinds), list(self.kinds.values())
        elif scenario in KINDS:
            self._choices, self._weights = [scenario], [1]
        else:
            raise ValueError(f"--llm-scenario {scenario!r}: not one of {', '.join(KINDS)} or mix")
        self._done = False

    def on_stop(self) -> None:
        self.pool.kill(block=True, timeout=10)  # cut requests still in flight; each records "cancelled"
        self.llm.close()

    def _fire(self, intended_ns: int) -> None:
        kind = self._rng.choices(self._choices, self._weights)[0]
        dialogue = Dialogue(iter([next(self._conversations)]))
        conversation_turns = True
        while conversation_turns:
            warmup = self._collector.is_warmup(False)
            timing = self.llm.send(kind, dialogue.next_messages(), intended_ns=intended_ns, warmup=warmup)
            intended_ns = None  # later turns have no schedule of their own
            dialogue.answered("".join(timing.text) if timing.error is None else None)
            conversation_turns = dialogue.pending()

    def dispatch(self) -> None:
        if self._done:  # one schedule per run; afterwards wait for the run to end
            gevent.sleep(1.0)
            return
        opts = self.environment.parsed_options
        share = opts.llm_rate / max(1, opts.llm_generators)
        seed = opts.llm_seed * 1_000_003 + random.randrange(1 << 30)
        dispatcher = OpenLoopDispatcher(
            launch=lambda intended: self.pool.spawn(self._fire, intended),
            acquire=self.pool.wait_available,
            sleep=gevent.sleep,
        )
        try:
            dispatcher.run(arrival_offsets(share, opts.llm_arrival, opts.llm_duration, seed=seed))
            self.pool.join(timeout=self.llm.timeout_s)
        finally:
            self._done = True

    tasks = [dispatch]  # noqa: RUF012 - locust's own class attribute


class RampShape(LoadTestShape):
    """Closed-loop users that step through `--llm-ramp 'users:seconds,...'`, then stop."""

    abstract = True

    def stages(self) -> list[tuple[int, float]]:
        spec = self.runner.environment.parsed_options.llm_ramp if self.runner else ""
        return parse_ramp(spec)

    def tick(self) -> tuple[int, float] | None:
        elapsed = self.get_run_time()
        end = 0.0
        for users, seconds in self.stages():
            end += seconds
            if elapsed < end:
                return users, max(1.0, float(users))
        return None
