"""NFC readers through nfcpy: ISO 14443-A UIDs of 4, 7 and 10 bytes.

``path`` is an nfcpy device path: ``usb:054c:06c1`` (RC-S380), ``tty:USB0:pn532``, or
``udp:host:port`` (nfcpy's UDP test device, which the simulator answers). The driver
polls with ``sense(106A)``; a UID is reported when a tag appears, and the tag's absence
on a later poll ends its presence. A UID that is not 4, 7 or 10 bytes, or that begins
with the cascade tag ``88``, is rejected: nfcpy does not check the BCC for us.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from typing import Any, Unpack

from reader_drivers._thread_feed import ThreadFeed
from reader_drivers.base import CardReader, ReaderOptions, Technology, now_s
from reader_drivers.errors import ReaderUnavailable

__all__ = ["NfcReader", "check_uid"]

_Item = tuple[Any, ...]  # ("ready",) | ("card", uid, at_s) | ("removed",) | ("rejected", reason)


def check_uid(uid: bytes) -> str | None:
    """Why this anticollision result cannot be a real UID, or None if it can."""
    if len(uid) not in (4, 7, 10):
        return f"UID of {len(uid)} bytes (ISO 14443-A has 4, 7 or 10)"
    if uid[0] == 0x88:
        return "UID starts with the cascade tag 88"
    return None


class NfcReader(CardReader):
    """An nfcpy contactless frontend polled for Type A tags."""

    def __init__(
        self,
        path: str = "usb",
        *,
        poll_interval_s: float = 0.1,
        reader_id: str | None = None,
        **options: Unpack[ReaderOptions],
    ) -> None:
        self.path = path
        self.poll_interval_s = poll_interval_s
        super().__init__(reader_id or f"nfc:{path}", **options)

    async def _session(self) -> None:
        poll = partial(_poll_tags, self.path, self.poll_interval_s)
        async with ThreadFeed[_Item](poll, f"nfc-{self.reader_id}") as feed:
            while True:
                item = await feed.get()
                if item[0] == "ready":
                    self._set_ready()
                elif item[0] == "card":
                    self._publish(item[1], Technology.ISO14443A, item[2])
                elif item[0] == "removed":
                    self._card_removed()
                else:
                    self._reject(item[1])


def _poll_tags(path: str, interval_s: float, emit: Callable[[_Item], None], stop: threading.Event) -> None:
    import nfc
    import nfc.clf

    try:
        frontend = nfc.ContactlessFrontend(path)
    except (OSError, ValueError) as exc:
        raise ReaderUnavailable(f"cannot open NFC device {path}: {exc}") from exc
    try:
        emit(("ready",))
        current: bytes | None = None
        while not stop.is_set():
            current = _poll_once(frontend, current, interval_s, emit)
    finally:
        frontend.close()


def _poll_once(
    frontend: Any, current: bytes | None, interval_s: float, emit: Callable[[_Item], None]
) -> bytes | None:
    """One sense; emits what changed and returns the UID now in the field."""
    import nfc.clf

    try:
        target = frontend.sense(nfc.clf.RemoteTarget("106A"), iterations=1, interval=interval_s)
    except (nfc.clf.CommunicationError, ValueError, TypeError) as exc:
        # malformed radio answers; nfcpy lets hex errors escape as ValueError
        emit(("rejected", f"tag answer unusable: {exc!r}"))
        return current
    uid = bytes(target.sdd_res) if target is not None and target.sdd_res else None
    if uid is None:
        if current is not None:
            emit(("removed",))
        return None
    problem = check_uid(uid)
    if problem:
        emit(("rejected", problem))
    elif uid != current:
        emit(("card", uid, now_s()))
    return uid
