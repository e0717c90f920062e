"""The check cases as a whole: every registered check has a case in its area's module
(tests/<area>/test_<area>_checks.py), and what spans areas: hostile bodies, descriptions, and
max_tokens judged per choice in chat and completions alike."""

from __future__ import annotations

import importlib
import inspect
import sys
from pathlib import Path
from typing import Any

import pytest
from _check_cases import (
    CHAT,
    CHAT_REQ,
    COMP,
    COMP_REQ,
    LOGPROB_REQ,
    RAW_KEY,
    STREAM_WITH_USAGE,
    Cases,
    Json,
    chat,
    choice0,
    comp,
    exchange,
    stream,
    usage_of,
    with_,
)

from compat_suite.checks import Finding, registry, run
from schemas import ENDPOINTS as PROFILE_ENDPOINTS


def area_cases() -> Cases:
    """Every area module's CASES, merged. Each module is imported as pytest imports it (its folder on
    sys.path, the file's stem as its name), so a run of the whole tree loads it once."""
    merged: Cases = {}
    for path in sorted(Path(__file__).parent.glob("*/test_*_checks.py")):
        if str(path.parent) not in sys.path:
            sys.path.insert(0, str(path.parent))
        cases: Cases = importlib.import_module(path.stem).CASES
        assert not merged.keys() & cases.keys(), f"{path.name} repeats cases: {sorted(merged.keys() & cases)}"
        merged.update(cases)
    return merged


def test_every_check_has_a_case() -> None:
    assert sorted(area_cases()) == sorted(registry())


# -- hostile input: a Finding, never a crash ---------------------------------------------------------------
HOSTILE_BODIES = [
    b"",
    b"null",
    b"[]",
    b'"x"',
    b"{",
    b"\xff\xfe",
    b'{"choices": {"0": 1}, "usage": "x"}',
    b'{"choices": [null, 3, {"index": [1]}], "data": [1, {"embedding": "!!"}]}',
    b'{"error": 5}',
]


@pytest.mark.parametrize("body", HOSTILE_BODIES, ids=range(len(HOSTILE_BODIES)))
def test_checks_do_not_crash_on_hostile_bodies(body: bytes) -> None:
    for check_id, chk in registry().items():
        if check_id.startswith("clients.node"):
            continue  # a subprocess per body: covered by the unit case above
        endpoint = chk.endpoints[0]
        request = {
            **CHAT_REQ,
            "n": 2,
            "stop": "x",
            "logprobs": True,
            "response_format": {"type": "json_object"},
            "echo": True,
            "dimensions": 2,
            "encoding_format": "base64",
            **STREAM_WITH_USAGE,
        }
        ex = exchange(endpoint, request, None, raw=body, status=400)
        args: tuple[Any, ...] = (ex,)
        if check_id.startswith(("stream.", "tools.stream.", "responses.stream.")):
            args = (stream(endpoint, raw=body or b"data: x\n\n", request=request),)
        args = (*args, *[ex] * (_exchanges_taken(chk.func) - 1))  # e.g. a stream and its unary answer
        ctx = {name: ex for name in _keyword_exchanges(chk.func)}  # e.g. a follow-up answer as context
        ctx = {"model": "m"} if check_id == "models.list.contains-model" else ctx
        ctx = {"param": "n"} if check_id == "errors.param.named" else ctx
        ctx = {"key_id": "key_1", "raw_key": RAW_KEY} if check_id == "governance.keys.list" else ctx
        try:
            run(check_id, *args, endpoint=endpoint, **ctx)
        except Finding:  # pragma: no cover - run() turns findings into outcomes
            raise
        except Exception as exc:
            pytest.fail(f"{check_id} crashed on {body!r}: {type(exc).__name__}: {exc}")


def _exchanges_taken(func: Any) -> int:
    """How many exchanges a check takes: its positional parameters without a default."""
    params = inspect.signature(func).parameters.values()
    return sum(1 for p in params if p.kind == p.POSITIONAL_OR_KEYWORD and p.default is p.empty)


def _keyword_exchanges(func: Any) -> list[str]:
    """A check's required keyword-only parameters that take an exchange (context such as a follow-up
    answer); the other required ones (`model`, `param`, ...) are given by name below."""
    params = inspect.signature(func).parameters.values()
    return [
        p.name
        for p in params
        if p.kind == p.KEYWORD_ONLY and p.default is p.empty and p.annotation == "Exchange"
    ]


def test_max_tokens_is_judged_per_choice_where_logprobs_list_the_tokens() -> None:
    """Two choices, max_tokens=2, three tokens in all (within 2 x 2): one choice listing three is over."""

    def entry(token: str) -> Json:
        return {"token": token, "logprob": -0.1, "bytes": None, "top_logprobs": []}

    request = {**LOGPROB_REQ, "n": 2, "max_tokens": 2}
    uneven = with_(
        CHAT,
        choices=[
            {**CHAT["choices"][0], "index": 0, "logprobs": {"content": [entry("a"), entry("b"), entry("c")]}},
            {**CHAT["choices"][0], "index": 1, "logprobs": {"content": []}},
        ],
        usage=usage_of(3),
    )
    outcome = run("chat.max-tokens.respected", chat(uneven, request))
    assert not outcome.passed and "choice(s) [0]" in outcome.message, outcome.message
    even = with_(
        uneven, choices=[{**c, "logprobs": {"content": [entry("a")] * 2}} for c in uneven["choices"]]
    )
    assert run("chat.max-tokens.respected", chat(with_(even, usage=usage_of(4)), request)).passed

    comp_request = {**COMP_REQ, "max_tokens": 2, "logprobs": 1}
    listed = choice0(COMP, logprobs={"tokens": ["a", "b", "c"], "token_logprobs": [-0.1] * 3})
    assert not run(
        "completions.max-tokens.respected", comp(with_(listed, usage=usage_of(2)), comp_request)
    ).passed
    # with echo the prompt's tokens lead the list: the list no longer tells what was generated
    echoed = {**comp_request, "echo": True}
    assert run("completions.max-tokens.respected", comp(with_(listed, usage=usage_of(2)), echoed)).passed


def test_registered_checks_have_descriptions_and_known_endpoints() -> None:
    known = set(PROFILE_ENDPOINTS)  # the endpoint names profiles use
    for check_id, chk in registry().items():
        assert chk.description and not chk.description.endswith(":"), check_id
        assert set(chk.endpoints) <= known, check_id
