"""ID-003 note validator (JCM and compatibles): the :class:`~cash_devices.base.Acceptor` contract.

The driver polls STATUS REQUEST every ``poll_interval_s`` and turns what the validator says into
events, once per change (a status repeats on every poll):

* ESCROW: :class:`NoteEscrowed` (not credit); ``accept_escrow()`` sends STACK-1,
  ``return_escrow()`` RETURN, ``extend_escrow()`` HOLD. With ``escrow=False`` the driver stacks
  every note itself.
* VEND VALID: the note is the customer's: :class:`NoteStacked` with the next event number. The
  driver answers the validator's VEND VALID with ACK only once the consumer of ``events()`` has
  taken that credit, so a consumer that journals a credit before its next ``await`` (the kiosk)
  has it on disk before the validator forgets the note. A VEND VALID repeated because our ACK was
  lost on the line is acknowledged again, never credited twice.
* REJECTING, errors and failures: :class:`DeviceError` with the reason named; RETURNING after an
  escrow: :class:`NoteReturned`; POWER UP while running: :class:`Reset`, the validator is reset
  and its setup re-applied.

ID-003 keeps no event counter on the device (unlike ccTalk), so the driver numbers the credits
itself and continues from ``resume`` (the :class:`CounterState` journaled with the last credit).
A VEND VALID that is pending when the driver starts (the host stopped between the validator's
VEND VALID and our ACK) carries no value: it is acknowledged and reported as a
:class:`DeviceError` with ``kept=True`` ("reconcile"), never guessed into a credit.

Device identity: ID-003 has no serial-number request. The serial used in idempotency keys is
``device_serial`` when configured, else ``ID003-`` and a CRC of the version string.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping

from cash_devices.base import Acceptor, Denomination, DeviceIdentity, SelfCheck
from cash_devices.errors import (
    ConfigurationError,
    DeviceNotReady,
    EscrowError,
    FrameError,
    LinkError,
    NakError,
)
from cash_devices.events import (
    CounterState,
    DeviceError,
    ErrorKind,
    NoteEscrowed,
    NoteReturned,
    NoteStacked,
    Reset,
)
from cash_devices.id003 import (
    FAILURE_CODES,
    POWER_UP_STATUSES,
    REJECT_REASONS,
    STATUS_NAMES,
    Command,
    Id003Exchange,
    Id003Frame,
    Id003Link,
    Status,
    crc16_kermit,
)

__all__ = ["Id003NoteValidator"]

log = logging.getLogger(__name__)

FIRST_ESCROW_CODE = 0x61  # escrow codes 0x61..0x70 are positions 1..16 (SET ENABLE bit order)
INHIBIT, ACCEPT = b"\x01", b"\x00"
# error statuses -> what they mean for the operator
_ERRORS: dict[int, ErrorKind] = {
    Status.STACKER_FULL: ErrorKind.FAULT,
    Status.STACKER_OPEN: ErrorKind.FAULT,
    Status.JAM_IN_ACCEPTOR: ErrorKind.FAULT,
    Status.JAM_IN_STACKER: ErrorKind.FAULT,
    Status.PAUSE: ErrorKind.STATUS,
    Status.CHEATED: ErrorKind.FRAUD,
    Status.FAILURE: ErrorKind.FAULT,
    Status.COMMUNICATION_ERROR: ErrorKind.FAULT,
}
_SETTLE_POLLS = 50  # polls waited for INITIALIZE to end after a RESET


class Id003NoteValidator(Acceptor):
    """An ID-003 note validator on its own serial line."""

    def __init__(
        self,
        link: Id003Link,
        *,
        currency: str = "EUR",
        minor_digits: int = 2,
        poll_interval_s: float = 0.1,
        resume: CounterState | None = None,
        escrow: bool = True,
        values: Mapping[str, tuple[int, str]] | None = None,
        device_serial: str | None = None,
        offline_after_failures: int = 3,
        owns_link: bool = True,
    ) -> None:
        super().__init__(offline_after_failures=offline_after_failures)
        if len(currency) != 3 or not currency.isalpha() or not 0 <= minor_digits <= 4:
            raise ConfigurationError(f"bad ID-003 currency {currency!r} / minor digits {minor_digits}")
        self.currency, self.minor_digits = currency.upper(), minor_digits
        self.poll_interval_s = poll_interval_s
        self.escrow = escrow
        self._values = values
        self._device_serial = device_serial
        self._link = link
        self._owns_link = owns_link
        self._lock = asyncio.Lock()
        self._epoch = resume.epoch if resume else 0
        self._counter = resume.event_counter if resume else 0
        self._health.counter = self.counter_state
        self._desired_mask: int | None = None
        self._held: NoteEscrowed | None = None
        self._credited_unacknowledged = False  # our ACK to the last VEND VALID may be lost
        self._last_status: int | None = None
        self._poll_task: asyncio.Task[None] | None = None

    # --- the Acceptor contract ---------------------------------------------------------------

    @property
    def counter_state(self) -> CounterState:
        """The last credit's number; persist it and pass it back as ``resume``."""
        return CounterState(self._epoch, self._counter)

    @property
    def held(self) -> NoteEscrowed | None:
        """The note in escrow right now, if any."""
        return self._held

    async def open(self) -> DeviceIdentity:
        """Reset a validator that just powered up, inhibit it, identify it, read its notes, poll."""
        first = await self._status()
        if first.code in POWER_UP_STATUSES:
            await self._reset()
        await self._setting(Command.SET_INHIBIT, INHIBIT)
        self.identity = await self._identify()
        self.denominations = await self._read_denominations()
        await self._setting(Command.SET_ENABLE, b"\xff\xff")  # nothing enabled until enable()
        if first.code == Status.POWER_UP_BILL_IN_STACKER:
            self._error(first.code, first.data, kept=True, detail="at power-up: reconcile")
        self._health.online = True
        self._last_status = None  # the poll task reports whatever the validator says now
        self._poll_task = asyncio.create_task(self._poll_loop(), name="id003-poll")
        return self.identity

    async def enable(self, mask: int | None = None) -> None:
        """Accept the positions in ``mask`` (bit n-1 = escrow code 0x60 + n; None = every known one)."""
        chosen = self.known_mask() if mask is None else mask
        if not 0 <= chosen <= 0xFFFF:
            raise ConfigurationError(f"enable mask {chosen:#x} does not fit 16 positions")
        self._desired_mask = chosen
        await self._apply_enabled(chosen)

    async def disable(self) -> None:
        """Inhibit first, then confirm it by reading the inhibit setting back."""
        self._desired_mask = None
        await self._setting(Command.SET_INHIBIT, INHIBIT)
        self._health.enabled = False
        state = await self._request(Command.GET_INHIBIT)
        if state.data[:1] != INHIBIT:
            raise LinkError(f"ID-003 validator still accepts after inhibit ({state.data.hex()})")

    async def self_check(self) -> SelfCheck:
        """ID-003 has no self-test command: the validator's own current status is its diagnosis."""
        status = await self._status()
        ok = status.code not in _ERRORS and status.code not in POWER_UP_STATUSES
        return SelfCheck(ok=ok, code=status.code, name=self._describe(status), detail=status.data)

    async def accept_escrow(self) -> None:
        """Stack the held note; its credit arrives as :class:`NoteStacked` at VEND VALID."""
        await self._route(Command.STACK_1)

    async def return_escrow(self) -> None:
        """Give the held note back; :class:`NoteReturned` follows."""
        await self._route(Command.RETURN)

    async def extend_escrow(self) -> None:
        """HOLD: keep the note in escrow longer (the validator would otherwise return it)."""
        await self._route(Command.HOLD)

    # --- the line --------------------------------------------------------------------------

    async def _exchange(self, code: int, data: bytes = b"") -> Id003Exchange:
        async with self._lock:
            return await asyncio.to_thread(self._link.exchange, code, data)

    async def _request(self, code: int, data: bytes = b"") -> Id003Frame:
        """One command; INVALID COMMAND raises :class:`NakError`."""
        reply = (await self._exchange(code, data)).reply
        if reply.code == Status.INVALID_COMMAND:
            raise NakError(f"ID-003 validator refused command {code:#04x} (invalid command)")
        return reply

    async def _status(self) -> Id003Frame:
        return await self._request(Command.STATUS_REQUEST)

    async def _setting(self, code: int, data: bytes) -> None:
        reply = await self._request(code, data)
        if (reply.code, reply.data) != (code, data):
            echo = f"{reply.code:#04x} {reply.data.hex()}"
            raise FrameError(f"ID-003 setting {code:#04x} {data.hex()} echoed as {echo}")

    async def _acknowledge(self) -> None:
        async with self._lock:
            await asyncio.to_thread(self._link.send, Command.ACK)

    async def _route(self, command: Command) -> None:
        if self._held is None:  # the poll may not have seen the escrow yet
            status = await self._status()
            if status.code == Status.ESCROW:
                self._process(status)
        if self._held is None:
            raise EscrowError("route note: escrow is empty")
        exchange = await self._exchange(command)
        if exchange.reply.code == Status.INVALID_COMMAND and exchange.attempts > 1:
            # the attempt whose ACK was garbled routed the note; the statuses that follow say how
            log.info("route note repeated after a lost reply: the first attempt routed the note")
        elif exchange.reply.code != Status.ACK:
            raise EscrowError(f"route note: validator answered {self._describe(exchange.reply)}")

    async def _reset(self) -> None:
        reply = await self._request(Command.RESET)
        if reply.code != Status.ACK:
            raise LinkError(f"ID-003 reset answered with {self._describe(reply)}")
        for _ in range(_SETTLE_POLLS):
            status = await self._status()
            if status.code not in POWER_UP_STATUSES and status.code != Status.INITIALIZE:
                return
            await asyncio.sleep(self.poll_interval_s)
        raise LinkError("ID-003 validator did not finish initialising after a reset")

    async def _apply_enabled(self, mask: int) -> None:
        disabled = ~mask & 0xFFFF  # ID-003: a set bit disables a denomination
        await self._setting(Command.SET_ENABLE, disabled.to_bytes(2, "little"))
        await self._setting(Command.SET_INHIBIT, ACCEPT)
        self._health.enabled = True

    # --- identity and notes -----------------------------------------------------------------

    async def _identify(self) -> DeviceIdentity:
        version = (await self._request(Command.GET_VERSION)).data.decode("ascii", "replace").strip()
        serial = self._device_serial or f"ID003-{crc16_kermit(version.encode()):04X}"
        return DeviceIdentity(
            manufacturer="JCM",
            category="Bill Validator",
            product=version.split(" ")[0] if version else "ID-003",
            serial=serial,
            software_revision=version,
        )

    async def _read_denominations(self) -> dict[int, Denomination]:
        table = (await self._request(Command.GET_CURRENCY_ASSIGNMENT)).data
        denominations: dict[int, Denomination] = {}
        for offset in range(0, len(table) - len(table) % 4, 4):
            escrow_code, _country, value, exponent = table[offset : offset + 4]
            position = escrow_code - FIRST_ESCROW_CODE + 1
            code = f"{escrow_code:02X}"
            if self._values and code in self._values:
                value_minor, currency = self._values[code]
            elif value and exponent <= 9:
                value_minor, currency = value * 10 ** (exponent + self.minor_digits), self.currency
            else:
                continue  # an empty row
            if 1 <= position <= 16:
                denominations[position] = Denomination(position, code, value_minor, currency)
        return denominations

    # --- polling ----------------------------------------------------------------------------

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval_s)
            try:
                await self._poll_once()
            except Exception as error:  # the money poller must outlive any bug: log loudly, go on
                log.exception("ID-003 validator: unexpected error while polling")
                self._health.last_error = f"internal error: {error!r}"

    async def _poll_once(self) -> None:
        try:
            status = await self._status()
        except (LinkError, OSError) as error:
            link = self._link
            self._poll_failed(error, link.timeouts, link.frames_rejected, link.repeats)
            return
        self._poll_ok(self._link.timeouts, self._link.frames_rejected, self._link.repeats)
        try:
            await self._act_on(status)
        except (LinkError, OSError) as error:
            self._health.last_error = f"answering {self._describe(status)}: {error}"
            log.warning("ID-003 validator: %s; will retry", self._health.last_error)

    async def _act_on(self, status: Id003Frame) -> None:
        """Report the status, then do what it asks of the host (ACK, stack, reset)."""
        number = self._process(status)
        if status.code == Status.VEND_VALID:
            if number is not None:
                await self._until_taken(number)
            await self._acknowledge()
            self._credited_unacknowledged = True
        elif status.code == Status.ESCROW and self._held is not None and not self.escrow:
            await self._request(Command.STACK_1)
        elif status.code in POWER_UP_STATUSES:
            await self._reset()
            await self._setting(Command.SET_INHIBIT, INHIBIT)
            if self._desired_mask is not None:
                await self._apply_enabled(self._desired_mask)

    def _process(self, status: Id003Frame) -> int | None:
        """Turn one status into events (once per change); the number of a credit emitted, if any."""
        code, changed = status.code, status.code != self._last_status
        self._last_status = code
        if code == Status.ESCROW:
            self._on_escrow(status.data)
        elif code == Status.VEND_VALID:
            return self._on_vend_valid(changed)
        elif code in (Status.STACKED, Status.ENABLE, Status.DISABLE):
            self._credited_unacknowledged = False
        elif code == Status.RETURNING and self._held is not None:
            held, self._held = self._held, None
            self._emit(NoteReturned(device_serial=self._serial, escrow_id=held.escrow_id))
        elif code == Status.REJECTING and changed:
            reason = status.data[0] if status.data else 0
            name = REJECT_REASONS.get(reason, f"rejected ({reason:#04x})")
            self._emit_error(reason, name, ErrorKind.REJECT, False)
        elif code in POWER_UP_STATUSES and changed:
            self._on_power_up(code, status.data)
        elif code in _ERRORS and changed:
            self._error(code, status.data)
        return None

    def _on_escrow(self, data: bytes) -> None:
        escrow_code = data[0] if data else 0
        position = escrow_code - FIRST_ESCROW_CODE + 1
        if self._held is not None and self._held.position == position:
            return  # the same note, polled again
        denomination = self.denominations.get(position)
        if denomination is None:
            name = f"note with unknown escrow code {escrow_code:#04x}"
            self._emit_error(escrow_code, name, ErrorKind.REJECT, None)
            return
        self._credited_unacknowledged = False
        self._held = NoteEscrowed(
            device_serial=self._serial,
            value_minor=denomination.value_minor,
            currency=denomination.currency,
            bill_id=denomination.code,
            position=position,
            escrow_id=f"{self._serial}/{self._epoch}/escrow-{self._counter + 1}",
        )
        self._emit(self._held)

    def _on_vend_valid(self, changed: bool) -> int | None:
        held, self._held = self._held, None
        if held is not None:
            self._counter += 1
            self._health.counter = self.counter_state
            return self._emit(
                NoteStacked(
                    device_serial=self._serial,
                    value_minor=held.value_minor,
                    currency=held.currency,
                    event_counter=self._counter,
                    epoch=self._epoch,
                    position=held.position,
                    bill_id=held.bill_id,
                    escrow_id=held.escrow_id,
                )
            )
        if not self._credited_unacknowledged and changed:  # nobody saw this note come in: no value
            detail = "a note of unknown value was stacked: reconcile"
            self._error(Status.VEND_VALID, b"", kept=True, detail=detail)
            self._credited_unacknowledged = True
        return None

    def _on_power_up(self, code: int, data: bytes) -> None:
        self._epoch += 1
        self._health.resets += 1
        self._health.counter = self.counter_state
        log.warning("ID-003 validator powered up while running; resetting it")
        self._emit(Reset(device_serial=self._serial, epoch=self._epoch))
        held, self._held = self._held, None
        if code == Status.POWER_UP_BILL_IN_STACKER and held is not None:
            self._error(code, data, kept=True, detail=f"{held.bill_id} not credited: reconcile")
        elif code != Status.POWER_UP:
            self._error(code, data, kept=None)

    # --- events -----------------------------------------------------------------------------

    @property
    def _serial(self) -> str:
        if self.identity is None:
            raise DeviceNotReady("the validator is not open")
        return self.identity.serial

    def _error(self, code: int, data: bytes, kept: bool | None = None, detail: str = "") -> None:
        name = self._describe(Id003Frame(code, data)) + (f" ({detail})" if detail else "")
        self._emit_error(code, name, _ERRORS.get(code, ErrorKind.FAULT), kept)

    def _emit_error(self, code: int, name: str, kind: ErrorKind, kept: bool | None) -> None:
        if kind is ErrorKind.FRAUD:
            self._health.fraud_alarms += 1
        if kept:
            self._health.kept_without_credit += 1
        if kind in (ErrorKind.FRAUD, ErrorKind.FAULT):
            self._health.last_error = name
        self._emit(DeviceError(device_serial=self._serial, code=code, name=name, kind=kind, kept=kept))

    @staticmethod
    def _describe(frame: Id003Frame) -> str:
        name = STATUS_NAMES.get(frame.code, f"status {frame.code:#04x}")
        if frame.code == Status.FAILURE and frame.data:
            return f"{name}: {FAILURE_CODES.get(frame.data[0], f'code {frame.data[0]:#04x}')}"
        return name

    async def _shutdown(self) -> None:
        if self._poll_task is not None:
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
        with contextlib.suppress(LinkError, OSError):
            await self._setting(Command.SET_INHIBIT, INHIBIT)
        self._health.enabled = False
        self._health.online = False
        if self._owns_link:
            self._link.close()
