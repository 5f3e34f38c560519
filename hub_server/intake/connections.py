"""The connection caps every intake listener shares (IPP/IPPS over HTTP, LPD).

Connections are capped twice, all listeners together: ``connections_max`` in all and
``connections_per_address_max`` from one client address (an IPv4 address, or the IPv4
address inside an IPv4-mapped IPv6 one), so one host cannot take every slot. A connection
over either cap is closed at once (LPD clients get the error byte first); the refusal is
counted and logged, at most once a minute per address.

A TLS connection is counted once its handshake is done (``ssl_handshake_timeout`` bounds the
handshake itself).
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import time
from collections import Counter
from collections.abc import Callable

__all__ = ["ConnectionGuard", "client_address"]

log = logging.getLogger(__name__)

REFUSAL_LOG_INTERVAL_S = 60.0


def client_address(peer: object) -> str:
    """The address a connection counts against: the host part of ``peername``, with an
    IPv4-mapped IPv6 address reduced to its IPv4 address."""
    host = peer[0] if isinstance(peer, tuple) and peer else str(peer)
    try:
        address = ipaddress.ip_address(str(host))
    except ValueError:
        return str(host)
    mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
    return str(mapped or address)


class _RefusalLog:
    """Logs refused connections at most once per ``interval_s`` per address, with the count
    of refusals not logged in between (a flood must not become a flood of log lines)."""

    def __init__(self, interval_s: float = REFUSAL_LOG_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self._last: dict[str, tuple[float, int]] = {}

    def refused(self, address: str, why: str) -> None:
        now = time.monotonic()
        last_s, quiet = self._last.get(address, (-self.interval_s, 0))
        if now - last_s < self.interval_s:
            self._last[address] = (last_s, quiet + 1)
            return
        if len(self._last) > 10_000:  # bounded memory under a spoofed-address flood
            self._last.clear()
        self._last[address] = (now, 0)
        also = f" ({quiet} more refused since the last report)" if quiet else ""
        log.warning("intake: refused a connection from %s: %s%s", address, why, also)


class ConnectionGuard:
    """Admits connections within the caps and knows every open one (to close it on shutdown).

    ``connections`` maps each open connection's transport to its client address;
    ``per_address`` counts them by address.
    """

    def __init__(
        self, connections_max: int, per_address_max: int, count: Callable[[str], None] = lambda event: None
    ) -> None:
        self.connections_max = connections_max
        self.per_address_max = per_address_max
        self.connections: dict[asyncio.BaseTransport, str] = {}
        self.per_address: Counter[str] = Counter()
        self._count = count
        self._refusals = _RefusalLog()

    def _refusal(self, address: str) -> str | None:
        if len(self.connections) >= self.connections_max:
            return f"{len(self.connections)} connections are open (connections_max)"
        if self.per_address[address] >= self.per_address_max:
            return f"{self.per_address[address]} connections from this address are open (per-address cap)"
        return None

    def admit(self, transport: asyncio.BaseTransport) -> bool:
        """Count a new connection in, or refuse it (counted, logged; the caller closes it)."""
        address = client_address(transport.get_extra_info("peername"))
        why = self._refusal(address)
        if why is not None:
            # Many stalled clients must not exhaust file descriptors or spool writers.
            self._count("connections_refused")
            self._refusals.refused(address, why)
            return False
        self.connections[transport] = address
        self.per_address[address] += 1
        return True

    def release(self, transport: asyncio.BaseTransport) -> None:
        """Count a closed connection out (once; unknown transports are ignored)."""
        address = self.connections.pop(transport, None)
        if address is None:
            return
        self.per_address[address] -= 1
        if not self.per_address[address]:
            del self.per_address[address]

    def close_all(self) -> None:
        """Close every open connection (shutdown)."""
        for transport in list(self.connections):
            transport.close()
