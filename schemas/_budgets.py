"""Performance budgets (schemas/budgets/*.yaml): named load shapes, each with the limits it must meet.

```yaml
name: default
shapes:
  smoke:
    users: 4               # closed loop; or  rate: 5  arrival: poisson  (open loop)
    duration_s: 10
    scenario: chat-stream
    max_tokens: 16
    budget:
      ttft_p95_ms: 2000
      tpot_p95_ms: 200
      itl_p95_ms: 250
      e2e_p95_ms: 8000
      min_output_tokens_per_s: 5
      max_error_rate: 0.01
```
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

# budget key -> (load.json metric, statistic); the last two are run-level figures.
BUDGET_METRICS: dict[str, tuple[str, str]] = {
    "ttft_p95_ms": ("ttft_ms", "p95"),
    "tpot_p95_ms": ("tpot_ms", "p95"),
    "itl_p95_ms": ("itl_ms", "p95"),
    "e2e_p95_ms": ("e2e_ms", "p95"),
    "min_output_tokens_per_s": ("throughput", "output_tokens_per_s"),
    "max_error_rate": ("throughput", "error_rate"),
}
SHAPE_KEYS = frozenset(
    {
        "users",
        "rate",
        "arrival",
        "duration_s",
        "scenario",
        "max_tokens",
        "ramp",
        "sweep",
        "workers",
        "budget",
        "max_inflight",
        "lag_threshold_ms",
        "description",
    }
)
BUDGETS_DIR = Path(__file__).with_name("budgets")
_STREAM_ONLY = {"ttft_p95_ms", "tpot_p95_ms", "itl_p95_ms"}


class BudgetError(ValueError):
    """A budget file that cannot be used, with the reason."""


@dataclass(frozen=True)
class LoadShape:
    name: str
    duration_s: float
    users: int | None = None
    rate: float | None = None
    arrival: str = "constant"
    scenario: str = "chat-stream"
    max_tokens: int = 32
    ramp: str | None = None
    sweep: tuple[float, ...] = ()
    workers: int = 0
    max_inflight: int | None = None
    lag_threshold_ms: float | None = None
    budget: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class BudgetFile:
    name: str
    path: Path
    shapes: dict[str, LoadShape]

    def shape(self, name: str | None = None) -> LoadShape:
        if name is None:
            return next(iter(self.shapes.values()))
        if name not in self.shapes:
            raise BudgetError(f"{self.path.name}: no shape {name!r} (has: {', '.join(self.shapes)})")
        return self.shapes[name]


def resolve_budget_path(name_or_path: str | Path) -> Path:
    path = Path(name_or_path)
    if not path.suffix:
        path = BUDGETS_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        available = ", ".join(sorted(p.stem for p in BUDGETS_DIR.glob("*.yaml")))
        raise BudgetError(f"no budget file {str(name_or_path)!r} (available: {available})")
    return path


def load_budget(name_or_path: str | Path) -> BudgetFile:
    """Read and validate a budget file (a name in schemas/budgets/ or a path)."""
    path = resolve_budget_path(name_or_path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise BudgetError(f"{path.name}: not YAML: {exc}") from None
    shapes_raw = data.get("shapes")
    if not isinstance(shapes_raw, dict) or not shapes_raw:
        raise BudgetError(f"{path.name}: wants a non-empty 'shapes' mapping")
    shapes = {name: _shape(path, name, raw) for name, raw in shapes_raw.items()}
    return BudgetFile(name=str(data.get("name", path.stem)), path=path, shapes=shapes)


def _shape(path: Path, name: str, raw: Any) -> LoadShape:
    where = f"{path.name}: shape {name!r}"
    if not isinstance(raw, dict):
        raise BudgetError(f"{where}: wants a mapping")
    unknown = set(raw) - SHAPE_KEYS
    if unknown:
        raise BudgetError(f"{where}: unknown keys {sorted(unknown)} (known: {sorted(SHAPE_KEYS)})")
    budget = raw.get("budget") or {}
    bad = set(budget) - set(BUDGET_METRICS)
    if bad:
        raise BudgetError(f"{where}: unknown budget metrics {sorted(bad)} (known: {sorted(BUDGET_METRICS)})")
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in budget.values()):
        raise BudgetError(f"{where}: budget limits must be numbers")
    if ("users" in raw) + ("rate" in raw) + ("ramp" in raw) + ("sweep" in raw) != 1:
        raise BudgetError(f"{where}: wants exactly one of users, rate, ramp, sweep")
    if "duration_s" not in raw:
        raise BudgetError(f"{where}: wants duration_s")
    try:
        return LoadShape(
            name=name,
            duration_s=float(raw["duration_s"]),
            users=int(raw["users"]) if "users" in raw else None,
            rate=float(raw["rate"]) if "rate" in raw else None,
            arrival=str(raw.get("arrival", "constant")),
            scenario=str(raw.get("scenario", "chat-stream")),
            max_tokens=int(raw.get("max_tokens", 32)),
            ramp=str(raw["ramp"]) if "ramp" in raw else None,
            sweep=tuple(float(r) for r in raw.get("sweep", ())),
            workers=int(raw.get("workers", 0)),
            max_inflight=int(raw["max_inflight"]) if "max_inflight" in raw else None,
            lag_threshold_ms=float(raw["lag_threshold_ms"]) if "lag_threshold_ms" in raw else None,
            budget={k: float(v) for k, v in budget.items()},
        )
    except (TypeError, ValueError) as exc:
        raise BudgetError(f"{where}: {exc}") from None


def evaluate(limits: Mapping[str, float], result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One verdict per budget metric against a load.json-shaped result.

    `passed` is None, with the reason, when the run cannot tell (no streamed content for TTFT, no
    successful request, no usage for throughput).
    """
    out = []
    metrics = result.get("metrics", {})
    throughput = result.get("throughput", {})
    completed = result.get("requests", {}).get("completed", 0)
    for key, limit in limits.items():
        source, stat = BUDGET_METRICS[key]
        observed = throughput.get(stat) if source == "throughput" else (metrics.get(source) or {}).get(stat)
        reason = None
        if observed is None:
            if key == "max_error_rate":
                reason = "no request finished"
            elif completed == 0:
                reason = "no successful request to measure"
            elif key in _STREAM_ONLY:
                reason = f"{source} needs streamed content (the scenario or the target does not stream)"
            else:
                reason = "the target reported no usage.completion_tokens"
            passed = None
        elif key.startswith("min_"):
            passed = observed >= limit
        else:
            passed = observed <= limit
        if passed is False:
            op = ">=" if key.startswith("min_") else "<="
            reason = f"observed {observed} is not {op} {limit}"
        out.append({"metric": key, "limit": limit, "observed": observed, "passed": passed, "reason": reason})
    return out
