"""How answers are written: compact JSON (text as it is, no NaN) and request ids."""

from __future__ import annotations

import json
import uuid
from typing import Any


def dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def encode(payload: Any) -> bytes:
    return dumps(payload).encode("utf-8")


def request_id() -> str:
    return "req_" + uuid.uuid4().hex
