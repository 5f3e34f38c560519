"""The MIME that MFPs send their scans in, parsed within bounds, and split sends put together.

What real devices send, and how it is handled:

* ``multipart/mixed`` with one or more attachments: PDF, TIFF (often multi-page, G4 or LZW) or
  JPEG (one file per page), with a text body that is ignored. Vendors name files and subjects
  their own way ("Scan from KM_C300i", "Scanned image from MX-2640N", ``img-0123.pdf``,
  ``DOC240115-001.tif``); none of that is trusted: a file is known by its first bytes.
* Transfer encodings: base64 (most), quoted-printable, 7bit and 8bit bodies (the receiver
  advertises 8BITMIME), RFC 2231 / RFC 2047 encoded file names.
* Split sends, for mail servers that cap message sizes:
  - ``message/partial`` (RFC 2046 section 5.2.2): ``id``, ``number`` and, on the last part,
    ``total``; the parts' bodies joined in order are the original message.
  - "split e-mail" (Konica Minolta "divided e-mail", Xerox "split send"): ordinary messages
    whose subjects end in ``(k/n)``. Each carries either whole files (some pages each) or a
    byte fragment of one file; fragments after the first do not start with a file signature
    and are joined to the file before them.
* Duplicates: MFPs resend when they time out waiting for the final reply; the intake drops a
  message whose Message-ID and content hash it has seen (``DuplicateFilter``).

Refused (``MimeError``): anything that is not MIME, nesting deeper than ``depth_max``, more
than ``parts_max`` parts, attachments that are not PDF/TIFF/JPEG (a zip is never unpacked, so
a zip bomb costs nothing), images whose header claims more pixels than ``image_pixels_max``.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import re
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import Message

from PIL import Image

from .errors import MimeError

__all__ = [
    "DuplicateFilter",
    "MimeLimits",
    "PartialPart",
    "ScanAttachment",
    "ScanMessage",
    "SplitAssembler",
    "SplitPart",
    "parse_scan_message",
    "sniff_scan_kind",
]

_SPLIT_SUBJECT = re.compile(r"^(?P<base>.*?)\s*[\(\[](?P<number>\d{1,3})\s*/\s*(?P<total>\d{1,3})[\)\]]\s*$")
_KINDS = {"pdf": "application/pdf", "tiff": "image/tiff", "jpeg": "image/jpeg"}
_EXTENSIONS = {"pdf": "pdf", "tiff": "tif", "jpeg": "jpg"}


@dataclass(frozen=True)
class MimeLimits:
    """Bounds on one message and on what is kept waiting for the rest of a split send."""

    message_bytes_max: int = 64 * 1024 * 1024
    parts_max: int = 64
    depth_max: int = 5
    attachments_max: int = 32
    image_pixels_max: int = 120_000_000  # A3 at 600 dpi is 70 million
    image_frames_max: int = 500
    split_parts_max: int = 50
    split_pending_bytes_max: int = 256 * 1024 * 1024
    split_timeout_s: float = 600.0


@dataclass(frozen=True)
class ScanAttachment:
    """One scanned file: ``kind`` is ``pdf``, ``tiff`` or ``jpeg`` from its signature
    (``fragment`` only inside a split send, for a piece of the file before it)."""

    file_name: str
    kind: str
    data: bytes

    @property
    def content_type(self) -> str:
        """The MIME type of the kind."""
        return _KINDS[self.kind]


@dataclass(frozen=True)
class SplitPart:
    """A "split e-mail" part: ``(k/n)`` at the end of the subject."""

    base_subject: str
    number: int
    total: int


@dataclass(frozen=True)
class PartialPart:
    """An RFC 2046 ``message/partial`` part; ``total`` is known on the last part only."""

    partial_id: str
    number: int
    total: int | None
    body: bytes


@dataclass(frozen=True)
class ScanMessage:
    """A parsed message: its attachments, or the piece of a split send it is."""

    message_id: str | None
    subject: str
    attachments: tuple[ScanAttachment, ...] = ()
    split: SplitPart | None = None
    partial: PartialPart | None = None

    @property
    def content_hash(self) -> str:
        """SHA-256 over the attachments (or the partial body): what a duplicate repeats."""
        digest = hashlib.sha256()
        for attachment in self.attachments:
            digest.update(attachment.file_name.encode() + b"\0" + attachment.data)
        if self.partial is not None:
            digest.update(self.partial.body)
        return digest.hexdigest()


def sniff_scan_kind(data: bytes) -> str | None:
    """``pdf``, ``tiff`` or ``jpeg`` from the file signature, or None."""
    if data.lstrip(b"\r\n\t ")[:5] == b"%PDF-":
        return "pdf"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    return None


def parse_scan_message(raw: bytes, limits: MimeLimits | None = None) -> ScanMessage:
    """Parse one received message; ``MimeError`` when it is not a scan we accept."""
    limits = limits or MimeLimits()
    if len(raw) > limits.message_bytes_max:
        raise MimeError(f"message over {limits.message_bytes_max} bytes")
    message = email.message_from_bytes(raw, policy=email.policy.default)
    message_id = _header(message, "Message-ID") or None
    subject = _header(message, "Subject")
    if message.get_content_type() == "message/partial":
        return ScanMessage(message_id, subject, partial=_partial(message, _raw_body(raw)))
    split = _split(subject)
    attachments = tuple(_attachments(message, limits, split))
    if not attachments:
        raise MimeError("the message carries no PDF, TIFF or JPEG scan")
    return ScanMessage(message_id, subject, attachments, split=split)


def _header(message: Message, name: str) -> str:
    try:
        value = message.get(name)
    except (ValueError, IndexError, TypeError):  # malformed encoded words
        raise MimeError(f"malformed {name} header") from None
    return str(value).strip() if value is not None else ""


def _split(subject: str) -> SplitPart | None:
    match = _SPLIT_SUBJECT.match(subject)
    if match is None:
        return None
    number, total = int(match.group("number")), int(match.group("total"))
    if total < 2 or not 1 <= number <= total:
        return None
    return SplitPart(match.group("base"), number, total)


def _raw_body(raw: bytes) -> bytes:
    """The bytes after the header block (RFC 2046 requires 7bit for message/partial, so the
    fragment is these bytes exactly; the email package would parse it as a message)."""
    for separator in (b"\r\n\r\n", b"\n\n"):
        index = raw.find(separator)
        if index >= 0:
            return raw[index + len(separator) :]
    return b""


def _partial(message: Message, body: bytes) -> PartialPart:
    partial_id = message.get_param("id")
    number = message.get_param("number")
    total = message.get_param("total")
    try:
        number_value = int(str(number))
        total_value = int(str(total)) if total is not None else None
    except ValueError:
        raise MimeError("message/partial with a non-numeric number or total") from None
    if not isinstance(partial_id, str) or not partial_id or number_value < 1:
        raise MimeError("message/partial without an id or a number")
    return PartialPart(partial_id, number_value, total_value, body)


def _walk(message: Message, limits: MimeLimits) -> Iterator[Message]:
    """Leaf parts, depth-first, with the nesting and part-count bounds enforced."""
    stack: list[tuple[Message, int]] = [(message, 0)]
    seen = 0
    while stack:
        part, depth = stack.pop()
        seen += 1
        if seen > limits.parts_max:
            raise MimeError(f"more than {limits.parts_max} MIME parts")
        if depth > limits.depth_max:
            raise MimeError(f"MIME nested deeper than {limits.depth_max}")
        if part.is_multipart():
            children = part.get_payload()
            if not isinstance(children, list):
                raise MimeError("a multipart without parts")
            stack.extend((child, depth + 1) for child in reversed(children) if isinstance(child, Message))
        else:
            yield part


def _attachments(message: Message, limits: MimeLimits, split: SplitPart | None) -> Iterator[ScanAttachment]:
    """The scans a message carries. In a split send, a piece without a file signature is a
    ``fragment`` of the file before it, and images are checked once joined."""
    count = 0
    for index, part in enumerate(_walk(message, limits)):
        content_type = part.get_content_type()
        disposition = part.get_content_disposition()
        if content_type.startswith("text/") and disposition != "attachment":
            continue  # the body text MFPs add ("Please find attached...")
        try:
            data = part.get_payload(decode=True)
        except Exception:  # the email package raises many kinds on bad bodies
            raise MimeError(f"part {index} does not decode") from None
        if not isinstance(data, bytes) or not data:
            continue
        kind = sniff_scan_kind(data)
        if kind is None and split is not None and split.number > 1:
            kind = "fragment"
        if kind is None:
            if part.get_content_type().startswith("text/"):
                continue
            raise MimeError(f"attachment of type {content_type} is not a PDF, TIFF or JPEG scan")
        count += 1
        if count > limits.attachments_max:
            raise MimeError(f"more than {limits.attachments_max} attachments")
        if kind in ("tiff", "jpeg") and split is None:
            _check_image(data, limits)
        yield ScanAttachment(_file_name(part, index, kind), kind, data)


def _file_name(part: Message, index: int, kind: str) -> str:
    try:
        name = part.get_filename()
    except (ValueError, IndexError, TypeError):
        name = None
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name or f"scan-{index}.{_EXTENSIONS.get(kind, 'bin')}"


def _check_image(data: bytes, limits: MimeLimits) -> None:
    """Read only the image headers: the pixel count a decoder would have to hold."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            frames = getattr(image, "n_frames", 1)
            if frames > limits.image_frames_max:
                raise MimeError(f"an image with more than {limits.image_frames_max} pages")
            for frame in range(frames):
                image.seek(frame)
                width, height = image.size
                if width * height > limits.image_pixels_max:
                    raise MimeError(f"an image page of {width}x{height} pixels is over the limit")
    except MimeError:
        raise
    except Exception as error:  # Pillow's readers raise many kinds on hostile headers
        raise MimeError(f"an image that does not open: {type(error).__name__}") from None


