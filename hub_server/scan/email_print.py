"""Printing by e-mail: a mail to the print address becomes held jobs of its sender, collected at
any printer; a reply confirms each job with its price, or says why it was refused.

**Who sent it.** Only the site's own mail relay may hand over print mail (``trusted_relays``,
checked by the connecting address, like a printer's): the relay is where people authenticate
their submission and where SPF/DKIM/DMARC are checked, and it must not let an authenticated
user send as another address. The hub then requires the ``From`` header to be the envelope
sender, and the sender to be exactly one active user's e-mail address. Anything else is
refused in the SMTP dialogue with no reply mail (a forged sender gets no backscatter).

**Guests** (``guest_domains``, off by default): a sender who is no user but whose domain is
listed (``*``: any) still comes only through the relay with From equal to the envelope sender.
Their jobs are held under the site's guest user (whose account pays), each bounded by
``guest_pages_max`` impressions and ``guest_price_max_cents``; the reply gives each job that
fits a one-time release code (the mailbox issues it; only its hash is kept) to enter as the
PIN at any terminal. A job over the limits is withdrawn and the reply says so.

**What prints.** PDF and PostScript as they are; JPEG and TIFF images made into PDF pages
(img2pdf, lossless, in the scan
pipeline's bounded child processes); the body is not printed. Office documents are refused with a clear
reply unless LibreOffice is installed (``soffice``; it is not shipped). Zips are never
unpacked. Bounded: attachments per mail, bytes per attachment (the SMTP receiver bounds the
whole message), image pixels.

Jobs go through the print intake like any other (``PrintMailbox.hold``: analysis, prices,
encryption at rest); the reply is sent once their analysis is done.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import smtplib
import ssl
import time
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid
from typing import Protocol

from .errors import ProcessingError, ScanRefused
from .mime import ScanAttachment, sniff_scan_kind
from .pipeline import ScanProcessor
from .profiles import SCAN_TO_ME

__all__ = ["EmailPrintConfig", "EmailPrinting", "HeldPrint", "PrintMailbox", "RelaySender", "ReleaseCode"]

log = logging.getLogger(__name__)

_OFFICE_SUFFIXES = (".doc", ".docx", ".odt", ".xls", ".xlsx", ".ods", ".ppt", ".pptx", ".odp", ".rtf")


@dataclass(frozen=True)
class EmailPrintConfig:
    """Where print mail comes from and how much of it is taken."""

    recipients: frozenset[str]  # the print addresses, lower case
    trusted_relays: frozenset[str]  # addresses of the site's relay (nobody else may deliver)
    attachments_max: int = 10
    attachment_bytes_max: int = 50 * 1024 * 1024
    guest_domains: frozenset[str] = frozenset()  # lower case, "*": any (empty: no guests)
    guest_user: str = ""  # the user guest jobs are held under (its account pays)
    guest_pages_max: int = 20  # impressions (pages x copies) per guest job
    guest_price_max_cents: int = 200  # per guest job, at the default prices

    def is_guest(self, address: str) -> bool:
        """True when a sender no user has may print as a guest."""
        domain = address.rpartition("@")[2].lower()
        return bool(domain) and ("*" in self.guest_domains or domain in self.guest_domains)


@dataclass(frozen=True)
class ReleaseCode:
    """A guest job's one-time release code, as the reply gives it."""

    code: str
    expires_us: int


@dataclass(frozen=True)
class HeldPrint:
    """A held job made from an attachment, as priced once analysed (``refused``: why it is
    not held any more, e.g. a job rule deleted it; ``rule_note``: what the job rules changed)."""

    job_id: int
    pages: int
    copies: int
    price_cents: int
    estimate_note: str = ""
    rule_note: str = ""
    refused: str = ""


class PrintMailbox(Protocol):
    """Implemented by the hub: who an address is, and the print intake."""

    def user_for_address(self, address: str) -> str | None:
        """The one active user with this e-mail address, else None."""

    async def hold(self, user: str, file_name: str, data: bytes) -> int:
        """Store ``data`` as a held job of ``user`` (``ValueError`` with the reason to refuse)."""

    async def priced(self, job_id: int) -> HeldPrint:
        """The job once analysed, with its price."""

    def is_user(self, username: str) -> bool:
        """True when ``username`` is an active user (the guest user must be one)."""

    async def release_code(self, job_id: int, pages_max: int, price_max_cents: int) -> ReleaseCode:
        """Issue a held guest job's one-time release code, under these limits."""

    async def withdraw(self, job_id: int) -> None:
        """Cancel a held job (and shred its document): a guest job over the limits."""


