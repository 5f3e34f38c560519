"""Who sent a scan, and for whom: the sending printer, and the session open at it.

The printer is known by what cannot be forged from inside an e-mail: the address it connects
from (registered for it) or the SMTP credential it authenticated with; never by a ``From``
header. The person is whoever the hub says is logged in at that printer when the message
arrives, or was until at most ``grace_s`` before (MFPs often send after the user walked
away). The hub implements :class:`SessionLocator`; nothing here guesses a person.
"""

from __future__ import annotations

import enum
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "NoSessionPolicy",
    "PrinterDirectory",
    "RegisteredPrinter",
    "ScanMeter",
    "ScanSession",
    "SessionLocator",
]

_HASHER = PasswordHasher()


@dataclass(frozen=True)
class ScanSession:
    """The session a scan belongs to, as the hub knows it.

    ``profile_id`` is what the user picked on the terminal's Scan tile (None: the default
    profile); ``email`` and ``home_folder`` are the user's own destinations.
    """

    user: str
    session_id: str
    profile_id: str | None = None
    email: str | None = None
    home_folder: str | None = None
    language: str = "en"  # of the user's terminal session: "de" or "en"


class SessionLocator(Protocol):
    """Implemented by the hub's session registry."""

    def who_is_at(self, printer_id: str, at_time_us: int, grace_us: int) -> ScanSession | None:
        """The session open at ``printer_id`` at ``at_time_us``, or closed at most ``grace_us``
        before it; None when there is none. If several qualify, the one open at that time
        wins, else the one that closed last."""


class ScanMeter(Protocol):
    """Implemented by the hub's ledger: charge a delivered scan exactly once."""

    def charge_scan(
        self, *, user: str, printer_id: str, scan_id: str, pages: int, amount_cents: int, idempotency_key: str
    ) -> None:
        """Charge ``amount_cents`` for ``pages`` scanned pages; a replayed key changes nothing."""


class NoSessionPolicy(enum.StrEnum):
    """What happens to a scan nobody is logged in for."""

    REFUSE = "refuse"  # the MFP gets a permanent SMTP error and shows it
    UNCLAIMED = "unclaimed"  # delivered to the configured unclaimed destination, logged


@dataclass(frozen=True)
class RegisteredPrinter:
    """A printer allowed to send scans: its addresses, and optionally an SMTP login.

    A printer with a login must authenticate (over TLS); one without is known by address.
    ``password_hash`` is an argon2 hash, never the password.
    """

    printer_id: str
    addresses: frozenset[str] = frozenset()
    smtp_login: str | None = None
    password_hash: str | None = None

    def __post_init__(self) -> None:
        for address in self.addresses:
            ipaddress.ip_address(address)
        if (self.smtp_login is None) != (self.password_hash is None):
            raise ValueError("an SMTP login needs a password hash, and a hash a login")


class PrinterDirectory:
    """The registered printers, looked up by address or by SMTP credential."""

    def __init__(self, printers: Iterable[RegisteredPrinter]) -> None:
        self._printers: dict[str, RegisteredPrinter] = {}
        self._by_address: dict[str, RegisteredPrinter] = {}
        self._by_login: dict[str, RegisteredPrinter] = {}
        self.reload(printers)

    def reload(self, printers: Iterable[RegisteredPrinter]) -> None:
        """Take a new set of printers (an admin registered or removed one): built aside, then
        swapped in, so a lookup never sees half of it."""
        by_id = {printer.printer_id: printer for printer in printers}
        by_address: dict[str, RegisteredPrinter] = {}
        by_login: dict[str, RegisteredPrinter] = {}
        for printer in by_id.values():
            for address in printer.addresses:
                normalised = str(ipaddress.ip_address(address))
                if normalised in by_address:
                    raise ValueError(f"address {address} is registered for two printers")
                by_address[normalised] = printer
            if printer.smtp_login is not None:
                by_login[printer.smtp_login] = printer
        self._printers, self._by_address, self._by_login = by_id, by_address, by_login

    @staticmethod
    def hash_password(password: str) -> str:
        """An argon2 hash for a printer's SMTP password (for the admin tools)."""
        return _HASHER.hash(password)

    def by_address(self, address: str) -> RegisteredPrinter | None:
        """The printer registered for this peer address (IPv4-mapped IPv6 folded)."""
        try:
            parsed = ipaddress.ip_address(address)
        except ValueError:
            return None
        if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
            parsed = parsed.ipv4_mapped
        return self._by_address.get(str(parsed))

    def by_credential(self, login: str, password: str) -> RegisteredPrinter | None:
        """The printer whose SMTP login and password these are, else None."""
        printer = self._by_login.get(login)
        if printer is None or printer.password_hash is None:
            _HASHER.hash(password)  # the same work either way: logins are not probed by timing
            return None
        try:
            _HASHER.verify(printer.password_hash, password)
        except (VerificationError, InvalidHashError):
            return None
        return printer

    def get(self, printer_id: str) -> RegisteredPrinter | None:
        """The printer with this id."""
        return self._printers.get(printer_id)
