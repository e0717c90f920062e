"""The one verdict enum, defined in results.schema.json, and how verdicts group.

Every package reads verdicts from here: the suite records them, the report and the baseline diff
count and rank them, JUnit files them.
"""

from __future__ import annotations

import json
from pathlib import Path

_SCHEMA = Path(__file__).with_name("results.schema.json")

VERDICTS: tuple[str, ...] = tuple(json.loads(_SCHEMA.read_text(encoding="utf-8"))["$defs"]["verdict"]["enum"])
FAILING = frozenset({"fail", "drift"})  # a run with one of these fails
WARNING = frozenset({"warn"})  # a SHOULD check broke: exit 1 only with --strict
# The check did not judge the target: said apart from pass and fail, each with its reason.
NOT_JUDGED = frozenset({"skip", "blocked", "inconclusive", "not-applicable"})
# Worst first: what a matrix cell or a (check, endpoint) shows when it has several findings.
VERDICT_RANK: dict[str, int] = {
    "fail": 10,
    "drift": 9,
    "warn": 8,
    "blocked": 7,
    "inconclusive": 6,
    "deviation": 5,
    "undocumented": 4,  # observed where the docs are silent: shown, never held against the provider
    "pass": 3,
    "skip": 2,
    "not-applicable": 1,
}
assert set(VERDICT_RANK) == set(VERDICTS), "VERDICT_RANK must rank every verdict"
