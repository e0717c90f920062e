"""Renders the report pages from `reports/templates/` with Jinja2, autoescaping everything.

Jinja2 rather than string formatting: autoescape on by default is the safest way to put hostile
evidence on a page. CSS and JS are read from the templates folder and inlined, so the page is one
file that opens with no network.
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

TEMPLATES_DIR = Path(__file__).parent / "templates"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # SVG comes from _plots, which escapes every label it writes; nothing else is marked safe.
    env.filters["svg"] = Markup
    return env


def _asset(name: str) -> Markup:
    return Markup((TEMPLATES_DIR / name).read_text(encoding="utf-8"))


def render(template: str, **context: Any) -> str:
    """One page: `template` from the templates folder with the shared style and script inlined."""
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        _environment()
        .get_template(template)
        .render(css=_asset("report.css"), js=_asset("report.js"), generated=generated, **context)
    )
