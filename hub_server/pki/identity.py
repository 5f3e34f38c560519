"""Device identities and how they are written into certificates.

A device certificate names its device three ways, all set by the hub:

* subject ``CN=<device id>, OU=<kind>`` — Mosquitto's ``use_identity_as_username`` takes the CN,
  so broker ACL patterns (``%u``) confine a device to its own topics;
* one URI SAN ``urn:printgate:<kind>:<device id>`` — what the hub reads back;
* extended key usage ``clientAuth`` only, so a device certificate can never serve TLS, and the
  hub's server certificate (``serverAuth``, no URI) can never pass as a device.

Device ids are 1..64 characters of letters, digits, ``.``, ``_`` and ``-``, starting with a
letter or digit: safe in MQTT topics (no ``+``, ``#`` or ``/``), file names and URIs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal, TypeVar, cast

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub_server.pki.errors import PeerRefused

__all__ = ["DEVICE_KINDS", "DeviceIdentity", "DeviceKind", "check_device_id", "identity_of"]

DeviceKind = Literal["terminal", "kiosk"]
DEVICE_KINDS: tuple[DeviceKind, ...] = ("terminal", "kiosk")
URI_PREFIX = "urn:printgate:"
E = TypeVar("E", bound=x509.ExtensionType)
_DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


def check_device_id(device_id: str) -> str:
    """``device_id`` if it is a valid device id, else ValueError."""
    if not _DEVICE_ID.match(device_id):
        raise ValueError(
            f"device id {device_id[:80]!r} must be 1-64 of A-Z a-z 0-9 . _ - (starting alphanumeric)"
        )
    return device_id


@dataclass(frozen=True)
class DeviceIdentity:
    """Who a device is: its kind and its id (unique across kinds)."""

    kind: DeviceKind
    device_id: str

    def __post_init__(self) -> None:
        if self.kind not in DEVICE_KINDS:
            raise ValueError(f"device kind must be one of {DEVICE_KINDS}, not {self.kind!r}")
        check_device_id(self.device_id)

    @property
    def uri(self) -> str:
        """The URI SAN naming this device."""
        return f"{URI_PREFIX}{self.kind}:{self.device_id}"

    def subject(self) -> x509.Name:
        """The certificate subject naming this device."""
        return x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, self.kind),
                x509.NameAttribute(NameOID.COMMON_NAME, self.device_id),
            ]
        )

    @classmethod
    def from_uri(cls, uri: str) -> DeviceIdentity:
        """The identity a URI SAN names, or ValueError."""
        if not uri.startswith(URI_PREFIX):
            raise ValueError(f"not a printgate device URI: {uri[:80]!r}")
        kind, _, device_id = uri.removeprefix(URI_PREFIX).partition(":")
        if kind not in DEVICE_KINDS:
            raise ValueError(f"unknown device kind in {uri[:80]!r}")
        return cls(cast(DeviceKind, kind), device_id)


def _extension(certificate: x509.Certificate, kind: type[E]) -> E | None:
    try:
        return certificate.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def identity_of(certificate: x509.Certificate) -> DeviceIdentity:
    """The device a client certificate names, checked strictly; :class:`PeerRefused` when it is
    not a device certificate (no clientAuth, no or several identities, CN disagreeing)."""
    usage = _extension(certificate, x509.ExtendedKeyUsage)
    if usage is None or ExtendedKeyUsageOID.CLIENT_AUTH not in usage:
        raise PeerRefused("client certificate is not for client authentication")
    names = _extension(certificate, x509.SubjectAlternativeName)
    uris = names.get_values_for_type(x509.UniformResourceIdentifier) if names is not None else []
    if len(uris) != 1:
        raise PeerRefused("client certificate does not name exactly one device")
    try:
        identity = DeviceIdentity.from_uri(uris[0])
    except ValueError as error:
        raise PeerRefused(f"client certificate names no device: {error}") from None
    if identity.subject() != certificate.subject:
        raise PeerRefused("client certificate subject disagrees with its device name")
    return identity
