"""The scan intake: a received message becomes a delivered, metered scan, exactly once.

``ScanIntake.receive`` is what the SMTP receiver calls with the sending printer and the raw
message. It answers quickly: parse and bound the MIME, drop resends, hold pieces of split
sends, find the session at the printer (or apply the no-session policy), store the scan
encrypted in its spool and start processing in the background. Only then does the MFP get its
``250``; a hub that dies after that finds the scan in the spool (``recover``) and finishes it
under the same scan id, so the delivery and the charge keep their idempotency keys.

Processing applies the session's profile (``pipeline``), delivers to the profile's destination
(``destinations``) and charges pages x price through the hub's ``ScanMeter`` with the key
``scan:<scan id>``. Every outcome is logged and published to subscribers.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from .attribution import NoSessionPolicy, RegisteredPrinter, ScanMeter, ScanSession, SessionLocator
from .destinations import Delivery, Destination
from .errors import DeliveryError, ProcessingError, ScanRefused
from .mime import DuplicateFilter, MimeLimits, ScanAttachment, ScanMessage, SplitAssembler, parse_scan_message
from .pipeline import ScanProcessor
from .profiles import SCAN_TO_ME, ScanMetadata, ScanProfile, render_file_name, render_sidecar

__all__ = ["ScanIntake", "ScanIntakeConfig", "ScanOutcome"]

log = logging.getLogger(__name__)

UNCLAIMED_USER = "unclaimed"


@dataclass(frozen=True)
class ScanIntakeConfig:
    """Policy of the scan intake (the hub's ``[scan]`` table)."""

    grace_s: float = 120.0
    no_session: NoSessionPolicy = NoSessionPolicy.REFUSE
    unclaimed_destination: str | None = None  # a destination name, for NoSessionPolicy.UNCLAIMED
    default_profile: ScanProfile = SCAN_TO_ME
    mime: MimeLimits = field(default_factory=MimeLimits)

    def __post_init__(self) -> None:
        if self.no_session is NoSessionPolicy.UNCLAIMED and not self.unclaimed_destination:
            raise ValueError("the unclaimed policy needs an unclaimed destination")


@dataclass(frozen=True)
class ScanOutcome:
    """What became of one scan."""

    scan_id: str
    printer_id: str
    user: str | None
    profile_id: str
    status: str  # "delivered", "unclaimed" or "failed"
    pages: int = 0
    amount_cents: int = 0
    destination: str | None = None
    receipt: str | None = None
    error: str | None = None
    session_id: str | None = None  # the session it was attributed to (None: unclaimed)


@dataclass(frozen=True)
class _StoredScan:
    scan_id: str
    printer_id: str
    received_at_us: int
    session: ScanSession | None
    attachments: tuple[ScanAttachment, ...]


class ScanIntake:
    """Receives scans from the SMTP front end and sees each one through to its destination."""

    def __init__(
        self,
        *,
        sessions: SessionLocator,
        profiles: Mapping[str, ScanProfile],
        destinations: Mapping[str, Destination],
        processor: ScanProcessor,
        spool_dir: Path,
        spool_key: bytes,
        meter: ScanMeter | None = None,
        config: ScanIntakeConfig | None = None,
        clock_us: Callable[[], int] = lambda: time.time_ns() // 1000,
    ) -> None:
        if len(spool_key) != 32:
            raise ValueError("the scan spool key must be 32 bytes")
        self.config = config or ScanIntakeConfig()
        self._sessions = sessions
        self._profiles = profiles  # read at each scan: a live view sees an admin's edits
        self._destinations = dict(destinations)
        self._processor = processor
        self._spool = spool_dir
        self._spool.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._aead = AESGCM(spool_key)
        self._meter = meter
        self._clock_us = clock_us
        self._duplicates = DuplicateFilter()
        self._assembler = SplitAssembler(self.config.mime)
        self._tasks: set[asyncio.Task[ScanOutcome]] = set()
        self._in_progress: dict[str, str] = {}  # scan id -> session id, until its outcome is published
        self._subscribers: list[asyncio.Queue[ScanOutcome]] = []
        self._receiving = asyncio.Lock()

    # -- receiving ------------------------------------------------------------------------------

    async def receive(self, printer: RegisteredPrinter, raw: bytes) -> str:
        """Take one message from ``printer``; the SMTP reply, or ``ScanRefused`` to refuse it."""
        at_us = self._clock_us()
        # Parsing, joining split sends and the encrypted write take CPU and disk time: they run
        # in worker threads so the event loop (logins, other MFPs) keeps going meanwhile.
        message = await asyncio.to_thread(parse_scan_message, raw, self.config.mime)
        async with self._receiving:  # the duplicate filter and the assembler are shared state
            if self._duplicates.is_duplicate(printer.printer_id, message):
                log.info("scan from %s: duplicate of %s dropped", printer.printer_id, message.message_id)
                return "250 2.0.0 duplicate, already taken"
            whole = await asyncio.to_thread(self._assembler.add, printer.printer_id, message)
        if whole is None:
            return "250 2.0.0 part taken, waiting for the rest"
        session = self._sessions.who_is_at(printer.printer_id, at_us, int(self.config.grace_s * 1_000_000))
        if session is None and self.config.no_session is NoSessionPolicy.REFUSE:
            log.warning("scan from %s refused: nobody is logged in there", printer.printer_id)
            raise ScanRefused("nobody is logged in at this printer", "550 5.7.1")
        stored = _StoredScan(
            _scan_id(printer.printer_id, whole), printer.printer_id, at_us, session, whole.attachments
        )
        await asyncio.to_thread(self._store, stored)
        self._start(stored)
        return f"250 2.0.0 scan {stored.scan_id} taken"

    def _start(self, stored: _StoredScan) -> None:
        if stored.session is not None:
            self._in_progress[stored.scan_id] = stored.session.session_id
        task = asyncio.get_running_loop().create_task(self._process(stored))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def recover(self) -> int:
        """Restart every scan left in the spool by a hub that stopped; how many."""
        count = 0
        for path in sorted(self._spool.glob("*.scan")):
            try:
                stored = self._load(path)
            except (InvalidTag, ValueError, KeyError) as error:
                log.error("scan spool file %s is unreadable (%s); moved aside", path.name, error)
                path.rename(path.with_suffix(".unreadable"))
                continue
            self._start(stored)
            count += 1
        return count

    def sessions_in_progress(self) -> set[str]:
        """The sessions with a scan taken but not finished (its outcome not yet published)."""
        return set(self._in_progress.values())

    async def drain(self) -> None:
        """Wait until every scan in progress is finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def subscribe(self) -> asyncio.Queue[ScanOutcome]:
        """A queue that gets every outcome from now on."""
        queue: asyncio.Queue[ScanOutcome] = asyncio.Queue()
        self._subscribers.append(queue)
        return queue

    # -- processing ----------------------------------------------------------------------------------

    async def _process(self, stored: _StoredScan) -> ScanOutcome:
        session = stored.session
        profile = self._profile_for(session)
        try:
            outcome = await self._deliver(stored, profile)
        except Exception as error:
            if not isinstance(error, ProcessingError | DeliveryError):
                log.exception("scan %s: unexpected failure", stored.scan_id)
            outcome = ScanOutcome(
                stored.scan_id,
                stored.printer_id,
                session.user if session else None,
                profile.profile_id,
                "failed",
                error=str(error),
                session_id=session.session_id if session else None,
            )
            log.error("scan %s from %s failed: %s", stored.scan_id, stored.printer_id, error)
            self._spool_path(stored.scan_id).rename(self._spool_path(stored.scan_id).with_suffix(".failed"))
        else:
            self._spool_path(stored.scan_id).unlink(missing_ok=True)
            log.info(
                "scan %s from %s: %s %d pages to %s for %s",
                stored.scan_id,
                stored.printer_id,
                outcome.status,
                outcome.pages,
                outcome.destination,
                outcome.user,
            )
        finally:
            self._processor.discard(stored.scan_id)
        for queue in self._subscribers:
            queue.put_nowait(outcome)
        self._in_progress.pop(stored.scan_id, None)
        return outcome

    def _profile_for(self, session: ScanSession | None) -> ScanProfile:
        if session is not None and session.profile_id is not None:
            profile = self._profiles.get(session.profile_id)
            if profile is not None:
                return profile
            log.warning(
                "profile %s of session %s is unknown; using the default",
                session.profile_id,
                session.session_id,
            )
        return self.config.default_profile

    async def _deliver(self, stored: _StoredScan, profile: ScanProfile) -> ScanOutcome:
        session = stored.session
        if session is None:
            destination_name = self.config.unclaimed_destination or ""
            user = UNCLAIMED_USER
        else:
            destination_name, user = profile.destination, session.user
        destination = self._destinations.get(destination_name)
        if destination is None:
            raise DeliveryError(f"destination {destination_name!r} is not configured")
        processed = await self._processor.process(stored.scan_id, stored.attachments, profile)
        metadata = ScanMetadata(
            stored.scan_id,
            user,
            stored.printer_id,
            profile.profile_id,
            processed.pages,
            _datetime(stored.received_at_us),
        )
        file_name = render_file_name(profile, metadata)
        names: tuple[tuple[str, Path], ...]
        if len(processed.files) == 1:
            names = ((file_name, processed.files[0]),)
        else:
            stem, _, extension = file_name.rpartition(".")
            names = tuple(
                (f"{stem}-{index:03d}.{extension}", path) for index, path in enumerate(processed.files, 1)
            )
        delivery = Delivery(
            scan_id=stored.scan_id,
            user=user,
            files=names,
            content_type=processed.content_type,
            pages=processed.pages,
            email=session.email if session else None,
            folder=session.home_folder if session else None,
            sidecar=render_sidecar(profile, metadata, file_name),
            language=session.language if session else "en",
        )
        receipt = await destination.deliver(delivery)
        amount = 0
        if session is not None:
            amount = processed.pages * profile.price_per_page_cents
            if self._meter is not None:
                self._meter.charge_scan(
                    user=session.user,
                    printer_id=stored.printer_id,
                    scan_id=stored.scan_id,
                    pages=processed.pages,
                    amount_cents=amount,
                    idempotency_key=f"scan:{stored.scan_id}",
                )
        status = "delivered" if session is not None else "unclaimed"
        return ScanOutcome(
            stored.scan_id,
            stored.printer_id,
            session.user if session else None,
            profile.profile_id,
            status,
            processed.pages,
            amount,
            destination_name,
            receipt,
            session_id=session.session_id if session else None,
        )

    # -- the encrypted spool ------------------------------------------------------------------------------

    def _spool_path(self, scan_id: str) -> Path:
        return self._spool / f"{scan_id}.scan"

    def _store(self, stored: _StoredScan) -> None:
        header = {
            "scan_id": stored.scan_id,
            "printer_id": stored.printer_id,
            "received_at_us": stored.received_at_us,
            "session": None if stored.session is None else asdict(stored.session),
            "attachments": [[a.file_name, a.kind, len(a.data)] for a in stored.attachments],
        }
        plain = json.dumps(header).encode() + b"\n" + b"".join(a.data for a in stored.attachments)
        nonce = os.urandom(12)
        path = self._spool_path(stored.scan_id)
        temporary = path.with_suffix(".tmp")
        with open(temporary, "wb", opener=lambda p, f: os.open(p, f, 0o600)) as handle:
            handle.write(nonce + self._aead.encrypt(nonce, plain, stored.scan_id.encode()))
            handle.flush()
            os.fsync(handle.fileno())
        temporary.replace(path)

    def _load(self, path: Path) -> _StoredScan:
        blob = path.read_bytes()
        plain = self._aead.decrypt(blob[:12], blob[12:], path.stem.encode())
        header_bytes, _, body = plain.partition(b"\n")
        header = json.loads(header_bytes)
        attachments = []
        offset = 0
        for file_name, kind, size in header["attachments"]:
            attachments.append(ScanAttachment(file_name, kind, body[offset : offset + size]))
            offset += size
        session = ScanSession(**header["session"]) if header["session"] else None
        return _StoredScan(
            header["scan_id"], header["printer_id"], header["received_at_us"], session, tuple(attachments)
        )


def _scan_id(printer_id: str, message: ScanMessage) -> str:
    """Deterministic: the same message from the same printer is the same scan after a restart."""
    digest = hashlib.sha256(f"{printer_id}\0{message.message_id or ''}\0{message.content_hash}".encode())
    return digest.hexdigest()[:32]


def _datetime(at_us: int) -> datetime:
    return datetime.fromtimestamp(at_us / 1_000_000, UTC)
