"""Open the kiosk's acceptors from configuration, resuming each where the cash journal left it.

An acceptor is opened with the :class:`~cash_devices.CounterState` journaled with its last
credit event, so coins the device buffered while the kiosk was down (or that landed between
the poll and the journal write before a crash) are delivered again; those the journal has
already are skipped by their idempotency key. A device with another serial than the journaled
one (swapped) is opened afresh: its counter has nothing to do with the old one.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from cash_devices import Acceptor, CcTalkLink, open_acceptor, open_link
from terminal_app.kiosk.core import AcceptorSlot
from terminal_app.kiosk.journal import CashJournal

__all__ = ["AcceptorConfig", "OpenAcceptors", "open_acceptors"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AcceptorConfig:
    """One ``[[acceptor]]`` table of kiosk.toml."""

    name: str  # "coin", "note": the journal's key for this device
    driver: str  # "cctalk" or "pulse"
    url: str  # serial device or pyserial URL; a GPIO pin for "pulse"
    address: int | None = None
    options: dict[str, Any] = field(default_factory=dict)  # kind, checksum, poll_interval_s, ...


_LINK_OPTIONS = {"checksum": "mode", "echo": "echo", "host_address": "host_address", "timeout_s": "timeout_s",
                 "retries": "retries", "baudrate": "baudrate"}  # fmt: skip


@dataclass
class OpenAcceptors:
    """The open acceptors and the ccTalk lines they share (several devices on one bus)."""

    slots: list[AcceptorSlot] = field(default_factory=list)
    links: dict[str, CcTalkLink] = field(default_factory=dict)

    async def close(self) -> None:
        """Inhibit and close every acceptor, then the shared lines."""
        for slot in self.slots:
            try:
                await slot.acceptor.close()
            except Exception:
                log.exception("kiosk: closing %s failed", slot.name)
        for link in self.links.values():
            link.close()


async def open_acceptors(configs: list[AcceptorConfig], journal: CashJournal) -> OpenAcceptors:
    """Open (identified, inhibited) every configured acceptor, resumed from the journal.

    ccTalk devices with the same ``url`` share one line; its settings (``checksum``, ``echo``,
    ``host_address``, ``timeout_s``, ``retries``, ``baudrate``) come from the first of them.
    """
    opened = OpenAcceptors()
    try:
        for config in configs:
            options = dict(config.options)
            if config.driver == "cctalk":
                options = {k: v for k, v in options.items() if k not in _LINK_OPTIONS}
                options["link"] = opened.links.get(config.url) or _open_line(config, opened)
            opened.slots.append(AcceptorSlot(config.name, await _open_one(config, options, journal)))
    except BaseException:
        await opened.close()
        raise
    return opened


def _open_line(config: AcceptorConfig, opened: OpenAcceptors) -> CcTalkLink:
    settings = {_LINK_OPTIONS[k]: v for k, v in config.options.items() if k in _LINK_OPTIONS}
    opened.links[config.url] = open_link(config.url, **settings)
    return opened.links[config.url]


async def _open_one(config: AcceptorConfig, options: dict[str, Any], journal: CashJournal) -> Acceptor:
    saved = journal.counter(config.name)
    resume = saved[1] if saved else None
    acceptor = await open_acceptor(config.driver, config.url, config.address, resume=resume, **options)
    serial = acceptor.identity.serial if acceptor.identity else ""
    if saved is not None and saved[0] != serial:
        log.warning("kiosk: %s is a new device (%s, was %s): not resumed", config.name, serial, saved[0])
        await acceptor.close()
        acceptor = await open_acceptor(config.driver, config.url, config.address, **options)
        resume = None
    if resume is None:
        # a fresh start only synchronised with the device (no events queued): this is where it is
        journal.save_counter(config.name, serial, acceptor.counter_state)
    return acceptor
