"""The fetch guard: what a URL given by a remote caller may make this process connect to.

A fetch a remote caller triggers (`POST /v1/ingest`, and the pages `follow_links`
reads from what it returned) must not reach the network the server runs in:
loopback, private, link-local (cloud instance metadata at 169.254.169.254),
multicast, reserved and unspecified addresses, IPv4 or IPv6, however the URL
spells them (`2130706433`, `127.1`, `0x7f.0.0.1`, `[::ffff:127.0.0.1]`).

The check is made where the connection is opened, not before the request:
`GuardedBackend` resolves the host once, refuses the lot if any address is not
allowed, and connects to the checked address itself. There is no window for a
DNS answer to change between the check and the connection, and every redirect
hop opens its own connection, so every hop is checked.

`SPACEBOT_FETCH_ALLOW` (comma-separated host names or CIDRs) lets an operator's
intranet feeds in. `SPACEBOT_FETCH_GUARD` says which fetches are guarded: `api`
(the default: those a remote caller triggers; the operator's own `spacebot
ingest`/`watch` are not) or `all` (every fetch).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from ingest.settings import Settings

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOWED_SCHEMES = ("http", "https")
HINT = "see SPACEBOT_FETCH_ALLOW"


class FetchRefused(Exception):
    """A URL or address the guard does not let this process fetch; `str()` says why in one line."""


def address_kind(address: Address) -> str | None:
    """Why `address` is not a public one ("loopback", "private", ...), or None when it is."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if embedded is not None:  # ::ffff:127.0.0.1, 2002:7f00:1::, Teredo: judged by the IPv4 inside
            return address_kind(embedded)
    for kind in ("unspecified", "loopback", "link_local", "multicast", "private", "reserved"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    if not address.is_global:  # e.g. 100.64.0.0/10 (carrier-grade NAT), 64:ff9b:1::/48
        return "non-public"
    return None


@dataclass(frozen=True)
class FetchGuard:
    """Which hosts and addresses an outside caller's fetches may reach (public ones, plus `allow`)."""

    allowed_hosts: frozenset[str] = frozenset()
    allowed_networks: tuple[Network, ...] = ()

    @classmethod
    def from_setting(cls, allow: str | None) -> FetchGuard:
        """From `SPACEBOT_FETCH_ALLOW`: `intranet.example, 10.1.0.0/16, 127.0.0.1` (a bad CIDR is a ValueError)."""
        hosts, networks = set(), []
        for item in (part.strip() for part in (allow or "").split(",")):
            if not item:
                continue
            try:
                networks.append(ipaddress.ip_network(item.strip("[]"), strict=False))
            except ValueError:
                if "/" in item or not _is_host_name(item):
                    raise ValueError(f"SPACEBOT_FETCH_ALLOW: {item!r} is neither a host name nor a CIDR") from None
                hosts.add(_normal_host(item))
        return cls(frozenset(hosts), tuple(networks))

    def check_url(self, url: str) -> None:
        """Refuse a URL whose scheme is not http(s) or which names no host (addresses are checked at connect)."""
        parts = urlsplit(url)
        if parts.scheme.lower() not in ALLOWED_SCHEMES:
            raise FetchRefused(f"only http and https URLs can be fetched, not {parts.scheme or 'no scheme'}:")
        if not parts.hostname:
            raise FetchRefused("the URL names no host")

    def addresses(self, host: str, port: int) -> list[str]:
        """The addresses `host` resolves to, each one allowed; else `FetchRefused` naming the first that is not."""
        if _normal_host(host) in self.allowed_hosts:
            return _resolve(host, port)
        resolved = _resolve(host, port)
        for text in resolved:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            address = getattr(address, "ipv4_mapped", None) or address  # ::ffff:a.b.c.d is a.b.c.d
            kind = address_kind(address)
            if kind and not any(address in network for network in self.allowed_networks):
                _refuse(host, address, kind)
        return resolved


def _refuse(host: str, address: Address, kind: str) -> NoReturn:
    named = "" if host.strip("[]") == str(address) else f" (host {host})"
    raise FetchRefused(f"private address {address}{named} not allowed ({kind}); {HINT}")


def _resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (numeric spellings as the C library reads them), in order."""
    try:
        infos = socket.getaddrinfo(host.strip("[]"), port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise FetchRefused(f"cannot resolve host {host}: {getattr(exc, 'strerror', None) or exc}") from None
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def _normal_host(host: str) -> str:
    return host.strip("[]").rstrip(".").lower()


def _is_host_name(text: str) -> bool:
    labels = text.rstrip(".").split(".")
    return all(label and all(c.isalnum() or c == "-" for c in label) for label in labels)


def guard_for(settings: Settings, remote: bool) -> FetchGuard | None:
    """The guard a fetch gets: always for a `remote` caller's; for the operator's own
    only with `SPACEBOT_FETCH_GUARD=all`."""
    if remote or settings.fetch_guard == "all":
        return FetchGuard.from_setting(settings.fetch_allow)
    return None


class GuardedBackend:
    """An httpcore network backend that connects only to addresses the guard allows (see module docstring)."""

    def __init__(self, guard: FetchGuard) -> None:
        import httpcore

        self.guard = guard
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable | None = None,
    ):
        """Resolve once, check every address, connect to the first that answers (never to a name)."""
        import httpcore

        last: Exception | None = None
        for address in self.guard.addresses(host, port):
            try:
                return self._inner.connect_tcp(address, port, timeout, local_address, socket_options)
            except httpcore.ConnectError as exc:  # the next address, as socket.create_connection would
                last = exc
        raise last or httpcore.ConnectError(f"no address for {host}")

    def connect_unix_socket(self, *args, **kwargs):
        raise FetchRefused("unix sockets are not fetched")

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def guarded_transport(guard: FetchGuard):
    """An httpx transport whose every connection goes through `GuardedBackend` (no proxy from the environment)."""
    import httpcore
    import httpx

    transport = httpx.HTTPTransport(trust_env=False)
    # httpx builds its httpcore pool without a way to pass a network backend: rebuild it with ours,
    # with the TLS context httpx made (certificates verified against the host name, as usual).
    ssl_context = transport._pool._ssl_context  # noqa: SLF001 (httpx 0.29 / httpcore 1.0; tests cover it)
    transport._pool = httpcore.ConnectionPool(ssl_context=ssl_context, network_backend=GuardedBackend(guard))  # noqa: SLF001
    return transport
