"""Conformance checks: plain functions with stable ids, reported by id."""

from ._registry import MUST, SHOULD, Check, Finding, Outcome, Severity, check, get, registry, run

__all__ = ["MUST", "SHOULD", "Check", "Finding", "Outcome", "Severity", "check", "get", "registry", "run"]
