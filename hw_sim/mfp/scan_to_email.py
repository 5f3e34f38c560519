"""An MFP that scans to e-mail: it renders the originals on its platen, encodes them the way
the vendor's firmware does and sends them over real SMTP, from its own address.

Written from what devices send (public admin guides and mail samples), not from the hub's
parser, so a parser bug is not cancelled out by the same bug here:

* one ``multipart/mixed`` message: a short text body and the scan as a base64 attachment
  (PDF, one multi-page TIFF, or one JPEG per page), the vendor's subject and file names
  (:data:`VENDOR_STYLES`, data not branches); some firmware sends the body as 8-bit text;
* split sends for mail servers that cap sizes: RFC 2046 ``message/partial`` (the whole
  message cut into 7-bit line-aligned pieces, ``id``/``number``/``total``) or the "split
  e-mail" style, subjects ending in ``(k/n)`` with the file cut into pieces;
* resends: :meth:`ScanToEmail.resend` sends the last message again, byte for byte, as a
  device does when the final SMTP reply timed out.

Domain verbs: :meth:`ScanToEmail.scan`, :meth:`resend`; :attr:`history` keeps what was sent
and the server's replies. :func:`render_text_page` makes an original: known text at 300 dpi
with a slight skew and speckle noise, as a scanner would see a printed page.
"""

from __future__ import annotations

import io
import random
import smtplib
import ssl
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid

from PIL import Image, ImageDraw, ImageFilter, ImageFont

from hw_sim.mfp.model import SimulatedMfp

__all__ = ["VENDOR_STYLES", "ScanToEmail", "SentScan", "VendorStyle", "render_text_page"]

A4_AT_300_DPI = (2480, 3508)


@dataclass(frozen=True)
class VendorStyle:
    """How one vendor's firmware dresses a scan e-mail."""

    subject: str
    file_stem: str
    body: str
    body_8bit: bool = False


VENDOR_STYLES = {
    "konica": VendorStyle("Scan from KM_C300i", "SKMBT_C30i24011512340", "Attached Image Data\n"),
    "xerox": VendorStyle("Scan from a Xerox WorkCentre", "Scan_0001", "Please open the attached document.\n"),
    "ricoh": VendorStyle(
        "Scan Data from MP C3004", "20240115103012345", "Gescannte Daten im Anhang für Sie.\n", True
    ),
}


@dataclass(frozen=True)
class SentScan:
    """One message the device sent, and the final reply it got."""

    message_id: str
    subject: str
    raw: bytes
    reply_code: int
    reply: str


@dataclass
class ScanToEmail:
    """The scan-to-e-mail function of a simulated MFP."""

    source_address: str  # the device's own IP address (a loopback alias in tests)
    smtp_host: str
    smtp_port: int
    sender: str
    recipient: str
    style: VendorStyle = VENDOR_STYLES["konica"]
    tls: ssl.SSLContext | None = None  # STARTTLS with this context when given
    login: tuple[str, str] | None = None
    device: SimulatedMfp | None = None  # its scan counter moves with every scan
    history: list[SentScan] = field(default_factory=list)

    def scan(
        self,
        pages: Sequence[Image.Image],
        *,
        file_format: str = "pdf",
        split_bytes: int | None = None,
        split_style: str = "partial",
        dpi: int = 300,
    ) -> list[SentScan]:
        """Scan ``pages`` and send them; one message, or several when ``split_bytes`` is set."""
        files = _encode(pages, file_format, dpi, self.style.file_stem)
        message = self._message(self.style.subject, files)
        if self.device is not None:
            self.device.scan(len(pages))
        if split_bytes is None:
            messages = [message]
        elif split_style == "partial":
            messages = _partials(message, split_bytes)
        else:
            messages = self._subject_split(files, split_bytes)
        return [self._send(raw) for raw in messages]

    def resend(self) -> SentScan:
        """Send the last message again, byte for byte."""
        return self._send(self.history[-1].raw)

    def _message(self, subject: str, files: list[tuple[str, str, bytes]]) -> bytes:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = self.recipient
        message["Subject"] = subject
        message["Date"] = formatdate(localtime=False)
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or "mfp.invalid")
        message.set_content(self.style.body, cte="8bit" if self.style.body_8bit else "quoted-printable")
        for file_name, content_type, data in files:
            maintype, _, subtype = content_type.partition("/")
            message.add_attachment(data, maintype=maintype, subtype=subtype, filename=file_name)
        return message.as_bytes(policy=SMTP_POLICY)  # CRLF line ends, as on the wire

    def _subject_split(self, files: list[tuple[str, str, bytes]], split_bytes: int) -> list[bytes]:
        """Konica/Xerox "split e-mail": the files cut into pieces, one per message, "(k/n)"."""
        pieces: list[list[tuple[str, str, bytes]]] = []
        for file_name, content_type, data in files:
            for start in range(0, len(data), split_bytes):
                pieces.append([(file_name, content_type, data[start : start + split_bytes])])
        total = len(pieces)
        return [
            self._message(f"{self.style.subject} ({number}/{total})", piece)
            for number, piece in enumerate(pieces, 1)
        ]

    def _send(self, raw: bytes) -> SentScan:
        parsed_subject, parsed_id = _headers(raw)
        with smtplib.SMTP(
            self.smtp_host, self.smtp_port, source_address=(self.source_address, 0), timeout=60
        ) as client:
            client.ehlo("mfp.invalid")
            if self.tls is not None:
                client.starttls(context=self.tls)
                client.ehlo("mfp.invalid")
            if self.login is not None:
                client.login(*self.login)
            options = ["BODY=8BITMIME"] if self.style.body_8bit else []
            code, reply_bytes = client.mail(self.sender, options)
            if code == 250:
                code, reply_bytes = client.rcpt(self.recipient)
            if code == 250:
                code, reply_bytes = client.data(raw)
            else:
                client.rset()
            reply = _text(reply_bytes)
        sent = SentScan(parsed_id, parsed_subject, raw, code, reply)
        self.history.append(sent)
        return sent


