"""A bounded queue of notification mails, sent one by one through the site's relay.

The hub's own notices (a job rule's ``notify``) go out here. :meth:`Outbox.offer` never blocks
and may be called from any thread (job intake writes from worker threads): when the queue is
full the mail is dropped, counted and logged, so a relay that is slow or down never holds up
intake. A task on the hub's event loop (:meth:`Outbox.run`) sends what is queued; a mail the
relay refuses or cannot take is logged and counted, not retried (notices are informational).
"""

from __future__ import annotations

import asyncio
import collections
import logging
import smtplib
import threading
from dataclasses import dataclass
from email.message import EmailMessage

from .email_print import RelaySender

__all__ = ["OUTBOX_CAPACITY", "Outbox", "OutgoingMail"]

log = logging.getLogger(__name__)

OUTBOX_CAPACITY = 200  # mails waiting for the relay; more are dropped (counted, logged)


@dataclass(frozen=True)
class OutgoingMail:
    """One plain-text mail to one person."""

    to: str
    subject: str
    body: str


class Outbox:
    """Mails waiting for the relay (see the module docstring)."""

    def __init__(self, relay: RelaySender, capacity: int = OUTBOX_CAPACITY) -> None:
        if capacity < 1:
            raise ValueError("an outbox holds at least one mail")
        self._relay = relay
        self._capacity = capacity
        self._waiting: collections.deque[OutgoingMail] = collections.deque()
        self._lock = threading.Lock()  # offer() comes from worker threads too
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.sent = 0
        self.failed = 0
        self.dropped = 0

    def offer(self, mail: OutgoingMail) -> bool:
        """Queue a mail without waiting; False (dropped, counted, logged) when the queue is full."""
        with self._lock:
            if len(self._waiting) >= self._capacity:
                self.dropped += 1
                dropped = self.dropped
            else:
                self._waiting.append(mail)
                dropped = 0
        if dropped:
            log.warning(
                "outbox: full (%d mails waiting): a notice was dropped (%d so far)", self._capacity, dropped
            )
            return False
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._woken)
        return True

    def _woken(self) -> None:
        self._idle.clear()
        self._wakeup.set()

    async def run(self) -> None:
        """Send queued mails until cancelled (start it once, on the hub's event loop)."""
        self._loop = asyncio.get_running_loop()
        self._woken()  # mails offered before the loop was known
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while (mail := self._next()) is not None:
                await self._send(mail)
            self._idle.set()

    async def drain(self) -> None:
        """Wait until every mail offered so far has been sent (or has failed)."""
        while True:
            await self._idle.wait()
            with self._lock:
                if not self._waiting:
                    return
            await asyncio.sleep(0)

    def _next(self) -> OutgoingMail | None:
        with self._lock:
            return self._waiting.popleft() if self._waiting else None

    async def _send(self, mail: OutgoingMail) -> None:
        message = EmailMessage()
        message["From"] = self._relay.sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        message["Auto-Submitted"] = "auto-generated"  # no vacation replies to the hub
        message.set_content(mail.body)
        try:
            await self._relay.send(message)
        except (OSError, smtplib.SMTPException) as error:
            self.failed += 1
            log.error("outbox: a notice to %s was not sent: %s", mail.to, error)
        else:
            self.sent += 1
