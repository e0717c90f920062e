"""The gateway: API keys, credits, usage, rate limits, IP allowlists, cold start and traces.

The reference server calls `Gateway.authorize` before serving a request and `Gateway.settle`
after it, and mounts `Gateway.routes()`; personas configure it with a `GatewayConfig`.
"""

from ._config import GatewayConfig
from ._credits import MICROS, Pricing
from ._gateway import Gateway, Grant
from ._records import KeyRecord
from ._store import Store

__all__ = ["MICROS", "Gateway", "GatewayConfig", "Grant", "KeyRecord", "Pricing", "Store"]
