"""The fetch guard under the `Fetcher`, against a real loopback server that must never be reached.

Hypothesis writes private addresses in the spellings URL parsers and C resolvers
accept (decimal, hex, octal, short forms, IPv4-mapped and 6to4 IPv6); every one
must come back as a refused input, and the sentinel server must count zero requests.
"""

from __future__ import annotations

import ipaddress
import socket

import pytest
from conftest import make_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from web_fixture import Site

from ingest.article import InputError
from ingest.fetch_guard import FetchGuard, guard_for
from ingest.sources import Fetcher

PRIVATE_V4 = [
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "0.0.0.0/8",
    "100.64.0.0/10",
    "224.0.0.0/4",
    "240.0.0.0/4",
]
PRIVATE_V6 = ["::1/128", "fe80::/10", "fc00::/7", "ff00::/8", "::/128"]


@pytest.fixture(scope="module")
def sentinel():
    site = Site("127.0.0.1")
    site.add("/x", "<html><body>internal</body></html>")
    yield site
    site.close()


def fetch(url: str, guard: FetchGuard | None = None) -> bytes:
    fetcher = Fetcher(timeout=1, max_bytes=1_000_000, guard=guard or FetchGuard())
    try:
        return fetcher(url)
    finally:
        fetcher.close()


def refused(url: str, guard: FetchGuard | None = None) -> str:
    with pytest.raises(InputError) as caught:
        fetch(url, guard)
    return caught.value.reason


def address_in(networks: list[str]):
    nets = [ipaddress.ip_network(n) for n in networks]
    return st.sampled_from(nets).flatmap(
        lambda n: st.integers(0, n.num_addresses - 1).map(lambda i: n.network_address + i)
    )


def v4_spellings(address: ipaddress.IPv4Address):
    """Ways to write `address` in a URL host that inet_aton (and so getaddrinfo) reads as it."""
    n, parts = int(address), address.packed
    a, b, c, d = parts
    return st.sampled_from(
        [
            str(address),
            str(n),  # 2130706433
            hex(n),  # 0x7f000001
            ".".join(hex(p) for p in parts),  # 0x7f.0x0.0x0.0x1
            ".".join(f"0{p:o}" for p in parts),  # 0177.00.00.01
            f"{a}.{b}.{(c << 8) | d}",  # 127.0.1
            f"{a}.{(b << 16) | (c << 8) | d}",  # 127.1
            f"[::ffff:{address}]",  # IPv4-mapped IPv6
            f"[::ffff:{(a << 8) | b:x}:{(c << 8) | d:x}]",
            f"[2002:{(a << 8) | b:x}:{(c << 8) | d:x}::1]",  # 6to4 around it
        ]
    )


private_hosts = st.one_of(
    address_in(PRIVATE_V4).flatmap(v4_spellings),
    address_in(PRIVATE_V6).map(lambda a: f"[{a}]"),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(host=private_hosts)
def test_every_spelling_of_a_private_address_is_refused(host, sentinel):
    port = sentinel.server.server_address[1]
    reason = refused(f"http://{host}:{port}/x")
    assert "not allowed" in reason or reason.startswith("not a valid URL"), (host, reason)
    assert sentinel.take_requests() == []


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(host=address_in(["127.0.0.1/32"]).flatmap(v4_spellings))
def test_spellings_of_the_sentinel_are_refused_before_any_connection(host, sentinel):
    port = sentinel.server.server_address[1]
    reason = refused(f"http://{host}:{port}/x")
    assert "(loopback)" in reason or reason.startswith("not a valid URL"), reason
    assert sentinel.take_requests() == []


def test_the_message_names_the_address_the_host_and_the_setting(sentinel):
    port = sentinel.server.server_address[1]
    assert refused(f"http://127.0.0.1:{port}/x") == (
        "private address 127.0.0.1 not allowed (loopback); see SPACEBOT_FETCH_ALLOW"
    )
    assert refused(f"http://localhost:{port}/x").startswith("private address 127.0.0.1 (host localhost) not allowed")
    assert refused("file:///etc/passwd").startswith("only http and https URLs")
    assert refused(f"gopher://127.0.0.1:{port}/x").startswith("only http and https URLs")
    assert sentinel.take_requests() == []


def test_the_allow_list_takes_cidrs_and_host_names(sentinel):
    port = sentinel.server.server_address[1]
    assert fetch(f"http://127.0.0.1:{port}/x", FetchGuard.from_setting("127.0.0.0/8")).startswith(b"<html>")
    assert fetch(f"http://localhost:{port}/x", FetchGuard.from_setting("intranet, LOCALHOST")).startswith(b"<html>")
    assert len(sentinel.take_requests()) == 2
    assert "127.0.0.1" in refused(f"http://127.0.0.1:{port}/x", FetchGuard.from_setting("10.0.0.0/8, localhost"))
    with pytest.raises(ValueError, match="SPACEBOT_FETCH_ALLOW"):
        FetchGuard.from_setting("10.0.0.0/33")


def test_a_redirect_hop_to_a_private_address_is_refused(sentinel):
    allowed = Site("127.0.0.2")
    try:
        target = f"{sentinel.base}/x"
        url = allowed.redirect("/moved", target)
        reason = refused(url, FetchGuard.from_setting("127.0.0.2"))
        assert reason.startswith(f"redirected to {target}: private address 127.0.0.1 not allowed")
        assert [r.path for r in allowed.take_requests()] == ["/moved"]
    finally:
        allowed.close()
    assert sentinel.take_requests() == []


def test_a_name_with_any_private_address_is_refused_and_only_checked_addresses_are_dialled(sentinel, monkeypatch):
    """DNS cannot run here: the resolver is replaced by one that answers a public address and the
    sentinel's for one name, as a rebinding attacker's DNS would."""
    port = sentinel.server.server_address[1]
    real = socket.getaddrinfo

    def two_faced(host, *args, **kwargs):
        if host == "rebind.example":
            return [
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.216.34", port)),
                (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port)),
            ]
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", two_faced)
    reason = refused(f"http://rebind.example:{port}/x")
    assert reason.startswith("private address 127.0.0.1 (host rebind.example) not allowed")
    assert sentinel.take_requests() == []


def test_the_cli_is_unguarded_unless_fetch_guard_is_all(sentinel, tmp_path):
    port = sentinel.server.server_address[1]
    assert guard_for(make_settings(tmp_path), remote=False) is None
    unguarded = Fetcher(timeout=1, max_bytes=1_000_000)  # what `spacebot ingest` and `watch` use by default
    assert unguarded(f"http://127.0.0.1:{port}/x").startswith(b"<html>")
    unguarded.close()
    assert len(sentinel.take_requests()) == 1
    everything = guard_for(make_settings(tmp_path, SPACEBOT_FETCH_GUARD="all"), remote=False)
    assert "not allowed" in refused(f"http://127.0.0.1:{port}/x", everything)
    assert guard_for(make_settings(tmp_path), remote=True) is not None
    assert sentinel.take_requests() == []