@dataclass(frozen=True)
class RelaySender:
    """Sends replies through the site's relay."""

    host: str
    port: int
    sender: str
    starttls: ssl.SSLContext | None = None
    timeout_s: float = 30.0

    async def send(self, message: EmailMessage) -> None:
        """Send one message (in a worker thread)."""
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as client:
            if self.starttls is not None:
                client.starttls(context=self.starttls)
            client.send_message(message)


@dataclass(frozen=True)
class _Attachment:
    file_name: str
    data: bytes | None  # None: refused, see reason
    reason: str = ""


def _money(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def _refusal(file_name: str, data: bytes) -> str:
    """Why an attachment that is no PDF, PostScript or scanned image is not printed."""
    if file_name.lower().endswith(_OFFICE_SUFFIXES) or data.startswith(b"PK\x03\x04"):
        if shutil.which("soffice") is None:
            return "Office documents cannot be converted here: please send a PDF"
        return "Office conversion is not enabled on this hub: please send a PDF"
    return "not a PDF, PostScript, JPEG or TIFF file"


class EmailPrinting:
    """Turns print mail into held jobs and replies (see the module docstring)."""

    def __init__(
        self, config: EmailPrintConfig, mailbox: PrintMailbox, replies: RelaySender, images: ScanProcessor
    ) -> None:
        self.config = config
        self._mailbox = mailbox
        self._replies = replies
        self._images = images
        self._converted = 0
        self._tasks: set[asyncio.Task[None]] = set()

    def accepts_relay(self, peer: str) -> bool:
        """True when ``peer`` is the site's relay."""
        return peer in self.config.trusted_relays

    def accepts_recipient(self, address: str) -> bool:
        """True for a print address."""
        return address.lower() in self.config.recipients

    async def receive(self, envelope_sender: str, raw: bytes) -> str:
        """Take one mail from the relay; the SMTP reply (``ScanRefused`` to refuse it)."""
        message = await asyncio.to_thread(message_from_bytes, raw, policy=policy.default)
        if not isinstance(message, EmailMessage):
            raise ScanRefused("the message cannot be read", "550 5.6.0")
        sender = envelope_sender.strip().lower()
        from_addresses = [address.lower() for _, address in getaddresses(message.get_all("From", []))]
        if from_addresses != [sender]:
            log.warning("print mail refused: From %s is not the envelope sender %s", from_addresses, sender)
            raise ScanRefused("the From address is not the envelope sender", "550 5.7.1")
        user = self._mailbox.user_for_address(sender)
        guest = user is None
        if user is None:
            user = self._guest_owner(sender)
        parts = list(message.iter_attachments())
        if len(parts) > self.config.attachments_max:
            raise ScanRefused(f"at most {self.config.attachments_max} attachments per mail", "552 5.3.4")
        attachments = []
        for index, part in enumerate(parts, 1):
            name = str(part.get_filename() or f"attachment-{index}")[:120]
            try:
                data = part.get_content()
            except (LookupError, ValueError):
                attachments.append(_Attachment(name, None, "its encoding cannot be read"))
                continue
            if isinstance(data, str):
                data = data.encode()
            if not isinstance(data, bytes):
                attachments.append(_Attachment(name, None, "not a file"))
            elif len(data) > self.config.attachment_bytes_max:
                attachments.append(_Attachment(name, None, "larger than this hub prints from mail"))
            else:
                attachments.append(await self._printable(name, data))
        held: list[tuple[str, int]] = []
        refused: list[tuple[str, str]] = []
        for attachment in attachments:
            if attachment.data is None:
                refused.append((attachment.file_name, attachment.reason))
                continue
            try:
                held.append(
                    (
                        attachment.file_name,
                        await self._mailbox.hold(user, attachment.file_name, attachment.data),
                    )
                )
            except ValueError as error:
                refused.append((attachment.file_name, str(error)))
        if not attachments:
            refused.append(("(no attachment)", "attach the documents to print"))
        subject = str(message.get("Subject", "") or "")[:200]
        task = asyncio.get_running_loop().create_task(self._reply(sender, subject, held, refused, guest))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        task.add_done_callback(_log_reply_failure)
        who = "a guest" if guest else user
        log.info("print mail from %s: %d job(s) held, %d refused", who, len(held), len(refused))
        return f"250 2.0.0 {len(held)} job(s) held, {len(refused)} refused"

    def _guest_owner(self, sender: str) -> str:
        """The guest user a sender no user has prints as (``ScanRefused`` when not a guest)."""
        if not self.config.is_guest(sender):
            log.warning("print mail from an address no user has (%s) refused", sender)
            raise ScanRefused("this address belongs to no user of the print service", "550 5.7.1")
        if not self._mailbox.is_user(self.config.guest_user):
            log.error(
                "guest print mail deferred: the guest user %r is no active user", self.config.guest_user
            )
            raise ScanRefused("guest printing is not available now", "451 4.3.0")
        return self.config.guest_user

    async def _printable(self, file_name: str, data: bytes) -> _Attachment:
        """What of an attachment can be printed, or why not."""
        if data.startswith(b"%!"):
            return _Attachment(file_name, data)
        kind = sniff_scan_kind(data)
        if kind == "pdf":
            return _Attachment(file_name, data)
        if kind not in ("jpeg", "tiff"):
            return _Attachment(file_name, None, _refusal(file_name, data))
        self._converted += 1
        work = f"mail-{self._converted}"
        try:
            processed = await self._images.process(work, (ScanAttachment(file_name, kind, data),), SCAN_TO_ME)
            return _Attachment(file_name, await asyncio.to_thread(processed.files[0].read_bytes))
        except ProcessingError as error:
            return _Attachment(file_name, None, f"the image cannot be read ({error})")
        finally:
            self._images.discard(work)

    async def drain(self) -> None:
        """Wait until every reply is sent."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _reply(
        self,
        sender: str,
        subject: str,
        held: list[tuple[str, int]],
        refused: list[tuple[str, str]],
        guest: bool,
    ) -> None:
        lines = []
        for file_name, job_id in held:
            job = await self._mailbox.priced(job_id)
            if job.refused:
                lines.append(f"{file_name}: not printed: {job.refused}")
                continue
            estimated = f" (estimated: {job.estimate_note})" if job.estimate_note else ""
            ruled = f" (print rule: {job.rule_note})" if job.rule_note else ""
            how = await self._guest_release(job) if guest else "Log in at any printer to print it."
            if how is None:
                lines.append(f"{file_name}: not printed: {self._over_guest_limit(job)}")
                continue
            lines.append(
                f"{file_name}: held, {job.pages} page(s) x {job.copies}, {_money(job.price_cents)}"
                f"{estimated}{ruled}. {how}"
            )
        lines.extend(f"{file_name}: not printed: {reason}" for file_name, reason in refused)
        reply = EmailMessage()
        reply["From"] = self._replies.sender
        reply["To"] = str(Address(addr_spec=sender))
        reply["Subject"] = f"Print: {subject}" if subject else "Print"
        reply["Message-ID"] = make_msgid(domain=self._replies.sender.rpartition("@")[2] or None)
        reply["Auto-Submitted"] = "auto-replied"
        reply.set_content("\n".join(lines) + "\n")
        try:
            await self._replies.send(reply)
        except (OSError, smtplib.SMTPException) as error:
            log.error("print mail reply to %s not sent: %s", sender, error)

    def _over_guest_limit(self, job: HeldPrint) -> str:
        return (
            f"{job.pages * job.copies} page(s), {_money(job.price_cents)}: over the guest limit of"
            f" {self.config.guest_pages_max} page(s) and {_money(self.config.guest_price_max_cents)}"
        )

    async def _guest_release(self, job: HeldPrint) -> str | None:
        """How a guest prints a held job: its release code; None (the job withdrawn) when it is
        over the guest limits."""
        config = self.config
        if job.pages * job.copies > config.guest_pages_max or job.price_cents > config.guest_price_max_cents:
            await self._mailbox.withdraw(job.job_id)
            return None
        code = await self._mailbox.release_code(
            job.job_id, config.guest_pages_max, config.guest_price_max_cents
        )
        until = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(code.expires_us // 1_000_000))
        return f"To print it, enter {code.code} as the PIN at any printer's terminal (once, until {until})."


def _log_reply_failure(task: asyncio.Task[None]) -> None:
    """A reply that failed for another reason than the relay (its jobs stay held) is logged,
    not lost in the task."""
    if not task.cancelled() and task.exception() is not None:
        log.error("print mail reply not sent", exc_info=task.exception())