def _text(reply: bytes | str) -> str:
    return reply.decode(errors="replace") if isinstance(reply, bytes) else reply


def _headers(raw: bytes) -> tuple[str, str]:
    head = raw.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("latin-1")
    values: dict[str, str] = {}
    for line in head.splitlines():
        name, _, value = line.partition(":")
        values.setdefault(name.strip().lower(), value.strip())
    return values.get("subject", ""), values.get("message-id", "")


def _encode(
    pages: Sequence[Image.Image], file_format: str, dpi: int, stem: str
) -> list[tuple[str, str, bytes]]:
    """The scan files a device attaches: one PDF, one multi-page TIFF, or JPEG per page."""
    if file_format == "pdf":
        out = io.BytesIO()
        pages[0].save(out, "PDF", save_all=True, append_images=list(pages[1:]), resolution=dpi)
        return [(f"{stem}.pdf", "application/pdf", out.getvalue())]
    if file_format == "tiff":
        out = io.BytesIO()
        pages[0].save(
            out, "TIFF", save_all=True, append_images=list(pages[1:]), dpi=(dpi, dpi), compression="tiff_lzw"
        )
        return [(f"{stem}.tif", "image/tiff", out.getvalue())]
    if file_format == "jpeg":
        files = []
        for number, page in enumerate(pages, 1):
            out = io.BytesIO()
            page.convert("L").save(out, "JPEG", quality=85, dpi=(dpi, dpi))
            files.append((f"{stem}_{number:03d}.jpg", "image/jpeg", out.getvalue()))
        return files
    raise ValueError(f"unknown scan format {file_format!r}")


def _partials(message: bytes, split_bytes: int) -> list[bytes]:
    """RFC 2046 5.2.2: the whole message cut at line ends into ``message/partial`` bodies."""
    lines = message.splitlines(keepends=True)
    chunks: list[bytes] = []
    current = b""
    for line in lines:
        if current and len(current) + len(line) > split_bytes:
            chunks.append(current)
            current = b""
        current += line
    chunks.append(current)
    partial_id = make_msgid(domain="mfp.invalid").strip("<>")
    outer = []
    for number, chunk in enumerate(chunks, 1):
        headers = (
            f"Message-ID: {make_msgid(domain='mfp.invalid')}\r\n"
            f"Subject: Partial scan ({number} of {len(chunks)})\r\n"
            "MIME-Version: 1.0\r\n"
            f'Content-Type: message/partial; id="{partial_id}"; number={number}; total={len(chunks)}\r\n'
            "\r\n"
        )
        outer.append(headers.encode("ascii") + chunk)
    return outer


def render_text_page(
    text: str, *, dpi: int = 300, skew_degrees: float = 1.2, noise: float = 0.002, seed: int = 0
) -> Image.Image:
    """An A4 original with ``text`` in 12 pt, as scanned: slightly skewed, with speckles."""
    width, height = A4_AT_300_DPI if dpi == 300 else (int(8.27 * dpi), int(11.69 * dpi))
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    font = ImageFont.load_default(size=int(dpi * 14 / 72))
    y = int(dpi * 1.0)
    for paragraph in text.split("\n"):
        for line in textwrap.wrap(paragraph, 60) or [""]:
            draw.text((int(dpi * 0.9), y), line, fill=0, font=font)
            y += int(dpi * 0.3)
    page = page.rotate(skew_degrees, resample=Image.Resampling.BICUBIC, fillcolor=255, expand=False)
    generator = random.Random(seed)
    pixels = page.load()
    assert pixels is not None
    for _ in range(int(width * height * noise)):
        pixels[generator.randrange(width), generator.randrange(height)] = generator.choice((0, 90, 180))
    return page.filter(ImageFilter.SMOOTH)
