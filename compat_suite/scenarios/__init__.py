"""Scenarios: named functions that send requests through the Target and yield the exchanges with the
check ids they prove. One module per check area; see `_registry` for the contract."""

from ._context import KEY_STATES, AdminAPI, Context
from ._registry import (
    SUITE_OF_AREA,
    MatrixRow,
    Measurement,
    Proof,
    Proofs,
    Scenario,
    for_suite,
    measured,
    proof,
    proving,
    registry,
    scenario,
)

__all__ = [
    "KEY_STATES",
    "SUITE_OF_AREA",
    "AdminAPI",
    "Context",
    "MatrixRow",
    "Measurement",
    "Proof",
    "Proofs",
    "Scenario",
    "for_suite",
    "measured",
    "proof",
    "proving",
    "registry",
    "scenario",
]
