"""The client's address behind the facilitator's proxies: X-Forwarded-For is read only from a trusted peer, from the
right, and a participant's own entries are never believed (ragft/net/forwarded.py)."""

from __future__ import annotations

import ipaddress

import pytest

from ragft.errors import ConfigError
from ragft.net.forwarded import client_address, forwarded_hops, parse_trusted_proxies
from ragft.settings import load_settings

PROXY = parse_trusted_proxies("127.0.0.1, ::1")
TWO_HOPS = parse_trusted_proxies("127.0.0.1, 10.0.0.0/24")


def test_the_setting_takes_addresses_and_blocks_and_refuses_names():
    assert parse_trusted_proxies(None) == () and parse_trusted_proxies(" , ") == ()
    nets = parse_trusted_proxies("127.0.0.1, [::1], 10.0.0.0/24; 192.168.1.7/32")
    assert nets == (
        ipaddress.ip_network("127.0.0.1/32"),
        ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("10.0.0.0/24"),
        ipaddress.ip_network("192.168.1.7/32"),
    )
    assert parse_trusted_proxies("10.0.0.5/24") == (ipaddress.ip_network("10.0.0.0/24"),)  # host bits dropped
    with pytest.raises(ConfigError, match="RAGFT_TRUSTED_PROXIES.*proxy.lan"):
        parse_trusted_proxies("127.0.0.1, proxy.lan")
    assert load_settings({"RAGFT_TRUSTED_PROXIES": "127.0.0.1"}).trusted_proxies == PROXY[:1]
    assert load_settings({}).trusted_proxies == ()
    with pytest.raises(ConfigError, match="RAGFT_TRUSTED_PROXIES"):
        load_settings({"RAGFT_TRUSTED_PROXIES": "localhost"})


def test_without_trusted_proxies_the_header_is_ignored():
    assert client_address("192.168.1.23", ["1.2.3.4"], ()) == "192.168.1.23"
    assert client_address("127.0.0.1", ["203.0.113.9"], ()) == "127.0.0.1"
    assert client_address(None, ["203.0.113.9"], PROXY) is None


def test_a_peer_that_is_not_a_trusted_proxy_cannot_spoof_its_address():
    # A participant on the LAN reaches the app directly and sends the header: it is not read.
    assert client_address("192.168.1.23", ["127.0.0.1", "10.9.9.9"], PROXY) == "192.168.1.23"
    assert client_address("192.168.1.23", ["203.0.113.9"], TWO_HOPS) == "192.168.1.23"


def test_behind_a_trusted_proxy_the_rightmost_untrusted_hop_is_the_client():
    assert client_address("127.0.0.1", ["192.168.1.23"], PROXY) == "192.168.1.23"
    # The participant's own header comes first; the proxy appends what it saw: only that is believed.
    assert client_address("127.0.0.1", ["6.6.6.6, 192.168.1.23"], PROXY) == "192.168.1.23"
    assert client_address("127.0.0.1", ["127.0.0.1, 192.168.1.23"], PROXY) == "192.168.1.23"
    # Two proxies (a load balancer on 10.0.0.2 in front of a local Caddy): both hops are skipped.
    assert client_address("127.0.0.1", ["6.6.6.6, 198.51.100.7, 10.0.0.2"], TWO_HOPS) == "198.51.100.7"
    # Repeated headers are one list, in order.
    assert client_address("127.0.0.1", ["6.6.6.6", "198.51.100.7", "10.0.0.2"], TWO_HOPS) == "198.51.100.7"
    # Ports and brackets as proxies write them; an IPv4-mapped peer is its IPv4 address.
    assert client_address("::ffff:127.0.0.1", ["198.51.100.7:51234"], PROXY) == "198.51.100.7"
    assert client_address("::1", ["[2001:db8::5]:443"], PROXY) == "2001:db8::5"


def test_no_header_garbage_or_only_proxies():
    assert client_address("127.0.0.1", [], PROXY) == "127.0.0.1"  # a proxy that sent none: the proxy itself
    assert client_address("127.0.0.1", [""], PROXY) == "127.0.0.1"
    # A hop that is not an address ends the walk at the last trusted hop: garbage is not a client identity.
    assert client_address("127.0.0.1", ["198.51.100.7, not-an-ip"], PROXY) == "127.0.0.1"
    assert client_address("127.0.0.1", ["6.6.6.6, 10.0.0.3, unknown"], TWO_HOPS) == "127.0.0.1"
    # Every hop trusted: the leftmost (the client is itself one of the proxies).
    assert client_address("127.0.0.1", ["10.0.0.9, 10.0.0.2"], TWO_HOPS) == "10.0.0.9"
    assert forwarded_hops(["a, b", " ", "c"]) == ["a", "b", "c"]
