"""The card reader feeding an engine: every read becomes a :class:`CardPresented` intent."""

from __future__ import annotations

from collections.abc import Callable

from reader_drivers import CardReader
from terminal_app.session.intents import CardPresented

__all__ = ["pump_cards"]


async def pump_cards(reader: CardReader, submit: Callable[[CardPresented], None]) -> None:
    """Submit each card ``reader`` reads (with the reader's monotonic time) until cancelled."""
    async for read in reader.reads():
        submit(CardPresented(read.card_number, read.monotonic_s))
