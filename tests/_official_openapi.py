"""OpenAI's own OpenAPI document and schemas/differences.yaml (our intentional differences from it),
for the schema cross-check tests (test_schema_crosscheck.py, test_schema_examples.py)."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
import yaml
from _repo import SHARED_DIR

from schemas import OPENAPI_PATH

OFFICIAL_PATH = SHARED_DIR / "reference" / "openai-openapi.yaml"
DIFFERENCES_PATH = OPENAPI_PATH.with_name("differences.yaml")

needs_official_document = pytest.mark.skipif(
    not OFFICIAL_PATH.is_file(),
    reason=f"OpenAI's document is not beside the checkout ({OFFICIAL_PATH}); CI places it there",
)


@cache  # a large YAML document: parsed once for both modules
def official_document() -> dict[str, Any]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with OFFICIAL_PATH.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=loader)


def listed(section: str) -> list[dict[str, Any]]:
    """A section of schemas/differences.yaml: `schema` (component differences) or `examples`."""
    with DIFFERENCES_PATH.open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)[section]
