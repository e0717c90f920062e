"""The formats of a run's files, `results.json` and `load.json`, as JSON Schemas and their validators.

The suite writes them, the report builder reads them; both hold them to these schemas, so a file
from another version or another tool is refused with the field that is wrong, not half-rendered.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

RESULTS_SCHEMA = Path(__file__).with_name("results.schema.json")
LOAD_SCHEMA = Path(__file__).with_name("load.schema.json")
_MAX_SHOWN = 5


@cache
def _validator(path: Path) -> Draft202012Validator:
    schema = json.loads(path.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _problems(path: Path, document: Any) -> list[str]:
    errors = sorted(_validator(path).iter_errors(document), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{'.'.join(map(str, e.absolute_path)) or '(top level)'}: {e.message}" for e in errors]


def results_problems(document: Any) -> list[str]:
    """Why `document` is not a valid results.json (empty when it is)."""
    return _problems(RESULTS_SCHEMA, document)


def load_problems(document: Any) -> list[str]:
    """Why `document` is not a valid load.json (empty when it is)."""
    return _problems(LOAD_SCHEMA, document)


def summarize_problems(problems: list[str]) -> str:
    """The first few problems on one line, for an error message."""
    more = f" (and {len(problems) - _MAX_SHOWN} more)" if len(problems) > _MAX_SHOWN else ""
    return "; ".join(problems[:_MAX_SHOWN]) + more
