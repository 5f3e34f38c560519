"""What ccTalk coin acceptors and bill validators share: identity, inhibits, the event poll.

The poll task reads the buffered events (header 229 or 159) every ``poll_interval_s`` and feeds
them through :class:`~cash_devices.counter.CounterTracker`; subclasses turn the new result pairs
into events. A command that times out or whose reply is corrupt is repeated by the link and
otherwise skipped (the spec's "do nothing"): the counter makes the next successful poll catch up.
One failed poll is line noise, not an outage: only ``offline_after_failures`` failed polls in a
row report the device offline (:class:`~cash_devices.events.LinkChanged`, an operator alarm).
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
from typing import ClassVar

from cash_devices.base import Acceptor, Denomination, DeviceIdentity, SelfCheck
from cash_devices.cctalk import CcTalkLink, Exchange, Header
from cash_devices.codes import CodeInfo, describe_fault_code
from cash_devices.counter import CounterTracker, NewPair
from cash_devices.errors import ConfigurationError, DeviceNotReady, FrameError, LinkError
from cash_devices.events import CounterState, DeviceError, ErrorKind, LostEvents, Reset

__all__ = ["CcTalkAcceptor"]

log = logging.getLogger(__name__)

MASTER_ACCEPT = b"\x01"
MASTER_INHIBIT = b"\x00"


class CcTalkAcceptor(Acceptor):
    """Base of the ccTalk drivers; see :class:`CcTalkCoinAcceptor` and :class:`CcTalkNoteValidator`."""

    poll_header: ClassVar[int]

    def __init__(
        self,
        link: CcTalkLink,
        address: int,
        *,
        poll_interval_s: float = 0.1,
        resume: CounterState | None = None,
        owns_link: bool = True,
        offline_after_failures: int = 3,
    ) -> None:
        super().__init__(offline_after_failures=offline_after_failures)
        self._owns_link = owns_link
        if not 0 < address <= 255:
            raise ConfigurationError(f"ccTalk device address {address} must be 1-255")
        self.address = address
        self.poll_interval_s = poll_interval_s
        self._link = link
        self._lock = asyncio.Lock()
        self._tracker = CounterTracker(resume)
        self._desired_mask: int | None = None
        self._reapply_pending = False
        self._poll_task: asyncio.Task[None] | None = None

    @property
    def device_serial(self) -> str:
        """The serial used in event idempotency keys."""
        if self.identity is None:
            raise DeviceNotReady("the acceptor is not open")
        return self.identity.serial

    async def request(self, header: int, data: bytes = b"") -> bytes:
        """One ccTalk transaction with this device (serialised with the poll task)."""
        return (await self.exchange(header, data)).data

    async def exchange(self, header: int, data: bytes = b"") -> Exchange:
        """Like :meth:`request`, and how many times the command was sent (see ``CcTalkLink``)."""
        async with self._lock:
            return await asyncio.to_thread(self._link.exchange, self.address, header, data)

    async def open(self) -> DeviceIdentity:
        """Poll, inhibit, identify, read the denomination table, sync the event counter, start polling."""
        await self.simple_poll()
        # inhibit next: a device left accepting by a crashed host must not take money meanwhile
        await self.request(Header.MODIFY_MASTER_INHIBIT, MASTER_INHIBIT)
        self.identity = await self._identify()
        self.denominations = await self._read_denominations()
        await self._configure()
        await self._process(await self.request(self.poll_header))
        self._health.online = True
        self._poll_task = asyncio.create_task(self._poll_loop(), name=f"cctalk-poll-{self.address}")
        return self.identity

    async def simple_poll(self) -> None:
        """Header 254: is the device there? Raises :class:`ReplyTimeout` if nobody answers."""
        await self.request(Header.SIMPLE_POLL)

    async def enable(self, mask: int | None = None) -> None:
        """Accept the positions in ``mask`` (bit n-1 = position n; None = every known position)."""
        chosen = self.known_mask() if mask is None else mask
        if not 0 <= chosen <= 0xFFFF:
            raise ConfigurationError(f"inhibit mask {chosen:#x} does not fit 16 positions")
        self._desired_mask = chosen
        await self._apply_enabled(chosen)

    async def disable(self) -> None:
        """Master inhibit first, then confirm it by reading it back."""
        self._desired_mask = None
        await self.request(Header.MODIFY_MASTER_INHIBIT, MASTER_INHIBIT)
        self._health.enabled = False
        state = await self.request(Header.REQUEST_MASTER_INHIBIT)
        if state[:1] != MASTER_INHIBIT:
            raise LinkError(f"device {self.address} still accepts after master inhibit ({state.hex()})")

    async def self_check(self) -> SelfCheck:
        """Header 232: fault code (0 = OK) and any extra byte (coil, sensor or hopper number)."""
        reply = await self.request(Header.PERFORM_SELF_CHECK)
        if not reply:
            raise FrameError("self-check reply carries no fault code")
        return SelfCheck(
            ok=reply[0] == 0, code=reply[0], name=describe_fault_code(reply[0]), detail=reply[1:]
        )

    @property
    def counter_state(self) -> CounterState:
        """Persist this with the journal and pass it as ``resume`` when reopening."""
        return self._tracker.state

    async def _apply_enabled(self, mask: int) -> None:
        # bit = 1 enables a position: what every implementation sends (readers.md §4.1), although
        # one enum comment in qt-cctalk claims the opposite
        await self.request(Header.MODIFY_INHIBIT_STATUS, mask.to_bytes(2, "little"))
        await self.request(Header.MODIFY_MASTER_INHIBIT, MASTER_ACCEPT)
        self._health.enabled = True

    async def _identify(self) -> DeviceIdentity:
        manufacturer = await self._ascii(Header.REQUEST_MANUFACTURER_ID)
        category = await self._ascii(Header.REQUEST_EQUIPMENT_CATEGORY)
        product = await self._ascii(Header.REQUEST_PRODUCT_CODE)
        serial_number = int.from_bytes(await self.request(Header.REQUEST_SERIAL_NUMBER), "little")
        revision = await self._ascii(Header.REQUEST_SOFTWARE_REVISION)
        return DeviceIdentity(
            manufacturer=manufacturer,
            category=category,
            product=product,
            serial=f"{manufacturer}-{serial_number}",
            software_revision=revision,
            address=self.address,
        )

    async def _ascii(self, header: int, data: bytes = b"") -> str:
        return (await self.request(header, data)).decode("ascii", errors="replace").strip()

    async def _poll_loop(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval_s)
            try:
                await self._poll_once()
            except Exception as error:  # the money poller must outlive any bug: log loudly, go on
                log.exception("ccTalk device %s: unexpected error while polling", self.address)
                self._health.last_error = f"internal error: {error!r}"

    async def _poll_once(self) -> None:
        try:
            reply = await self.request(self.poll_header)
            self._on_link_ok()
            await self._process(reply)
        except (LinkError, OSError) as error:
            self._on_link_error(error)
            return
        if self._reapply_pending:
            await self._try_reapply()

    async def _try_reapply(self) -> None:
        try:
            await self._reapply()
        except (LinkError, OSError) as error:
            # the device answers polls but refuses its setup: keep trying, say so, stay online
            self._health.last_error = f"re-applying setup after reset failed: {error}"
            log.warning("ccTalk device %s: %s; will retry", self.address, self._health.last_error)

    async def _process(self, reply: bytes) -> None:
        update = self._tracker.update(reply)
        if update.reset:
            self._health.resets += 1
            log.warning("ccTalk device %s reset; re-applying its setup", self.address)
            self._emit(Reset(device_serial=self.device_serial, epoch=self._tracker.epoch))
            self._reapply_pending = True  # done after this reply's events; retried until it works
            self._on_reset()
        if update.lost:
            self._health.lost_events += update.lost
            log.error("ccTalk device %s: %d events lost (operator alarm)", self.address, update.lost)
            self._emit(
                LostEvents(
                    device_serial=self.device_serial,
                    count=update.lost,
                    from_counter=update.lost_from,
                    to_counter=update.pairs[0].event_counter - 1 or 255,  # the gap ends before pair 5
                )
            )
        for pair in update.pairs:
            self._on_pair(pair)
        self._health.counter = self._tracker.state

    async def _reapply(self) -> None:
        await self.request(Header.MODIFY_MASTER_INHIBIT, MASTER_INHIBIT)
        await self._configure()
        if self._desired_mask is not None:
            await self._apply_enabled(self._desired_mask)
        self._reapply_pending = False

    def _emit_error(self, code: int, info: CodeInfo) -> None:
        if info.kind is ErrorKind.FRAUD:
            self._health.fraud_alarms += 1
        if info.kept:
            self._health.kept_without_credit += 1
        if info.kind in (ErrorKind.FRAUD, ErrorKind.FAULT):
            self._health.last_error = info.name
        self._emit(
            DeviceError(
                device_serial=self.device_serial, code=code, name=info.name, kind=info.kind, kept=info.kept
            )
        )

    def _on_link_error(self, error: Exception) -> None:
        self._poll_failed(error, self._link.timeouts, self._link.frames_rejected, self._link.repeats)

    def _on_link_ok(self) -> None:
        self._poll_ok(self._link.timeouts, self._link.frames_rejected, self._link.repeats)

    async def _shutdown(self) -> None:
        if self._poll_task is not None:
            self._poll_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poll_task
        with contextlib.suppress(LinkError, OSError):
            await self.request(Header.MODIFY_MASTER_INHIBIT, MASTER_INHIBIT)
        self._health.enabled = False
        self._health.online = False
        if self._owns_link:
            self._link.close()

    @abc.abstractmethod
    async def _read_denominations(self) -> dict[int, Denomination]:
        """Read the device's coin or bill table (positions 1-16)."""

    @abc.abstractmethod
    async def _configure(self) -> None:
        """Device-kind setup sent at open and after every reset (e.g. the bill operating mode)."""

    def _on_reset(self) -> None:
        """Forget device-side state a reset wiped out (subclasses)."""

    @abc.abstractmethod
    def _on_pair(self, pair: NewPair) -> None:
        """Turn one new buffered result pair into events."""
