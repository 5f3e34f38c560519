"""Where a device or the admin CLI dials the hub: one gRPC channel over every hub replica.

A site with several hub replicas gives its devices several addresses (``[pki] device_addresses``,
carried by the enrollment) or one DNS name with several addresses. gRPC itself spreads the calls
and fails over: :func:`balanced_target` makes the channel's target, :data:`BALANCING` the part of
its service config that asks for round robin over the replicas whose health service
(``grpc.health.v1``, which every hub serves) answers SERVING. A replica that stops says
NOT_SERVING first and gets no new calls; a replica that dies is left as soon as its connection
fails, and the calls a client may repeat (declared per client) are retried on another.

* One name: ``dns:///name:port``, every address the name has; gRPC re-resolves it when a
  connection fails.
* Several addresses: names are resolved here, when the channel is made, and all addresses
  become one ``ipv4:`` (or ``ipv6:``) target. A name that does not resolve is left out (and
  logged); when none does, the first address is dialled by name.
* TLS: each replica's certificate is checked against the first address's host
  (:attr:`HubTarget.tls_name`), so every replica's certificate must name it: give every
  replica the same ``[pki] server_names``.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["BALANCING", "HubTarget", "balanced_target", "split_addresses"]

log = logging.getLogger(__name__)

# Round robin over the replicas that answer SERVING on the standard health service ("" names
# the whole server; the hub sets it).
BALANCING: dict[str, Any] = {
    "loadBalancingConfig": [{"round_robin": {}}],
    "healthCheckConfig": {"serviceName": ""},
}


@dataclass(frozen=True)
class HubTarget:
    """A channel target and the host name TLS checks the replicas' certificates against."""

    target: str
    tls_name: str

    def channel_options(self) -> list[tuple[str, Any]]:
        """The options that make TLS check ``tls_name`` (none when the target names it)."""
        return [("grpc.ssl_target_name_override", self.tls_name), ("grpc.default_authority", self.tls_name)]


def split_addresses(text: str) -> tuple[str, ...]:
    """``"hub-a:50051, hub-b:50051"`` -> the addresses (empty parts dropped)."""
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _host_port(address: str) -> tuple[str, int]:
    host, separator, port = address.rpartition(":")
    if not separator or not port.isdigit() or not host:
        raise ValueError(f"a hub address is HOST:PORT, not {address!r}")
    return host.strip("[]"), int(port)


def _literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _resolved(host: str, port: int) -> list[tuple[int, str]]:
    """(family, address) of ``host``: itself when it is an IP literal, else what it resolves to."""
    literal = _literal(host)
    if literal is not None:
        return [(socket.AF_INET if literal.version == 4 else socket.AF_INET6, str(literal))]
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as error:
        log.warning("hub address %s:%d does not resolve (%s): left out", host, port, error)
        return []
    return [(int(family), str(sockaddr[0])) for family, _, _, _, sockaddr in found]


def balanced_target(addresses: Sequence[str]) -> HubTarget:
    """The target over every hub address in ``addresses`` (``HOST:PORT`` each, at least one)."""
    if not addresses:
        raise ValueError("no hub address")
    first_host = _host_port(addresses[0])[0]
    if len(addresses) == 1:
        target = addresses[0] if _literal(first_host) is not None else f"dns:///{addresses[0]}"
        return HubTarget(target, first_host)
    by_family: dict[int, list[str]] = {socket.AF_INET: [], socket.AF_INET6: []}
    for address in addresses:
        host, port = _host_port(address)
        for family, ip in _resolved(host, port):
            endpoint = f"{ip}:{port}" if family == socket.AF_INET else f"[{ip}]:{port}"
            if endpoint not in by_family[family]:
                by_family[family].append(endpoint)
    # one target has one scheme: IPv4 where any replica has an IPv4 address, else IPv6
    if by_family[socket.AF_INET]:
        return HubTarget("ipv4:" + ",".join(by_family[socket.AF_INET]), first_host)
    if by_family[socket.AF_INET6]:
        return HubTarget("ipv6:" + ",".join(by_family[socket.AF_INET6]), first_host)
    return HubTarget(f"dns:///{addresses[0]}", first_host)
