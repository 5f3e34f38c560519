"""The enrollment token format, shared by the hub (which makes tokens) and devices (which read
them): one home for the fact.

A token is one printable, shell-safe string::

    pge1-<token id>-<secret>-<anchor sha256>-<check>@<host:port>[,<host:port>...]

* ``token id``: 10 hex digits, public; names the token in listings and revocations.
* ``secret``: 32 hex digits (128 random bits); the hub stores only a keyed hash of it.
* ``anchor sha256``: 64 hex digits, the SHA-256 of the DER encoding of the certificate the device
  must verify the hub with (:func:`certificate_fingerprint`). The device pins it before it sends
  anything.
* ``check``: 8 hex digits, the start of a SHA-256 over everything else, so a damaged copy is
  reported as damaged, not as a wrong secret or a man in the middle.
* addresses: where the enrollment listener is, tried in order; IPv6 literals in brackets.

Parsing ignores surrounding whitespace and the case of the hex fields.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass

__all__ = [
    "PREFIX",
    "EnrollmentToken",
    "MalformedToken",
    "certificate_fingerprint",
    "parse_token",
]

PREFIX = "pge1"
TOKEN_ID_HEX = 10
SECRET_HEX = 32
FINGERPRINT_HEX = 64
CHECK_HEX = 8
MAX_ADDRESSES = 8
MAX_TOKEN_CHARS = 1024
_ADDRESS = re.compile(r"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))(?::(\d{1,5}))$")


class MalformedToken(ValueError):
    """Text that is not an enrollment token; the message says which part is wrong."""


def certificate_fingerprint(certificate_der: bytes) -> str:
    """Lower-case hex SHA-256 of a certificate's DER encoding (what ``openssl x509 -fingerprint
    -sha256`` prints, without colons)."""
    return hashlib.sha256(certificate_der).hexdigest()


@dataclass(frozen=True)
class EnrollmentToken:
    """A parsed token. ``str(token)`` is the printable form."""

    token_id: str
    secret: str
    anchor_sha256: str
    addresses: tuple[str, ...]

    def __post_init__(self) -> None:
        _check_hex("token id", self.token_id, TOKEN_ID_HEX)
        _check_hex("secret", self.secret, SECRET_HEX)
        _check_hex("CA fingerprint", self.anchor_sha256, FINGERPRINT_HEX)
        if not 1 <= len(self.addresses) <= MAX_ADDRESSES:
            raise MalformedToken(f"token must name 1 to {MAX_ADDRESSES} hub addresses")
        for address in self.addresses:
            _check_address(address)

    @classmethod
    def new(cls, anchor_sha256: str, addresses: tuple[str, ...] | list[str]) -> EnrollmentToken:
        """A fresh token with a random id and secret."""
        return cls(
            token_id=secrets.token_hex(TOKEN_ID_HEX // 2),
            secret=secrets.token_hex(SECRET_HEX // 2),
            anchor_sha256=anchor_sha256.lower(),
            addresses=tuple(addresses),
        )

    def __str__(self) -> str:
        body = f"{PREFIX}-{self.token_id}-{self.secret}-{self.anchor_sha256}"
        tail = ",".join(self.addresses)
        return f"{body}-{_check(body, tail)}@{tail}"

    def __repr__(self) -> str:
        # The secret stays out of logs and tracebacks.
        return f"EnrollmentToken(token_id={self.token_id!r}, addresses={self.addresses!r})"


def _check(body: str, tail: str) -> str:
    return hashlib.sha256(f"{body}@{tail}".encode()).hexdigest()[:CHECK_HEX]


def _check_hex(what: str, value: str, length: int) -> None:
    if len(value) != length or any(c not in "0123456789abcdef" for c in value):
        raise MalformedToken(f"token {what} must be {length} lower-case hex digits")


def _check_address(address: str) -> None:
    match = _ADDRESS.match(address)
    if match is None or not 1 <= int(match.group(1)) <= 65535:
        raise MalformedToken(f"token hub address {address[:80]!r} is not host:port")


def parse_token(text: str) -> EnrollmentToken:
    """The token in ``text``, or :class:`MalformedToken` saying what is wrong with it."""
    text = text.strip()
    if len(text) > MAX_TOKEN_CHARS:
        raise MalformedToken("not an enrollment token: too long")
    head, at, tail = text.partition("@")
    fields = head.lower().split("-")
    if fields[0] != PREFIX:
        raise MalformedToken(f"not an enrollment token: it must start with '{PREFIX}-'")
    if not at or len(fields) != 5:
        raise MalformedToken(
            "not an enrollment token: expected pge1-<id>-<secret>-<fingerprint>-<check>@<host:port>"
        )
    _, token_id, secret, anchor, check = fields
    if _check("-".join(fields[:4]), tail) != check:
        raise MalformedToken("enrollment token is damaged (its check digits do not match): copy it again")
    return EnrollmentToken(token_id, secret, anchor, tuple(tail.split(",")))
