"""Outbound connections to addresses a participant chose: what may be reached, and how the connection is made.

- :mod:`ragft.net.addresses`: which IP addresses are public (loopback, private, link-local, CGNAT, unspecified,
  multicast, reserved and the IPv4-mapped / NAT64 / 6to4 forms of them are not), and the numeric host spellings
  the resolver accepts (``2130706433``, ``0x7f000001``, ``0177.0.0.1``, ``127.1``).
- :mod:`ragft.net.egress`: the facilitator's allowlist (``RAGFT_ALLOWED_HOSTS``), the shape a participant's base
  URL must have (http(s), a host, no userinfo, query or fragment) and the check of every address a host resolves to.
- :mod:`ragft.net.transport`: an ``httpx2`` transport that resolves and checks the host when it connects and
  then connects to the address it checked (no second lookup, so no DNS rebinding), keeping the Host header and
  TLS SNI; the client built on it never follows redirects.
"""
