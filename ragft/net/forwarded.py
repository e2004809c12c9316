"""Which address a client connects from, behind the facilitator's reverse proxy (``RAGFT_TRUSTED_PROXIES``).

Behind a TLS proxy every browser reaches the app from the proxy's address. The proxy tells the real one in
``X-Forwarded-For`` (each hop appends the address it received the request from), but so can anyone: a participant
sends the header with any address they like. The rule, opt-in:

- the direct peer (the TCP connection's address) is not a trusted proxy, or none is configured: the peer is the
  client, and ``X-Forwarded-For`` is ignored;
- the peer is a trusted proxy: walk ``X-Forwarded-For`` from the right (the entry the nearest proxy wrote) and take
  the first hop that is not itself a trusted proxy. Everything left of it was written by the client and is never
  read. A hop that is not an address ends the walk at the last trusted hop (a proxy that forwards garbage is not
  believed); every hop trusted: the leftmost one.

``RAGFT_TRUSTED_PROXIES`` is a comma-separated list of addresses and CIDR blocks (``127.0.0.1, 10.0.0.0/24``); a
host name is refused (it would need a lookup on every request).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

from ragft.errors import ConfigError

TRUSTED_PROXIES_VAR = "RAGFT_TRUSTED_PROXIES"

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_trusted_proxies(text: str | None) -> tuple[Network, ...]:
    """``"127.0.0.1, ::1, 10.0.0.0/24"`` as networks (an address is a /32 or /128). ConfigError on anything else."""
    out: list[Network] = []
    for raw in (text or "").replace(";", ",").split(","):
        entry = raw.strip().strip("[]")
        if not entry:
            continue
        try:
            out.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigError(
                f"{TRUSTED_PROXIES_VAR}: {raw.strip()!r} is not an IP address or CIDR block "
                "(write the proxy's address, e.g. 127.0.0.1 or 10.0.0.0/24; host names are not looked up)."
            ) from None
    return tuple(out)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """One hop of the header: ``1.2.3.4``, ``1.2.3.4:5678``, ``[2001:db8::1]:443`` or ``2001:db8::1``; else None."""
    text = value.strip().strip('"')
    if text.startswith("["):
        text = text[1:].split("]", 1)[0]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def is_trusted(ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None, trusted: Iterable[Network]) -> bool:
    return ip is not None and any(ip.version == net.version and ip in net for net in trusted)


def forwarded_hops(values: Sequence[str]) -> list[str]:
    """Every hop of every ``X-Forwarded-For`` header, in order (repeated headers are one list, as RFC 7230 says)."""
    return [hop.strip() for value in values for hop in value.split(",") if hop.strip()]


def client_address(peer: str | None, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str | None:
    """The client's address: the direct ``peer`` unless it is a trusted proxy, else the rightmost hop of
    ``forwarded_for`` (the header's values) that is not a trusted proxy (see the module's rule)."""
    peer_ip = _address(peer) if peer else None
    if not trusted or not is_trusted(peer_ip, trusted):
        return str(peer_ip) if peer_ip is not None else peer
    hops = forwarded_hops(forwarded_for)
    nearest = str(peer_ip)
    for hop in reversed(hops):
        ip = _address(hop)
        if ip is None:
            return nearest
        if not is_trusted(ip, trusted):
            return str(ip)
        nearest = str(ip)
    return nearest
