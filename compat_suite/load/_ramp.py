"""Ramp stages: 'users:seconds,users:seconds,...' (closed loop, stepped by locust's LoadTestShape)."""

from __future__ import annotations


def parse_ramp(spec: str) -> list[tuple[int, float]]:
    """'2:5,4:5' -> [(2, 5.0), (4, 5.0)]; ValueError on anything else."""
    stages = []
    for part in filter(None, (p.strip() for p in spec.split(","))):
        users, sep, seconds = part.partition(":")
        if not sep:
            raise ValueError(f"ramp stage {part!r}: want users:seconds")
        stage = (int(users), float(seconds))
        if stage[0] < 1 or stage[1] <= 0:
            raise ValueError(f"ramp stage {part!r}: users >= 1 and seconds > 0")
        stages.append(stage)
    if not stages:
        raise ValueError("empty ramp")
    return stages


def ramp_seconds(spec: str) -> float:
    """How long the stages of ramp `spec` last in all."""
    return sum(seconds for _, seconds in parse_ramp(spec))
