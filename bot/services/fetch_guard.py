"""Where a policy source may be fetched from: public http(s) addresses, within a total deadline.

A source URL is untrusted: it, or any redirect it leads to, could point the bot at its own
machine, the local network or a cloud metadata service. Every connection goes through
`GuardedBackend`, which resolves the host itself, keeps only public addresses (loopback,
private, link-local, multicast and reserved ones only when an allow-list setting names them),
connects to the very address it checked (no second lookup to rebind), and ends every read and
write by the fetch's deadline.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address
from typing import Any
from urllib.parse import urlsplit

import httpcore

from bot.domain.errors import BotError

IPAddress = IPv4Address | IPv6Address
Networks = Sequence[IPv4Network | IPv6Network]
SCHEMES = ("http", "https")
# getaddrinfo cannot be given a timeout; it runs here so the fetch can stop waiting for it.
_RESOLVER = ThreadPoolExecutor(4, thread_name_prefix="resolve")


class AddressRefused(BotError):
    """A URL or an address a source may not be fetched from; the message says why."""

    code = "address_refused"


def refusal(ip: IPAddress, allowed: Networks = ()) -> str | None:
    """Return why `ip` may not be fetched from (None: it may), e.g. "loopback"."""
    if isinstance(ip, IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip.version == net.version and ip in net for net in allowed):
        return None
    for reason, test in (
        ("loopback", ip.is_loopback),
        ("link-local (cloud metadata)", ip.is_link_local),
        ("unspecified", ip.is_unspecified),
        ("multicast", ip.is_multicast),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
        ("non-public", not ip.is_global),
    ):
        if test:
            return reason
    return None


def resolve(host: str, port: int, *, timeout: float) -> list[IPAddress]:
    """Return every address `host` resolves to (a literal address is itself)."""
    try:
        return [ip_address(host.strip("[]"))]
    except ValueError:
        pass
    future = _RESOLVER.submit(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM)
    try:
        infos = future.result(timeout=max(timeout, 0.001))
    except FutureTimeout:
        raise httpcore.ConnectTimeout(f"resolving {host} took too long") from None
    except OSError as exc:
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from None
    return [ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def permitted(host: str, addresses: Iterable[IPAddress], allowed: Networks) -> list[IPAddress]:
    """Return the addresses of `host` a source may be fetched from; raise if there are none."""
    addresses = list(addresses)
    ok = [ip for ip in addresses if refusal(ip, allowed) is None]
    if not ok:
        ip = addresses[0] if addresses else "nothing"
        reason = refusal(addresses[0], allowed) if addresses else "missing"
        raise AddressRefused(
            f"{host} is {ip}, a {reason} address; sources must be on the public internet "
            "(CLEARANCE_FETCH_ALLOWED_ADDRESSES lists exceptions)"
        )
    return ok


def check_url(url: str, allowed: Networks = (), *, timeout: float = 5.0) -> None:
    """Raise `AddressRefused` unless `url` is http(s) and its host resolves to allowed addresses.

    A host that cannot be resolved now passes: every fetch checks again.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused(f"The URL '{url[:200]}' is not valid ({exc}).") from None
    if parts.scheme not in SCHEMES:
        raise AddressRefused(f"The URL must start with http:// or https:// (got '{url[:200]}').")
    if not parts.hostname:
        raise AddressRefused(f"The URL '{url[:200]}' names no host.")
    try:
        addresses = resolve(parts.hostname, port or 443, timeout=timeout)
    except httpcore.NetworkError:
        return
    except httpcore.TimeoutException:
        return
    permitted(parts.hostname, addresses, allowed)


class DeadlineStream(httpcore.NetworkStream):
    """A connection whose every read and write ends by the fetch's deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def _timeout(self, timeout: float | None, error: type[Exception]) -> float:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise error("the fetch ran out of time")
        return remaining if timeout is None else min(timeout, remaining)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read within the deadline."""
        return self._inner.read(max_bytes, self._timeout(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write within the deadline."""
        self._inner.write(buffer, self._timeout(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        """Close the connection."""
        self._inner.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        """Upgrade to TLS within the deadline."""
        inner = self._inner.start_tls(
            ssl_context, server_hostname, self._timeout(timeout, httpcore.ConnectTimeout)
        )
        return DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        """Pass through (the socket, TLS details)."""
        return self._inner.get_extra_info(info)


class GuardedBackend(httpcore.NetworkBackend):
    """Open connections only to checked addresses, and only until `deadline` (monotonic)."""

    def __init__(self, deadline: float, allowed: Networks = ()) -> None:
        self._deadline = deadline
        self._allowed = allowed
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Resolve, check every address, then connect to the first one."""
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise httpcore.ConnectTimeout("the fetch ran out of time")
        addresses = permitted(host, resolve(host, port, timeout=remaining), self._allowed)
        remaining = self._deadline - time.monotonic()
        stream = self._inner.connect_tcp(
            str(addresses[0]),
            port,
            timeout=remaining if timeout is None else min(timeout, remaining),
            local_address=local_address,
            socket_options=socket_options,
        )
        return DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        """Never: sources are fetched over TCP."""
        raise AddressRefused("sources are fetched over TCP only")

    def sleep(self, seconds: float) -> None:
        """Sleep (httpcore's retries; none are configured)."""
        time.sleep(seconds)
