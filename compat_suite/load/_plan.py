"""Planning a load run: the shape from the command line over the budget's shape over defaults."""

from __future__ import annotations

import argparse
from typing import Any

from schemas import LoadShape, load_budget

from ._ramp import parse_ramp


class UsageError(Exception):
    """A mistake in the command line: printed, exit code 2."""


def resolve_shape(args: argparse.Namespace) -> tuple[LoadShape, dict[str, Any] | None]:
    """The load shape from the command line over the budget shape over defaults, and the budget."""
    budget_file = load_budget(args.budget) if args.budget else None
    base = budget_file.shape(args.budget_shape) if budget_file else None
    explicit = any(v is not None for v in (args.users, args.rate, args.ramp, args.sweep))
    duration = args.duration if args.duration is not None else (base.duration_s if base else None)
    if duration is None and not args.ramp:
        raise UsageError("--duration is required (or a --budget whose shape sets duration_s)")
    sweep = tuple(float(r) for r in args.sweep.split(",") if r.strip()) if args.sweep else ()
    shape = LoadShape(
        name=base.name if base else "cli",
        duration_s=float(duration or 0),
        users=args.users if explicit else (base.users if base else 4),
        rate=args.rate if explicit else (base.rate if base else None),
        arrival=args.arrival or (base.arrival if base else "constant"),
        scenario=args.scenario or (base.scenario if base else "chat-stream"),
        max_tokens=args.max_tokens or (base.max_tokens if base else 32),
        ramp=args.ramp if explicit else (base.ramp if base else None),
        sweep=sweep if explicit else (base.sweep if base else ()),
        workers=args.workers if args.workers is not None else (base.workers if base else 0),
        max_inflight=args.max_inflight or (base.max_inflight if base else None),
        lag_threshold_ms=args.lag_threshold_ms or (base.lag_threshold_ms if base else None),
        budget=dict(base.budget) if base else {},
    )
    if shape.users is not None and shape.users < 1:
        raise UsageError("--users must be at least 1")
    if shape.rate is not None and shape.rate <= 0:
        raise UsageError("--rate must be positive")
    if any(r <= 0 for r in shape.sweep):
        raise UsageError("--sweep rates must be positive")
    if shape.workers < 0 or shape.workers > 64:
        raise UsageError("--workers must be between 0 and 64")
    if shape.ramp:
        try:
            parse_ramp(shape.ramp)
        except ValueError as exc:
            raise UsageError(f"--ramp: {exc}") from None
    budget = None
    if budget_file is not None:
        budget = {"name": budget_file.name, "shape": shape.name, "limits": shape.budget}
    return shape, budget


def shape_summary(shape: LoadShape) -> dict[str, Any]:
    if shape.ramp:
        kind = "ramp"
    elif shape.sweep:
        kind = "sweep"
    elif shape.rate is not None:
        kind = "open-loop"
    else:
        kind = "closed-loop"
    out: dict[str, Any] = {
        "kind": kind,
        "name": shape.name,
        "duration_s": float(sum(s for _, s in parse_ramp(shape.ramp))) if shape.ramp else shape.duration_s,
        "workers": shape.workers,
        "max_tokens": shape.max_tokens,
    }
    if kind == "closed-loop":
        out["users"] = shape.users
    if kind in ("open-loop", "sweep"):
        out.update(arrival=shape.arrival, max_inflight=shape.max_inflight or 256)
        out["rate" if kind == "open-loop" else "rates"] = (
            shape.rate if kind == "open-loop" else list(shape.sweep)
        )
    if kind == "ramp":
        out["ramp"] = shape.ramp
    return out
