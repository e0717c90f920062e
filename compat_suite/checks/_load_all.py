"""Imports every check module so that each check registers itself once."""

from . import (  # noqa: F401  (side effect: registration)
    _chat,
    _clients,
    _completions,
    _embeddings,
    _errors,
    _governance,
    _models,
    _stream,
    _transport,
)
