"""A run directory as the report sees it: `results.json` and/or `load.json` (at least one).

Everything read here is redacted again, defensively: the writers already redact keys, but the report is
the one artifact people pass around, so a key that slipped through must stop here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas import REDACTED, SECRET_HEADERS, VERDICTS, redact_text

# The report shows at most this many characters of any one string (a body, a header); a hostile target
# can send 100 MB, and redacting or rendering all of it would make the report slow and unreadable.
MAX_TEXT = 64 * 1024
# Redaction runs over a little more than is kept, so a key that straddles the cut is still caught.
_REDACT_MARGIN = 512

RESULTS_FILE = "results.json"
LOAD_FILE = "load.json"
REPORT_FILE = "index.html"


class RunDirError(ValueError):
    """A run directory that cannot be reported on (missing, no results.json, unreadable JSON)."""


@dataclass(frozen=True)
class Run:
    """One run's inputs, already redacted."""

    path: Path
    results: dict[str, Any]
    load: dict[str, Any] | None

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def target(self) -> dict[str, Any]:
        target = self.results.get("target")
        return target if isinstance(target, dict) else {}

    def _objects(self, key: str) -> list[dict[str, Any]]:
        """The objects in results.json's list `key` (empty when it is missing or not a list)."""
        items = self.results.get(key)
        return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []

    @property
    def findings(self) -> list[dict[str, Any]]:
        return self._objects("findings")

    @property
    def scenario_errors(self) -> list[dict[str, Any]]:
        """Tests that broke outside any check (they fail the run; results.json `errors`)."""
        return self._objects("errors")

    @property
    def behaviour(self) -> list[dict[str, Any]]:
        """Model behaviour measured k of n (results.json `behaviour`): reported, never a verdict."""
        return self._objects("behaviour")

    @property
    def profile(self) -> str:
        return str(self.results.get("profile") or self.target.get("profile") or "")

    @property
    def summary(self) -> dict[str, Any]:
        """The summary counts, recomputed from the findings when the file lacks them."""
        given = self.results.get("summary")
        summary: dict[str, Any] = dict(given) if isinstance(given, dict) else {}
        for verdict in VERDICTS:
            if not isinstance(summary.get(verdict), int):
                summary[verdict] = sum(1 for f in self.findings if f.get("verdict") == verdict)
        if not isinstance(summary.get("errors"), int):
            summary["errors"] = len(self.scenario_errors)
        if summary.get("verdict") not in ("pass", "warn", "fail"):
            failed = summary["fail"] or summary["drift"] or summary["errors"]
            summary["verdict"] = "fail" if failed else "warn" if summary["warn"] else "pass"
        return summary

    @property
    def root_causes(self) -> list[dict[str, Any]]:
        """results.json's root causes, most findings first (empty for a file without them)."""
        return self._objects("root_causes")

    @property
    def label(self) -> str:
        """A short name for the run: its target and model."""
        base_url = self.target.get("base_url") or "embedded"
        model = self.target.get("model")
        return f"{base_url} · {model}" if model else str(base_url)


def _cut_and_redact(text: str) -> str:
    if len(text) <= MAX_TEXT:
        return redact_text(text)
    kept = redact_text(text[: MAX_TEXT + _REDACT_MARGIN])[:MAX_TEXT]
    return f"{kept}\n… ({len(text) - MAX_TEXT:,} more characters not shown)"


def redact(value: Any) -> Any:
    """A copy of `value` with secret headers blanked and key-shaped strings replaced, at any depth.

    Strings longer than `MAX_TEXT` are cut, with a note saying how much was left out.
    """
    if isinstance(value, dict):
        return {
            key: REDACTED if isinstance(key, str) and key.lower() in SECRET_HEADERS else redact(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact(item) for item in value]
    if isinstance(value, str):
        return _cut_and_redact(value)
    return value


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8", errors="replace"))
    except json.JSONDecodeError as exc:
        raise RunDirError(f"{path}: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    except OSError as exc:
        raise RunDirError(f"{path}: cannot be read ({exc.strerror})") from None
    if not isinstance(data, dict):
        raise RunDirError(f"{path}: expected a JSON object at the top level")
    return data


def load_run(run_dir: str | Path) -> Run:
    """Read and redact one run directory; `RunDirError` says what is wrong with a bad one."""
    path = Path(run_dir)
    if not path.is_dir():
        raise RunDirError(f"{path}: no such run directory")
    results_path, load_path = path / RESULTS_FILE, path / LOAD_FILE
    if not results_path.is_file() and not load_path.is_file():
        raise RunDirError(
            f"{path}: neither {RESULTS_FILE} nor {LOAD_FILE} (is this a directory written by "
            "`compat-suite run` or `compat-suite load`?)"
        )
    load = redact(_read_json(load_path)) if load_path.is_file() else None
    results = redact(_read_json(results_path)) if results_path.is_file() else _load_only_results(load or {})
    return Run(path=path.resolve(), results=results, load=load)


def _load_only_results(load: dict[str, Any]) -> dict[str, Any]:
    """The results of a load-only run: no findings; the verdict is the budget's and the schedule's."""
    budget = load.get("budget") if isinstance(load.get("budget"), dict) else {}
    missed = [r for r in budget.get("results") or [] if isinstance(r, dict) and r.get("passed") is False]
    schedule = load.get("schedule") if isinstance(load.get("schedule"), dict) else {}
    invalid = schedule.get("valid") is False
    target = load.get("target") if isinstance(load.get("target"), dict) else {}
    return {
        "target": target,
        "profile": target.get("profile") or load.get("profile") or "",
        "started": load.get("started"),
        "findings": [],
        "summary": {"verdict": "fail" if missed or invalid else "pass"},
    }