@dataclass
class _Pending:
    first_seen_s: float
    parts: dict[int, ScanMessage | PartialPart] = field(default_factory=dict)
    total: int | None = None
    size_bytes: int = 0


class SplitAssembler:
    """Holds the pieces of split sends per printer until all have arrived.

    ``add`` returns the whole message when the last piece arrives, None while waiting.
    Pieces older than ``split_timeout_s`` are dropped (``expired`` lists what was dropped).
    """

    def __init__(self, limits: MimeLimits | None = None, clock: object = time.monotonic) -> None:
        self._limits = limits or MimeLimits()
        self._clock = clock
        self._pending: dict[tuple[str, str, str], _Pending] = {}
        self.expired: list[tuple[str, str]] = []

    def _now(self) -> float:
        now: float = self._clock()  # type: ignore[operator]
        return now

    def add(self, printer_id: str, message: ScanMessage) -> ScanMessage | None:
        """Add a message; the reassembled scan when it completes a split send."""
        self._expire()
        if message.partial is not None:
            return self._add_partial(printer_id, message, message.partial)
        if message.split is not None:
            return self._add_split(printer_id, message, message.split)
        return message

    def _slot(self, key: tuple[str, str, str], size: int) -> _Pending:
        pending = self._pending.setdefault(key, _Pending(self._now()))
        total_pending = sum(entry.size_bytes for entry in self._pending.values()) + size
        if total_pending > self._limits.split_pending_bytes_max:
            del self._pending[key]
            raise MimeError("too many bytes waiting for the rest of split sends")
        pending.size_bytes += size
        return pending

    def _add_partial(self, printer_id: str, message: ScanMessage, part: PartialPart) -> ScanMessage | None:
        if part.number > self._limits.split_parts_max or (part.total or 0) > self._limits.split_parts_max:
            raise MimeError(f"a split send of more than {self._limits.split_parts_max} parts")
        key = (printer_id, "partial", part.partial_id)
        pending = self._slot(key, len(part.body))
        pending.parts.setdefault(part.number, part)
        pending.total = part.total or pending.total
        if pending.total is None or len(pending.parts) < pending.total:
            return None
        del self._pending[key]
        if set(pending.parts) != set(range(1, pending.total + 1)):
            raise MimeError("message/partial numbers do not run 1..total")
        bodies = [pending.parts[number] for number in range(1, pending.total + 1)]
        whole = b"".join(body.body for body in bodies if isinstance(body, PartialPart))
        inner = parse_scan_message(whole, self._limits)
        return ScanMessage(inner.message_id or message.message_id, inner.subject, inner.attachments)

    def _add_split(self, printer_id: str, message: ScanMessage, split: SplitPart) -> ScanMessage | None:
        if split.total > self._limits.split_parts_max:
            raise MimeError(f"a split send of more than {self._limits.split_parts_max} parts")
        key = (printer_id, "subject", f"{split.base_subject}\0{split.total}")
        pending = self._slot(key, sum(len(a.data) for a in message.attachments))
        pending.parts.setdefault(split.number, message)
        if len(pending.parts) < split.total:
            return None
        del self._pending[key]
        files: list[ScanAttachment] = []
        for number in range(1, split.total + 1):
            piece = pending.parts[number]
            if not isinstance(piece, ScanMessage):
                raise MimeError("a split send mixed with message/partial pieces")
            for attachment in piece.attachments:
                if attachment.kind != "fragment":
                    files.append(attachment)
                elif files:
                    last = files[-1]
                    files[-1] = ScanAttachment(last.file_name, last.kind, last.data + attachment.data)
                else:
                    raise MimeError("a split send whose first piece is not a scan")
        for joined in files:
            if joined.kind in ("tiff", "jpeg"):
                _check_image(joined.data, self._limits)
        return ScanMessage(message.message_id, split.base_subject, tuple(files))

    def _expire(self) -> None:
        now = self._now()
        for key, pending in list(self._pending.items()):
            if now - pending.first_seen_s > self._limits.split_timeout_s:
                del self._pending[key]
                self.expired.append((key[0], key[2].split("\0", 1)[0]))


class DuplicateFilter:
    """Remembers (printer, Message-ID, content hash) of recent messages to drop resends."""

    def __init__(self, capacity: int = 10_000) -> None:
        self._seen: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._capacity = capacity

    def is_duplicate(self, printer_id: str, message: ScanMessage) -> bool:
        """True for a resend of a message already taken; records new ones."""
        key = (printer_id, message.message_id or "", message.content_hash)
        if key in self._seen:
            self._seen.move_to_end(key)
            return True
        self._seen[key] = None
        if len(self._seen) > self._capacity:
            self._seen.popitem(last=False)
        return False
