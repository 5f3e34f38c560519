"""PC/SC contactless readers through pcscd (pyscard): card insert/remove and the UID.

On insert the driver connects and sends the reader pseudo-APDU GET DATA
``FF CA 00 00 00`` (PC/SC part 3; ACS, HID Omnikey and most CCID contactless readers);
the UID comes back in anticollision order followed by ``90 00``. Every other status word
is explained (``STATUS_WORDS``), counted as a rejected frame and logged; ``6C XX`` (wrong
length) is retried at once with ``Le = XX``; ``63 00`` (operation failed) or no answer is
retried while the card stays, up to ``READ_ATTEMPTS`` times. Removal ends the card's
presence for debounce.

``reader_name`` selects the reader by substring (``"Virtual PCD 00 00"``, ``"ACR122"``);
``None`` takes the first one. pcscd going away (restart, crash) or the reader vanishing
ends the session; the base class reconnects with backoff.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any, Unpack

from reader_drivers._thread_feed import ThreadFeed
from reader_drivers.base import CardReader, ReaderOptions, Technology, now_s
from reader_drivers.errors import CardCommandError, ReaderUnavailable

__all__ = [
    "GET_UID",
    "READ_ATTEMPTS",
    "STATUS_WORDS",
    "TRANSIENT_STATUS_WORDS",
    "PcscReader",
    "uid_from_response",
]

GET_UID = [0xFF, 0xCA, 0x00, 0x00, 0x00]

# status word -> what it means for GET DATA (ACS ACR122/ACR1281 API; readers.md §1.9)
STATUS_WORDS: dict[tuple[int, int], str] = {
    (0x62, 0x82): "end of UID reached before Le bytes: the reader returned fewer bytes than asked",
    (0x63, 0x00): "operation failed: the reader could not read the card (moved away too soon?)",
    (0x6A, 0x81): "function not supported: this reader or card cannot report a UID",
}

# status words (and 00 00: no answer at all) worth another GET DATA while the card stays
TRANSIENT_STATUS_WORDS = frozenset({(0x63, 0x00), (0x00, 0x00)})
READ_ATTEMPTS = 3  # per card presence

# ("ready",) | ("card", uid, at_s) | ("removed",) | ("rejected" or "retry", reason)
_Item = tuple[Any, ...]


def uid_from_response(response: list[int]) -> bytes:
    """The UID from a GET DATA response, or ``CardCommandError`` explaining the status word."""
    if len(response) < 2:
        raise CardCommandError(f"response of {len(response)} bytes has no status word", 0, 0)
    sw1, sw2 = response[-2], response[-1]
    if (sw1, sw2) == (0x90, 0x00):
        if len(response) == 2:
            raise CardCommandError("90 00 without a UID", sw1, sw2)
        return bytes(response[:-2])
    if sw1 == 0x6C:
        raise CardCommandError(f"6C {sw2:02X}: wrong length, the UID is {sw2} bytes", sw1, sw2)
    meaning = STATUS_WORDS.get((sw1, sw2), "unexpected status word")
    raise CardCommandError(f"{sw1:02X} {sw2:02X}: {meaning}", sw1, sw2)


class PcscReader(CardReader):
    """A contactless reader behind pcscd."""

    def __init__(
        self,
        reader_name: str | None = None,
        *,
        poll_timeout_s: float = 0.2,
        reader_id: str | None = None,
        **options: Unpack[ReaderOptions],
    ) -> None:
        self.reader_name = reader_name
        self.poll_timeout_s = poll_timeout_s
        super().__init__(reader_id or f"pcsc:{reader_name or 'first'}", **options)

    async def _session(self) -> None:
        watch = partial(_watch, self.reader_name, int(self.poll_timeout_s * 1000))
        async with ThreadFeed[_Item](watch, f"pcsc-{self.reader_id}") as feed:
            while True:
                item = await feed.get()
                if item[0] == "ready":
                    self._set_ready()
                elif item[0] == "card":
                    self._publish(item[1], Technology.ISO14443A, item[2])
                elif item[0] == "removed":
                    self._card_removed()
                else:  # "rejected" or "retry": both are a rejected frame
                    self._reject(item[1])


def _check(hresult: int, what: str) -> None:
    from smartcard import scard

    if hresult != scard.SCARD_S_SUCCESS:
        raise ReaderUnavailable(f"{what}: {scard.SCardGetErrorMessage(hresult)} ({hresult:#x})")


def _watch(
    reader_name: str | None, timeout_ms: int, emit: Callable[[_Item], None], stop: threading.Event
) -> None:
    """Blocking PC/SC loop: wait for state changes, read the UID of each new card."""
    from smartcard import scard

    hresult, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    _check(hresult, "cannot reach pcscd")
    try:
        reader = _pick_reader(context, reader_name)
        emit(("ready",))
        state, present, attempts_left = scard.SCARD_STATE_UNAWARE, False, 0
        while not stop.is_set():
            hresult, states = scard.SCardGetStatusChange(context, timeout_ms, [(reader, state)])
            if hresult != scard.SCARD_E_TIMEOUT:
                _check(hresult, f"watching {reader!r}")
                state = states[0][1] & ~scard.SCARD_STATE_CHANGED
                now_present = bool(state & scard.SCARD_STATE_PRESENT)
                if present and not now_present:
                    emit(("removed",))
                attempts_left = READ_ATTEMPTS if now_present and not present else attempts_left
                attempts_left = attempts_left if now_present else 0
                present = now_present
            if attempts_left:
                item = _read_card(context, reader)
                emit(item)
                attempts_left = attempts_left - 1 if item[0] == "retry" else 0
    finally:
        scard.SCardReleaseContext(context)


def _pick_reader(context: int, reader_name: str | None) -> str:
    from smartcard import scard

    hresult, readers = scard.SCardListReaders(context, [])
    if hresult == scard.SCARD_E_NO_READERS_AVAILABLE:
        readers = []
    else:
        _check(hresult, "listing readers")
    matches = [r for r in readers if reader_name is None or reader_name in r]
    if not matches:
        raise ReaderUnavailable(f"no PC/SC reader matching {reader_name!r} (have {readers})")
    return str(matches[0])


def _read_card(context: int, reader: str) -> _Item:
    """Connect, GET DATA (retrying a 6C XX once with the exact length), disconnect.

    A failure worth another try while the card stays (``TRANSIENT_STATUS_WORDS``, or no
    answer at all) comes back as ``("retry", reason)``, a final one as ``("rejected", reason)``.
    """
    from smartcard import scard

    at_s = now_s()
    hresult, card, protocol = scard.SCardConnect(
        context, reader, scard.SCARD_SHARE_SHARED, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
    )
    if hresult != scard.SCARD_S_SUCCESS:
        return ("retry", f"cannot connect to the card: {scard.SCardGetErrorMessage(hresult)}")
    try:
        return ("card", _transmit_get_uid(card, protocol), at_s)
    except CardCommandError as exc:
        transient = (exc.sw1, exc.sw2) in TRANSIENT_STATUS_WORDS
        return ("retry" if transient else "rejected", f"GET DATA {exc}")
    finally:
        scard.SCardDisconnect(card, scard.SCARD_LEAVE_CARD)


def _transmit_get_uid(card: int, protocol: int) -> bytes:
    from smartcard import scard

    apdu = list(GET_UID)
    for _attempt in range(2):
        hresult, response = scard.SCardTransmit(card, protocol, apdu)
        if hresult != scard.SCARD_S_SUCCESS:
            raise CardCommandError(f"transmit failed: {scard.SCardGetErrorMessage(hresult)}", 0, 0)
        if len(response) == 2 and response[0] == 0x6C:
            apdu[4] = response[1]  # the card told us the exact length: ask again
            continue
        return uid_from_response(response)
    return uid_from_response(response)
