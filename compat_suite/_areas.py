"""Check areas as modules: each public module of a package is one area."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Callable
from typing import Any

_IMPORTED: set[str] = set()


def import_areas(package: str) -> None:
    """Import every public module (a name not starting with `_`) of `package`, so that what each
    defines registers itself; a new area's module needs no edit anywhere else. Once per package:
    the registries ask on every lookup, and listing a package's modules reads the disk."""
    if package in _IMPORTED:
        return
    for module in pkgutil.iter_modules(importlib.import_module(package).__path__):
        if not module.name.startswith("_"):
            importlib.import_module(f"{package}.{module.name}")
    _IMPORTED.add(package)


def first_doc_line(kind: str, item_id: str, func: Callable[..., Any], registry: dict[str, Any]) -> str:
    """The first line of `func`'s docstring, the description of `item_id`; ValueError when the id is
    registered already or the function has no docstring."""
    if item_id in registry:
        raise ValueError(f"{kind} id registered twice: {item_id}")
    doc = inspect.getdoc(func) or ""
    if not doc:
        raise ValueError(f"{kind} {item_id} needs a one-line docstring")
    return doc.splitlines()[0]
