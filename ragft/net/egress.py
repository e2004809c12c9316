"""The rules for a URL a participant types: its shape, and every address its host resolves to.

A participant's base URL (chat slots, embeddings, and so the judge, question drafting and "Test connection") is
refused when it has userinfo (``user:pw@``), a query or a fragment, or when any address its host resolves to is not
public (see :mod:`ragft.net.addresses`), unless the facilitator allows it with ``RAGFT_ALLOWED_HOSTS``: a
comma-separated list of host names, IP addresses or CIDR blocks, each optionally with ``:port``
(``ollama.lan, 10.0.0.0/8, 127.0.0.1:11434, [fd00::5]:8000``). A name entry allows that name whatever it resolves
to; an address or block entry allows the addresses in it, whichever name or spelling leads there.

Lookups are cached for :data:`RESOLVE_TTL_S`; the connection itself (:mod:`ragft.net.transport`) uses the addresses
that were checked, never a second lookup.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from ragft import errors as E
from ragft.net.addresses import IPAddress, classify, embedded_ipv4, parse_host

ALLOWED_HOSTS_VAR = "RAGFT_ALLOWED_HOSTS"
RESOLVE_TTL_S = 30.0
DEFAULT_PORTS = {"http": 80, "https": 443}

_WHY = (
    "The app's server does not connect to loopback, private, link-local or other non-public addresses "
    "for a URL typed in a session."
)
_NAME = re.compile(r"^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$")
_UNSAFE_CHARS = re.compile(r"[\s\\%@?#\x00-\x1f\x7f]")


# ---- the facilitator's allowlist ------------------------------------------------------------------------------
@dataclass(frozen=True)
class HostRule:
    """One ``RAGFT_ALLOWED_HOSTS`` entry: a host name or an address block, on one port or all of them."""

    name: str | None = None
    network: ipaddress.IPv4Network | ipaddress.IPv6Network | None = None
    port: int | None = None

    def allows_name(self, host: str, port: int) -> bool:
        return self.name is not None and self.name == _plain_name(host) and self.port in (None, port)

    def allows_address(self, ip: IPAddress, port: int) -> bool:
        if self.network is None or self.port not in (None, port):
            return False
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        return ip.version == self.network.version and ip in self.network


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _plain_name(host: str) -> str:
    return host.strip().strip("[]").rstrip(".").lower()


def _rule(entry: str) -> HostRule:
    text = entry.strip()
    if "://" in text:  # a whole URL: its host and port
        parts = urlsplit(text)
        text = parts.netloc.rsplit("@", 1)[-1]
    port: int | None = None
    host = text
    m = re.fullmatch(r"\[([^\]]+)\](?::(\d+))?", text) or re.fullmatch(r"([^:\[\]]+)(?::(\d+))?", text)
    if m:
        host, port_text = m.group(1), m.group(2)
        port = int(port_text) if port_text else None
    if port is not None and not 1 <= port <= 65535:
        raise ValueError(f"port {port} is out of range")
    if "/" in host:
        return HostRule(network=ipaddress.ip_network(host, strict=False), port=port)
    ip = parse_host(host)
    if ip is not None:
        return HostRule(network=ipaddress.ip_network(ip), port=port)
    name = _plain_name(host)
    if not _NAME.match(name):
        raise ValueError("not a host name, address or CIDR block")
    return HostRule(name=name, port=port)


def parse_allowed_hosts(text: str | None) -> tuple[HostRule, ...]:
    """``RAGFT_ALLOWED_HOSTS`` as rules; ConfigError naming the entry that cannot be read."""
    rules = []
    for entry in (text or "").replace("\n", ",").split(","):
        if not entry.strip():
            continue
        try:
            rules.append(_rule(entry))
        except ValueError as exc:
            raise E.ConfigError(
                f"{ALLOWED_HOSTS_VAR}: {entry.strip()!r} is not a host, address or CIDR block "
                f"(optionally with :port) ({exc})."
            ) from None
    return tuple(rules)


# ---- the shape of a participant's URL ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Target:
    """A URL that passed the shape check: its scheme, host (as typed, lower-cased) and effective port."""

    url: str
    scheme: str
    host: str
    port: int


def check_url_shape(url: str | None, what: str = "The base URL") -> Target:
    """``url`` if it is a plain ``http(s)://host[:port][/path]`` (UnsafeURL otherwise, naming what to change)."""
    raw = (url or "").strip()
    shown = raw[:120] or "(empty)"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise E.UnsafeURL(f"{what}: {shown!r} is not a valid URL (check the port).") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.netloc or not parts.hostname:
        raise E.UnsafeURL(f"{what}: the base URL must look like http://host:port/v1, got {shown!r}.")
    if "@" in parts.netloc:
        raise E.UnsafeURL(f"{what}: the base URL must not contain a user name or password (user:password@).")
    if "?" in raw or "#" in raw:
        raise E.UnsafeURL(f"{what}: the base URL must not contain a query (?...) or a fragment (#...).")
    if not raw.isascii() or _UNSAFE_CHARS.search(raw):
        raise E.UnsafeURL(
            f"{what}: the base URL contains spaces, backslashes, % escapes or non-ASCII characters; "
            "type the host in ASCII (punycode for international names)."
        )
    host = parts.hostname.lower()
    if parse_host(host) is None and not _NAME.match(_plain_name(host)):
        raise E.UnsafeURL(f"{what}: {host!r} is not a valid host name.")
    return Target(raw, parts.scheme, host, port or DEFAULT_PORTS[parts.scheme])


