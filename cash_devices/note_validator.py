"""ccTalk bill (note) validator with escrow: credited only once stacked, never while held.

Bill events (header 159) use the same counter rules as coins. Result A = bill position with
B = 1 means *held in escrow*, B = 0 means *stacked* (sent to the cash box); A = 0 carries a
status/error code, where B = 1 is "returned from escrow". The host routes a held note with
header 154 (1 stack, 0 return). Bill ids (header 157) and the country scaling factor (header 156)
give the value. With ``escrow=False`` notes are stacked by the device at once (operating mode
bit 1 clear) and only :class:`NoteStacked` is seen.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import ClassVar

from cash_devices.base import Denomination
from cash_devices.cctalk import CcTalkLink, Header
from cash_devices.cctalk_acceptor import CcTalkAcceptor
from cash_devices.codes import describe_bill_code
from cash_devices.counter import NewPair
from cash_devices.errors import EscrowError
from cash_devices.events import (
    CounterState,
    NoteEscrowed,
    NoteReturned,
    NoteStacked,
    UnmappedCredit,
)
from cash_devices.profiles import parse_bill_id

__all__ = ["CcTalkNoteValidator"]

log = logging.getLogger(__name__)

POSITIONS = range(1, 17)
OPERATING_MODE_STACKER = 0x01
OPERATING_MODE_ESCROW = 0x02
ROUTE_RETURN = b"\x00"
ROUTE_STACK = b"\x01"
ROUTE_EXTEND_ESCROW = b"\xff"
ESCROW_EMPTY = 254
ROUTE_ERRORS = {ESCROW_EMPTY: "escrow is empty", 255: "failed to route the bill"}
BILL_RETURNED_FROM_ESCROW = 1
ESCROW_HELD = 1
STACKED = 0


class CcTalkNoteValidator(CcTalkAcceptor):
    """A ccTalk bill validator (default address 40) with optional escrow."""

    poll_header: ClassVar[int] = Header.READ_BUFFERED_BILL_EVENTS
    default_address: ClassVar[int] = 40

    def __init__(
        self,
        link: CcTalkLink,
        address: int = 40,
        *,
        poll_interval_s: float = 0.1,
        resume: CounterState | None = None,
        owns_link: bool = True,
        offline_after_failures: int = 3,
        escrow: bool = True,
        bill_values: Mapping[str, tuple[int, str]] | None = None,
    ) -> None:
        super().__init__(
            link,
            address,
            poll_interval_s=poll_interval_s,
            resume=resume,
            owns_link=owns_link,
            offline_after_failures=offline_after_failures,
        )
        self.escrow = escrow
        self._bill_values = bill_values
        self._held: NoteEscrowed | None = None

    @property
    def held(self) -> NoteEscrowed | None:
        """The note in escrow right now, if any."""
        return self._held

    async def accept_escrow(self) -> None:
        """Stack the held note; its credit arrives as :class:`NoteStacked` from the next poll.

        Only the events are authoritative. When the line garbled or lost the reply and the
        repeated command finds the escrow empty, an earlier attempt did route the note: that is
        not an error, and the :class:`NoteStacked` (or, had the validator given up waiting,
        :class:`NoteReturned`) that follows says what happened. "Escrow is empty" on the first
        attempt raises :class:`EscrowError`.
        """
        await self._route(ROUTE_STACK)

    async def return_escrow(self) -> None:
        """Give the held note back; :class:`NoteReturned` follows."""
        await self._route(ROUTE_RETURN)

    async def extend_escrow(self) -> None:
        """Ask for more time before the validator gives the held note back by itself."""
        await self._route(ROUTE_EXTEND_ESCROW)

    async def _route(self, how: bytes) -> None:
        exchange = await self.exchange(Header.ROUTE_BILL, how)
        code = exchange.data[0] if exchange.data else None
        if code == ESCROW_EMPTY and exchange.attempts > 1:
            log.info("route bill repeated after a lost reply: the first attempt routed the note")
        elif code in ROUTE_ERRORS:
            raise EscrowError(f"route bill: {ROUTE_ERRORS[code]}")

    async def _read_denominations(self) -> dict[int, Denomination]:
        scaling: dict[str, int] = {}
        table: dict[int, Denomination] = {}
        for position in POSITIONS:
            bill_id = await self._ascii(Header.REQUEST_BILL_ID, bytes([position]))
            country = bill_id[:2]
            if len(bill_id) == 7 and country.isalpha() and country not in scaling:
                scaling[country] = await self._scaling(country)
            parsed = parse_bill_id(bill_id, scaling.get(country, 0), self._bill_values)
            if parsed is not None:
                table[position] = Denomination(position, bill_id, *parsed)
        return table

    async def _scaling(self, country: str) -> int:
        reply = await self.request(Header.REQUEST_COUNTRY_SCALING, country.encode("ascii"))
        return int.from_bytes(reply[:2], "little") if len(reply) >= 2 else 0

    async def _configure(self) -> None:
        mode = OPERATING_MODE_STACKER | (OPERATING_MODE_ESCROW if self.escrow else 0)
        await self.request(Header.MODIFY_BILL_OPERATING_MODE, bytes([mode]))

    def _on_reset(self) -> None:
        self._held = None  # a reset hands a held note back (or loses track of it): never credit it

    def _on_pair(self, pair: NewPair) -> None:
        if pair.result_a == 0:
            self._on_status(pair.result_b)
            return
        denomination = self.denominations.get(pair.result_a)
        if denomination is None:
            self._health.last_error = f"note in unmapped position {pair.result_a}; not credited"
            self._health.kept_without_credit += 1
            self._emit(
                UnmappedCredit(
                    device_serial=self.device_serial,
                    position=pair.result_a,
                    event_counter=pair.event_counter,
                    epoch=pair.epoch,
                )
            )
        elif pair.result_b == ESCROW_HELD:
            self._on_escrow(denomination, pair)
        else:
            self._on_stacked(denomination, pair)

    def _on_status(self, code: int) -> None:
        if code == BILL_RETURNED_FROM_ESCROW:
            returned, self._held = self._held, None
            self._emit(
                NoteReturned(
                    device_serial=self.device_serial, escrow_id=returned.escrow_id if returned else None
                )
            )
            return
        self._emit_error(code, describe_bill_code(code))

    def _on_escrow(self, denomination: Denomination, pair: NewPair) -> None:
        self._held = NoteEscrowed(
            device_serial=self.device_serial,
            value_minor=denomination.value_minor,
            currency=denomination.currency,
            bill_id=denomination.code,
            position=denomination.position,
            escrow_id=f"{self.device_serial}/{pair.epoch}/{pair.event_counter}",
        )
        self._emit(self._held)

    def _on_stacked(self, denomination: Denomination, pair: NewPair) -> None:
        held, self._held = self._held, None
        escrow_id = held.escrow_id if held and held.position == denomination.position else None
        self._emit(
            NoteStacked(
                device_serial=self.device_serial,
                value_minor=denomination.value_minor,
                currency=denomination.currency,
                event_counter=pair.event_counter,
                epoch=pair.epoch,
                position=denomination.position,
                bill_id=denomination.code,
                escrow_id=escrow_id,
            )
        )
