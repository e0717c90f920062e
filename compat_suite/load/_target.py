"""Where a load run goes: a target from the shared options, or the embedded reference server.

The locust processes learn the target from their environment, in the variables the one option
declaration names (COMPAT_MODEL, COMPAT_HEADER, COMPAT_API_KEY, ...): never from a command line,
so a key or a header's value never shows in a process list, and hand-run workers are set up the same way.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

from schemas import Profile, ProfileError, load_profile, options_for, parse_headers, redact_text, resolved

from ..embedded import EMBEDDED_MODELS, EmbeddedServer, EmbeddedServerError
from ..target import TargetUnreachable, probe

# The target options a locust process reads from its environment.
_CARRIED = ("api-key", "model", "embedding-model", "profile", "header", "timeout")


class LoadTargetError(ValueError):
    """The target cannot be loaded: a bad profile or header, an unreachable URL, a server that did not start."""


def target_from_environment(environ: Mapping[str, str]) -> dict[str, Any]:
    """The carried target options as a locust process finds them (defaults where unset)."""
    return {o.dest: resolved(o, None, environ, None, {}) for o in options_for("load") if o.name in _CARRIED}


class LoadTarget:
    """The target of a load run; starts (and stops) the embedded reference server when there is no URL."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = dict(values)
        self.server: EmbeddedServer | None = None
        self.base_url: str | None = values.get("base_url")
        self.api_key: str | None = values.get("api_key")
        self.model, self.embedding_model = values.get("model"), values.get("embedding_model")
        self.engine: str = values.get("engine") or "transformers"
        try:
            self.headers = parse_headers(values.get("header") or [])
            self.profile: Profile = load_profile(values.get("profile") or "openai")
        except (ValueError, ProfileError) as exc:
            raise LoadTargetError(str(exc)) from None

    def __enter__(self) -> LoadTarget:
        if self.base_url:
            try:
                probe(self.base_url, timeout_s=float(self.values.get("timeout") or 10.0))
            except TargetUnreachable as exc:
                raise LoadTargetError(str(exc)) from None
            return self
        print(f"compat-suite load: starting the embedded reference server ({self.engine})", file=sys.stderr)
        self.server = EmbeddedServer(
            engine=self.engine,
            faults=tuple(self.values.get("fault") or ()),
            persona=self.values.get("persona") or None,
        )
        try:
            self.server.start()
        except EmbeddedServerError as exc:
            raise LoadTargetError(str(exc)) from None
        self.base_url, self.api_key = self.server.base_url, self.server.api_key
        chat, embed = EMBEDDED_MODELS[self.engine]
        self.model, self.embedding_model = self.model or chat, self.embedding_model or embed
        return self

    def __exit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.stop()

    def __repr__(self) -> str:  # never the key or a header's value
        return f"LoadTarget(base_url={self.base_url!r}, model={self.model!r}, profile={self.profile.name!r})"

    @property
    def secrets(self) -> tuple[str, ...]:
        return tuple(s for s in (self.api_key, *self.headers.values()) if s)

    def environment(self) -> dict[str, str]:
        """The environment that carries this target to a locust process."""
        values = {
            "api_key": self.api_key,
            "model": self.model,
            "embedding_model": self.embedding_model,
            "profile": self.profile.name if self.profile.source is None else str(self.profile.source),
            "header": [f"{name}: {value}" for name, value in self.headers.items()],
            "timeout": self.values.get("timeout"),
        }
        env = {}
        for option in options_for("load"):
            value = values.get(option.dest) if option.name in _CARRIED else None
            name = option.env_names[0]
            if isinstance(value, list):
                env[name] = option.separator.join(value)
            else:
                env[name] = "" if value is None else str(value)
        return env

    def describe(self) -> dict[str, Any]:
        return {
            "base_url": redact_text(self.base_url or "", self.secrets),
            "model": self.model,
            "embedding_model": self.embedding_model,
            "profile": self.profile.name,
            "embedded": self.server is not None,
            "engine": self.engine if self.server is not None else None,
            "faults": list(self.server.faults) if self.server is not None else [],
        }
