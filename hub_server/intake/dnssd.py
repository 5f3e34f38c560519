"""DNS-SD announcement of the print queue through avahi, so desktops and phones find it.

avahi-daemon publishes every ``*.service`` file in its services directory
(``/etc/avahi/services``) and follows changes to it. :func:`publish` writes one file for the
queue: ``_ipp._tcp`` (plain IPP) and/or ``_ipps._tcp`` (IPPS), each with the subtypes
``_print`` (IPP Everywhere, Mopria) and ``_universal`` (AirPrint), and the TXT keys those
clients read (Bonjour Printing 1.2.1, PWG 5100.14 section 4.2): ``rp`` (resource path),
``ty``/``product``/``note``, ``pdl`` (formats), ``URF`` (Apple raster capabilities; AirPrint
shows no printer without it), ``UUID``, ``Color``/``Duplex``, ``TLS``, ``kind``,
``PaperMax``, ``adminurl``, and ``air=username,password`` when the queue authenticates (iOS
then asks for credentials). :meth:`Announcement.withdraw` removes the file.

The file is written atomically (a temporary file renamed over it), mode 0644: it names no
secret.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from .ipp_attributes import DOCUMENT_FORMATS, URF_SUPPORTED

__all__ = ["Announcement", "QueueAdvert", "publish", "service_file"]

log = logging.getLogger(__name__)

SERVICE_FILE = "printgate-ipp.service"
_TXT_BYTES_MAX = 255  # one DNS TXT string


@dataclass(frozen=True)
class QueueAdvert:
    """What the announcement says about the queue."""

    name: str  # the service instance name; avahi replaces ``%h`` by the host name
    uuid: str  # printer-uuid without "urn:uuid:"
    make_and_model: str
    location: str
    ipp_port: int  # 0: no plain IPP listener
    ipps_port: int  # 0: no IPPS listener
    authenticates: bool  # HTTP Basic over IPPS ("air=username,password")
    resource_path: str = "ipp/print"


def _txt(advert: QueueAdvert, tls: bool) -> list[str]:
    scheme = "https" if tls else "http"
    port = advert.ipps_port if tls else advert.ipp_port
    records = {
        "txtvers": "1",
        "qtotal": "1",
        "rp": advert.resource_path,
        "ty": advert.make_and_model,
        "product": f"({advert.make_and_model})",
        "note": advert.location,
        "adminurl": f"{scheme}://%h.local:{port}/{advert.resource_path}",
        "pdl": ",".join(f for f in DOCUMENT_FORMATS if f != "application/octet-stream"),
        "URF": ",".join(URF_SUPPORTED),
        "UUID": advert.uuid,
        "Color": "T",
        "Duplex": "T",
        "Copies": "T",
        "kind": "document",
        "PaperMax": "legal-A4",
        "priority": "0",
    }
    if tls:
        records["TLS"] = "1.2"
    if tls and advert.authenticates:
        records["air"] = "username,password"
    texts = [f"{key}={value}" for key, value in records.items()]
    too_long = [text.split("=", 1)[0] for text in texts if len(text.encode()) > _TXT_BYTES_MAX]
    if too_long:
        raise ValueError(f"DNS-SD TXT value too long: {', '.join(too_long)}")
    return texts


def _service(kind: str, port: int, texts: Sequence[str]) -> str:
    lines = [
        "  <service>",
        f"    <type>{kind}</type>",
        f"    <subtype>_print._sub.{kind}</subtype>",
        f"    <subtype>_universal._sub.{kind}</subtype>",
        f"    <port>{port}</port>",
        *(f"    <txt-record>{escape(text)}</txt-record>" for text in texts),
        "  </service>",
    ]
    return "\n".join(lines)


def service_file(advert: QueueAdvert) -> str:
    """The avahi service file (XML) announcing ``advert``."""
    services = []
    if advert.ipps_port:
        services.append(_service("_ipps._tcp", advert.ipps_port, _txt(advert, tls=True)))
    if advert.ipp_port:
        services.append(_service("_ipp._tcp", advert.ipp_port, _txt(advert, tls=False)))
    if not services:
        raise ValueError("DNS-SD: the queue has no IPP or IPPS listener to announce")
    return "\n".join(
        [
            '<?xml version="1.0" standalone="no"?>',
            '<!DOCTYPE service-group SYSTEM "avahi-service.dtd">',
            "<service-group>",
            f'  <name replace-wildcards="yes">{escape(advert.name)}</name>',
            *services,
            "</service-group>",
            "",
        ]
    )


@dataclass
class Announcement:
    """A published service file; :meth:`withdraw` removes it (avahi then says goodbye)."""

    path: Path

    def withdraw(self) -> None:
        """Remove the service file (nothing happens if it is gone already)."""
        self.path.unlink(missing_ok=True)
        log.info("intake: DNS-SD announcement withdrawn (%s)", self.path)


def publish(advert: QueueAdvert, services_dir: Path) -> Announcement:
    """Write the queue's service file into avahi's ``services_dir`` (atomically)."""
    text = service_file(advert)
    path = services_dir / SERVICE_FILE
    descriptor, temporary = tempfile.mkstemp(dir=services_dir, prefix=".printgate-", suffix=".tmp")
    try:
        with os.fdopen(descriptor, "w") as handle:
            handle.write(text)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    log.info("intake: queue announced over DNS-SD (%s)", path)
    return Announcement(path)
