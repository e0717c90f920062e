"""Per-key IP allowlists: addresses and CIDR networks, IPv4 and IPv6, via `ipaddress`."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from starlette.requests import Request

from ..errors import APIError


def normalize(entries: Iterable[str]) -> tuple[str, ...]:
    """Validated networks in canonical form (`10.0.0.7` -> `10.0.0.7/32`); a bad entry is a 400."""
    out: list[str] = []
    for entry in entries:
        if not isinstance(entry, str):
            raise APIError(
                400, "allowed_ips must be a list of IP addresses or CIDR networks", param="allowed_ips"
            )
        try:
            out.append(str(ipaddress.ip_network(entry.strip(), strict=False)))
        except ValueError as exc:
            raise APIError(400, f"allowed_ips: {exc}", param="allowed_ips") from exc
    return tuple(dict.fromkeys(out))


def is_allowed(address: str | None, networks: Sequence[str]) -> bool:
    """An empty allowlist allows every address; a non-empty one only the addresses it covers."""
    if not networks:
        return True
    if not address:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:  # ::ffff:10.0.0.1 is 10.0.0.1
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(net) for net in networks)


def client_address(request: Request, *, trust_forwarded_for: bool) -> str | None:
    """The caller's address: the socket peer, or the first X-Forwarded-For hop behind a trusted proxy."""
    if trust_forwarded_for:
        forwarded = request.headers.get("x-forwarded-for")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.client.host if request.client else None
