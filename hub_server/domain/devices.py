"""Printers and the terminals and kiosks beside them: the hub's device registry.

A terminal (or kiosk) gets its record when it enrolls (:func:`bind_enrolled`: created, or bound
to the record an admin registered beforehand); it stands at one printer, whose printer group
chooses the price list. It proves who it is with its certificate. The key a registration shows
once (only its SHA-256 is kept) names it only to a hub in development plaintext mode. The
functions run inside a caller's transaction; :class:`Devices` is the domain object the services
call.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from hub_server.clock import Clock
from hub_server.domain.security import sha256_hex
from hub_server.domain.store import Store
from hub_server.domain.validation import NAME, require, text
from hub_server.errors import AlreadyExists, InvalidRequest, NotFound, PermissionDenied, Refused
from hub_server.storage import Row, Tx

__all__ = [
    "DEFAULT_GROUP",
    "TERMINAL_KINDS",
    "TRANSPORTS",
    "Devices",
    "PrinterRecord",
    "TerminalRecord",
    "bind_enrolled",
    "check_enrollable",
    "create_terminal",
    "place_of_terminal",
    "printer_group_of_terminal",
    "printer_of_terminal",
    "require_kiosk",
    "require_terminal",
    "terminal_key_digest",
    "upsert_printer",
]

TERMINAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
TRANSPORTS = ("raw9100", "lpd", "ipp")
TERMINAL_KINDS = ("terminal", "kiosk")
DEFAULT_GROUP = "default"


@dataclass(frozen=True)
class PrinterRecord:
    """A printer: where it is, how jobs reach it, and which price list it uses."""

    name: str
    address: str = ""
    transport: str = "raw9100"
    vendor_profile: str = "generic"
    printer_group: str = DEFAULT_GROUP
    location: str = ""
    id: int = 0


@dataclass(frozen=True)
class TerminalRecord:
    """A terminal or kiosk (``printer``: the name of the printer it stands at, or empty)."""

    id: str
    kind: str = "terminal"
    printer: str = ""
    location: str = ""


def _printer(row: Row) -> PrinterRecord:
    return PrinterRecord(
        id=int(row["id"]),
        name=str(row["name"]),
        address=str(row["address"]),
        transport=str(row["transport"]),
        vendor_profile=str(row["vendor_profile"]),
        printer_group=str(row["printer_group"]),
        location=str(row["location"]),
    )


def upsert_printer(tx: Tx, printer: PrinterRecord) -> int:
    """Create or update a printer by name."""
    require(NAME, printer.name, "printer name")
    if printer.transport not in TRANSPORTS:
        raise InvalidRequest(f"transport must be one of {', '.join(TRANSPORTS)}")
    values = {
        "n": printer.name,
        "a": text(printer.address, "address"),
        "t": printer.transport,
        "v": text(printer.vendor_profile or "generic", "vendor profile"),
        "g": require(NAME, printer.printer_group or DEFAULT_GROUP, "printer group"),
        "l": text(printer.location, "location"),
    }
    row = tx.one(
        """INSERT INTO printers (name, address, transport, vendor_profile, printer_group, location)
           VALUES (:n, :a, :t, :v, :g, :l)
           ON CONFLICT (name) DO UPDATE SET address = :a, transport = :t, vendor_profile = :v,
               printer_group = :g, location = :l
           RETURNING id""",
        values,
    )
    assert row is not None
    return int(row["id"])


def list_printers(tx: Tx, printer_id: int | None = None) -> list[PrinterRecord]:
    """Every printer by name (or the one with ``printer_id``)."""
    where = "WHERE id = :p" if printer_id is not None else ""
    return [
        _printer(r) for r in tx.execute(f"SELECT * FROM printers {where} ORDER BY name", {"p": printer_id})
    ]


def create_terminal(tx: Tx, terminal: TerminalRecord, now_us: int) -> str:
    """Register a terminal or kiosk; return its key (shown once, only its hash is kept)."""
    require(TERMINAL_ID, terminal.id, "terminal id")
    if terminal.kind not in TERMINAL_KINDS:
        raise InvalidRequest("kind must be terminal or kiosk")
    printer_id = _printer_id(tx, terminal.printer) if terminal.printer else None
    if tx.scalar("SELECT id FROM terminals WHERE id = :t", {"t": terminal.id}) is not None:
        raise AlreadyExists(f"terminal {terminal.id!r} already exists")
    key = secrets.token_urlsafe(32)
    tx.execute(
        """INSERT INTO terminals (id, kind, printer_id, location, key_sha256, created_us)
           VALUES (:id, :k, :p, :l, :h, :t)""",
        {
            "id": terminal.id,
            "k": terminal.kind,
            "p": printer_id,
            "l": text(terminal.location, "location"),
            "h": sha256_hex(key),
            "t": now_us,
        },
    )
    return key


def _printer_id(tx: Tx, name: str) -> int:
    printer_id = tx.scalar("SELECT id FROM printers WHERE name = :n", {"n": name})
    if printer_id is None:
        raise NotFound(f"no printer named {name!r}")
    return int(printer_id)


def check_enrollable(tx: Tx, terminal: TerminalRecord) -> None:
    """Refuse an enrollment token that could not bind: an unknown printer, or an id registered
    as the other kind of device."""
    if terminal.printer:
        _printer_id(tx, terminal.printer)
    kind = tx.scalar("SELECT kind FROM terminals WHERE id = :t", {"t": terminal.id})
    if kind is not None and kind != terminal.kind:
        raise InvalidRequest(f"{terminal.id!r} is registered as a {kind}, not a {terminal.kind}")


def bind_enrolled(tx: Tx, terminal: TerminalRecord, now_us: int) -> None:
    """The record of a device that has just enrolled: created (standing at the token's printer),
    or the one registered beforehand, which must be of the same kind (a printer named by the
    token replaces the one it had)."""
    check_enrollable(tx, terminal)
    if tx.scalar("SELECT id FROM terminals WHERE id = :t", {"t": terminal.id}) is None:
        create_terminal(tx, terminal, now_us)  # its key stays unknown: the certificate names it
    elif terminal.printer:
        tx.execute(
            "UPDATE terminals SET printer_id = :p WHERE id = :t",
            {"p": _printer_id(tx, terminal.printer), "t": terminal.id},
        )


def list_terminals(tx: Tx) -> list[TerminalRecord]:
    """Every terminal and kiosk by id."""
    rows = tx.execute(
        "SELECT t.id, t.kind, t.location, p.name AS printer FROM terminals t"
        " LEFT JOIN printers p ON p.id = t.printer_id ORDER BY t.id"
    )
    return [
        TerminalRecord(str(r["id"]), str(r["kind"]), str(r["printer"] or ""), str(r["location"]))
        for r in rows
    ]


def require_terminal(tx: Tx, terminal_id: str) -> None:
    """Refuse (:class:`NotFound`) unless a terminal or kiosk with this id is registered."""
    if tx.scalar("SELECT id FROM terminals WHERE id = :t", {"t": terminal_id}) is None:
        raise NotFound(f"no terminal {terminal_id!r}")


def require_kiosk(tx: Tx, terminal_id: str) -> None:
    """Refuse unless ``terminal_id`` is an active kiosk-kind terminal."""
    kind = tx.scalar("SELECT kind FROM terminals WHERE id = :t AND active = 1", {"t": terminal_id})
    if kind is None:
        raise NotFound(f"no kiosk {terminal_id!r}")
    if kind != "kiosk":
        raise PermissionDenied(f"{terminal_id!r} is not a kiosk")


def terminal_key_digest(tx: Tx, terminal_id: str) -> str | None:
    """The SHA-256 of an active terminal's key, or None."""
    stored = tx.scalar("SELECT key_sha256 FROM terminals WHERE id = :t AND active = 1", {"t": terminal_id})
    return None if stored is None else str(stored)


def printer_group_of_terminal(tx: Tx, terminal_id: str) -> str:
    """The price-list group of the printer a terminal stands at."""
    group = tx.scalar(
        "SELECT p.printer_group FROM terminals t JOIN printers p ON p.id = t.printer_id WHERE t.id = :t",
        {"t": terminal_id},
    )
    return str(group) if group else DEFAULT_GROUP


def printer_of_terminal(tx: Tx, terminal_id: str) -> PrinterRecord:
    """The printer a terminal stands at; :class:`Refused` when it has none."""
    row = tx.one(
        "SELECT p.* FROM terminals t JOIN printers p ON p.id = t.printer_id WHERE t.id = :t",
        {"t": terminal_id},
    )
    if row is None:
        raise Refused("this terminal has no printer to release jobs to")
    return _printer(row)


def place_of_terminal(tx: Tx, terminal_id: str) -> tuple[str, str]:
    """The name of the printer a terminal stands at and where it is (the printer's location, else
    the terminal's); empty strings for what is not known (a kiosk has no printer)."""
    row = tx.one(
        "SELECT p.name, p.location AS printer_location, t.location FROM terminals t"
        " LEFT JOIN printers p ON p.id = t.printer_id WHERE t.id = :t",
        {"t": terminal_id},
    )
    if row is None:
        return "", ""
    return str(row["name"] or ""), str(row["printer_location"] or row["location"] or "")


class Devices:
    """The device registry, for admins, and where a terminal stands."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def upsert_printer(self, printer: PrinterRecord) -> PrinterRecord:
        """Create or update a printer by name; returns it as stored."""

        def upsert(tx: Tx) -> PrinterRecord:
            return list_printers(tx, upsert_printer(tx, printer))[0]

        return await self._store.write(upsert)

    def printers(self) -> list[PrinterRecord]:
        """Every printer."""
        return self._store.read(list_printers)

    async def create_terminal(self, terminal: TerminalRecord) -> str:
        """Register a terminal or kiosk; returns its key (shown once)."""
        now_us = self._clock.now_us()
        return await self._store.write(lambda tx: create_terminal(tx, terminal, now_us))

    def place(self, terminal_id: str) -> tuple[str, str]:
        """The printer's name and location at a terminal (:func:`place_of_terminal`)."""
        return self._store.read(lambda tx: place_of_terminal(tx, terminal_id))

    def terminals(self) -> list[TerminalRecord]:
        """Every terminal and kiosk."""
        return self._store.read(list_terminals)