# ---- lookups ------------------------------------------------------------------------------------------------
_cache: dict[tuple[str, int], tuple[float, tuple[IPAddress, ...]]] = {}
_cache_lock = threading.Lock()


def resolve(host: str, port: int) -> tuple[IPAddress, ...]:
    """The addresses ``host`` stands for: itself when it spells an address, else a lookup (cached briefly).

    Raises ``socket.gaierror`` when the name does not resolve.
    """
    literal = parse_host(host)
    if literal is not None:
        return (literal,)
    key = (_plain_name(host), port)
    now = time.monotonic()
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
    infos = socket.getaddrinfo(key[0], port, type=socket.SOCK_STREAM)
    found: list[IPAddress] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in found:
            found.append(ip)
    if not found:
        raise socket.gaierror(f"{host} has no address")
    addresses = tuple(found)
    with _cache_lock:
        if len(_cache) > 4096:
            _cache.clear()
        _cache[key] = (now + RESOLVE_TTL_S, addresses)
    return addresses


# ---- the check ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Egress:
    """Where a participant's URL may connect: public addresses, plus what the facilitator allowed."""

    rules: tuple[HostRule, ...] = ()

    def refusal(self, host: str, port: int, addresses: Sequence[IPAddress]) -> str | None:
        """Why connecting to ``host`` (at ``addresses``) is refused, or None when it is allowed."""
        if any(r.allows_name(host, port) for r in self.rules):
            return None
        literal = parse_host(host)
        for ip in addresses:
            if any(r.allows_address(ip, port) for r in self.rules):
                continue
            why = classify(ip)
            if why is None:
                continue
            if literal is not None:
                reached = embedded_ipv4(literal) or literal
                spelled = "" if str(reached) == host.strip("[]") else f" (that is {reached})"
                return f"{host}{spelled} is {_a(why)} address"
            return f"{host} resolves to {_a(why)} address"
        return None

    def addresses(self, host: str, port: int, what: str = "This URL") -> tuple[IPAddress, ...]:
        """The checked addresses to connect to; AddressNotAllowed when any of them is refused.

        Raises ``socket.gaierror`` when the name does not resolve.
        """
        self._refuse_localhost(host, port, what)
        found = resolve(host, port)
        why = self.refusal(host, port, found)
        if why is not None:
            raise E.AddressNotAllowed(f"{what}: {why}. {_WHY}")
        return found

    def check(self, url: str | None, what: str = "The base URL", *, lookup: bool = True) -> Target:
        """Shape and addresses of ``url`` (UnsafeURL, AddressNotAllowed); a name that does not resolve is
        EndpointUnreachable. Without ``lookup`` no name is looked up: addresses and the ``localhost`` names are
        checked, other names are left to the connection (for a form, which must not wait on DNS)."""
        target = check_url_shape(url, what)
        if not lookup and parse_host(target.host) is None:
            self._refuse_localhost(target.host, target.port, what)
            return target
        try:
            self.addresses(target.host, target.port, what)
        except socket.gaierror:
            raise E.EndpointUnreachable(f"{what}: the host {target.host!r} does not resolve.") from None
        return target

    def _refuse_localhost(self, host: str, port: int, what: str) -> None:
        """``localhost`` names are the loopback whatever the resolver says (RFC 6761)."""
        if is_localhost_name(host):
            why = self.refusal(host, port, (ipaddress.IPv4Address("127.0.0.1"),))
            if why is not None:
                raise E.AddressNotAllowed(f"{what}: {why}. {_WHY}")


def is_localhost_name(host: str) -> bool:
    """``localhost`` and the names under it (RFC 6761: always the loopback)."""
    name = _plain_name(host)
    return name in ("localhost", "localhost.localdomain") or name.endswith(".localhost")
