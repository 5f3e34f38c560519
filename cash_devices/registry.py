"""``open_acceptor``: one call from configuration to an open, inhibited acceptor.

Drivers are data: a name maps to a factory. ``cctalk`` needs a serial device path or pyserial
URL and ``kind`` (``coin`` or ``note``); ``pulse`` needs a GPIO pin name as ``url``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from cash_devices.base import Acceptor
from cash_devices.cctalk import CcTalkLink, open_link
from cash_devices.coin_acceptor import CcTalkCoinAcceptor
from cash_devices.errors import ConfigurationError
from cash_devices.events import CounterState
from cash_devices.id003 import open_id003_link
from cash_devices.id003_validator import Id003NoteValidator
from cash_devices.note_validator import CcTalkNoteValidator

__all__ = ["DRIVERS", "open_acceptor"]


async def _open_cctalk(
    url: str,
    address: int | None,
    *,
    kind: str = "coin",
    checksum: str = "simple",
    echo: bool = True,
    host_address: int = 1,
    timeout_s: float = 0.2,
    retries: int = 2,
    poll_interval_s: float = 0.1,
    offline_after_failures: int = 3,
    resume: CounterState | None = None,
    values: Mapping[str, tuple[int, str]] | None = None,
    escrow: bool = True,
    link: CcTalkLink | None = None,
) -> Acceptor:
    if kind not in ("coin", "note"):
        raise ConfigurationError(f"ccTalk kind must be 'coin' or 'note', not {kind!r}")
    owns_link = link is None
    if link is None:
        link = open_link(
            url, mode=checksum, echo=echo, host_address=host_address, timeout_s=timeout_s, retries=retries
        )
    acceptor: Acceptor
    if kind == "coin":
        acceptor = CcTalkCoinAcceptor(
            link,
            address or 2,
            poll_interval_s=poll_interval_s,
            offline_after_failures=offline_after_failures,
            resume=resume,
            coin_values=values,
            owns_link=owns_link,
        )
    else:
        acceptor = CcTalkNoteValidator(
            link,
            address or 40,
            poll_interval_s=poll_interval_s,
            offline_after_failures=offline_after_failures,
            resume=resume,
            escrow=escrow,
            bill_values=values,
            owns_link=owns_link,
        )
    try:
        await acceptor.open()
    except BaseException:
        await acceptor.close()
        raise
    return acceptor


async def _open_id003(
    url: str,
    address: int | None,
    *,
    timeout_s: float = 0.3,
    retries: int = 2,
    **options: Any,
) -> Acceptor:
    if address is not None:
        raise ConfigurationError("an ID-003 validator has no address: it has the line to itself")
    validator = Id003NoteValidator(open_id003_link(url, timeout_s=timeout_s, retries=retries), **options)
    try:
        await validator.open()
    except BaseException:
        await validator.close()
        raise
    return validator


async def _open_pulse(url: str, address: int | None, **options: Any) -> Acceptor:
    from cash_devices.pulse import PulseCoinAcceptor  # gpiozero is only needed for this driver

    acceptor = PulseCoinAcceptor(url, **options)
    await acceptor.open()
    return acceptor


DRIVERS: dict[str, Callable[..., Awaitable[Acceptor]]] = {
    "cctalk": _open_cctalk,
    "id003": _open_id003,
    "pulse": _open_pulse,
}


async def open_acceptor(driver: str, url: str, address: int | None = None, **options: Any) -> Acceptor:
    """Open an acceptor by driver name; it is identified and inhibited when this returns.

    ``cctalk`` options: ``kind`` (coin|note), ``checksum`` (simple|crc16), ``echo``, ``host_address``
    (default 1), ``timeout_s``, ``retries`` (repeats of a command that timed out or got a corrupt
    reply), ``poll_interval_s``, ``offline_after_failures`` (failed polls in a row before the
    device is reported offline, default 3), ``resume`` (a persisted :class:`CounterState`), ``values``
    (id -> (value_minor, currency) overrides), ``escrow`` (notes), ``link`` (an open
    :class:`CcTalkLink` shared by several devices on one line; ``url`` is then unused and the
    caller closes the link). ``id003`` options: ``timeout_s``, ``retries``, ``currency`` (ISO code of
    the validator's notes, default EUR), ``minor_digits`` (2), ``poll_interval_s``,
    ``offline_after_failures``, ``resume``, ``escrow``, ``values`` (escrow code "62" -> (value_minor,
    currency)), ``device_serial``: see :class:`cash_devices.id003_validator.Id003NoteValidator`.
    ``pulse`` options: see
    :class:`cash_devices.pulse.PulseCoinAcceptor`.
    """
    factory = DRIVERS.get(driver)
    if factory is None:
        raise ConfigurationError(f"unknown acceptor driver {driver!r}; known: {', '.join(sorted(DRIVERS))}")
    return await factory(url, address, **options)
