"""Where scans go, behind one interface: e-mail (with a download link above a size), SMB
folders and WebDAV folders. Cloud drives fit the same interface (see ``docs/scanning.md``).

A :class:`Destination` takes a :class:`Delivery` (the files, the person, the profile's file
names) and returns a receipt: where the scan now is. Destinations block only in worker
threads (``smtplib``, ``smbclient``); WebDAV uses ``httpx``'s async client.

Cloud connectors (OneDrive / SharePoint via Microsoft Graph, Google Drive) implement the same
``deliver``: they need an OAuth client registered with the provider, a per-user refresh token
(from a consent flow in the web console) or an admin-consented application permission, an
upload session for files over a few MB, and retries on throttling. None is reachable here, so
none is shipped.
"""

from __future__ import annotations

import asyncio
import smtplib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path, PurePosixPath
from typing import Protocol
from urllib.parse import quote

import httpx

from .errors import DeliveryError
from .links import make_link_token

__all__ = [
    "Delivery",
    "Destination",
    "EmailDestination",
    "LinkStore",
    "SmbDestination",
    "WebDavDestination",
]


@dataclass(frozen=True)
class Delivery:
    """One scan to deliver: files named as the profile says, for ``user``.

    ``folder`` is the user's own folder on folder destinations (home share), ``email`` their
    address; a destination that needs one and gets None refuses.
    """

    scan_id: str
    user: str
    files: tuple[tuple[str, Path], ...]  # (file name to use, local path)
    content_type: str
    pages: int
    email: str | None = None
    folder: str | None = None
    sidecar: tuple[str, bytes] | None = None
    language: str = "en"

    @property
    def size_bytes(self) -> int:
        """Total bytes of the files."""
        return sum(path.stat().st_size for _, path in self.files)


class Destination(Protocol):
    """Implemented by every destination."""

    name: str

    async def deliver(self, delivery: Delivery) -> str:
        """Deliver the scan; a receipt (location or message id), or ``DeliveryError``."""


class LinkStore(Protocol):
    """Where scans too large to mail are kept for the web console to serve by link."""

    def keep(self, scan_id: str, user: str, files: tuple[tuple[str, Path], ...], expires_unix_s: int) -> None:
        """Store the files of ``scan_id`` (owned by ``user``) until ``expires_unix_s``."""


@dataclass
class EmailDestination:
    """Mail the scan to the user through the site's SMTP relay; above ``attach_bytes_max``
    mail a signed, expiring download link instead (mail servers cap attachment sizes)."""

    relay_host: str
    relay_port: int
    sender: str
    link_key: bytes
    link_base_url: str  # e.g. https://hub.example/scans/
    link_store: LinkStore
    name: str = "email"
    attach_bytes_max: int = 10 * 1024 * 1024
    link_ttl_s: int = 7 * 24 * 3600
    starttls: ssl.SSLContext | None = None
    login: tuple[str, str] | None = None
    timeout_s: float = 60.0
    clock_s: Callable[[], float] = time.time

    async def deliver(self, delivery: Delivery) -> str:
        if not delivery.email:
            raise DeliveryError(f"no e-mail address for {delivery.user}")
        return await asyncio.to_thread(self._compose_and_send, delivery, delivery.email)

    def _compose_and_send(self, delivery: Delivery, address: str) -> str:
        """Build the mail (reading the files, or keeping them for a link) and send it: in a
        worker thread, so several megabytes of base64 do not hold up the event loop."""
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = address
        message["Message-ID"] = make_msgid(domain=self.sender.rpartition("@")[2] or None)
        german = delivery.language == "de"
        message["Subject"] = f"{'Ihr Scan' if german else 'Your scan'} ({delivery.pages} p.)"
        if delivery.size_bytes <= self.attach_bytes_max:
            message.set_content("Ihr Scan ist angehängt.\n" if german else "Your scan is attached.\n")
            maintype, _, subtype = delivery.content_type.partition("/")
            for file_name, path in delivery.files:
                message.add_attachment(
                    path.read_bytes(), maintype=maintype, subtype=subtype, filename=file_name
                )
            if delivery.sidecar is not None:
                message.add_attachment(
                    delivery.sidecar[1],
                    maintype="application",
                    subtype="octet-stream",
                    filename=delivery.sidecar[0],
                )
        else:
            expires = int(self.clock_s()) + self.link_ttl_s
            self.link_store.keep(delivery.scan_id, delivery.user, delivery.files, expires)
            url = self.link_base_url + make_link_token(
                self.link_key, delivery.scan_id, delivery.user, expires
            )
            text = (
                f"Ihr Scan ist zu groß für eine E-Mail. Herunterladen (nach Anmeldung): {url}\n"
                if german
                else f"Your scan is too large to mail. Download it (after logging in): {url}\n"
            )
            message.set_content(text)
        self._send(message)
        return str(message["Message-ID"])

    def _send(self, message: EmailMessage) -> None:
        try:
            with smtplib.SMTP(self.relay_host, self.relay_port, timeout=self.timeout_s) as client:
                if self.starttls is not None:
                    client.starttls(context=self.starttls)
                if self.login is not None:
                    client.login(*self.login)
                client.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            raise DeliveryError(f"the mail relay refused the scan: {error}") from None


@dataclass
class SmbDestination:
    """Write the scan into an SMB share folder (``smbprotocol``): the user's home folder
    (``Delivery.folder``, a path inside the share) or ``folder_template`` with ``{user}``."""

    server: str
    share: str
    username: str
    password: str
    name: str = "smb"
    port: int = 445
    folder_template: str | None = None  # e.g. "scans/{user}"; None: the user's home folder
    require_encryption: bool = True

    async def deliver(self, delivery: Delivery) -> str:
        folder = (
            delivery.folder
            if self.folder_template is None
            else self.folder_template.format(user=delivery.user)
        )
        if folder is None:
            raise DeliveryError(f"no folder for {delivery.user}")
        return await asyncio.to_thread(self._write, _safe_relative(folder), delivery)

    def _write(self, folder: PurePosixPath, delivery: Delivery) -> str:
        import smbclient  # imported here: it starts no threads until used
        from smbprotocol.exceptions import SMBException

        root = f"\\\\{self.server}\\{self.share}"
        directory = "\\".join([root, *folder.parts])
        try:
            smbclient.register_session(
                self.server,
                username=self.username,
                password=self.password,
                port=self.port,
                encrypt=self.require_encryption,
            )
            smbclient.makedirs(directory, exist_ok=True, port=self.port)
            for file_name, path in delivery.files:
                remote_path = f"{directory}\\{file_name}"
                with (
                    smbclient.open_file(remote_path, mode="wb", port=self.port) as remote,
                    open(path, "rb") as local,
                ):
                    while chunk := local.read(1024 * 1024):
                        remote.write(chunk)
            if delivery.sidecar is not None:
                with smbclient.open_file(
                    f"{directory}\\{delivery.sidecar[0]}", mode="wb", port=self.port
                ) as remote:
                    remote.write(delivery.sidecar[1])
        except (OSError, SMBException, ValueError) as error:
            raise DeliveryError(f"the SMB share refused the scan: {error}") from None
        return f"{directory}\\{delivery.files[0][0]}"


@dataclass
class WebDavDestination:
    """PUT the scan into a WebDAV collection (Nextcloud-style), creating folders with MKCOL."""

    base_url: str  # e.g. https://cloud.example/remote.php/dav/files/scanner/
    username: str
    password: str
    name: str = "webdav"
    folder_template: str = "{user}"
    verify: ssl.SSLContext | bool = True
    timeout_s: float = 60.0

    async def deliver(self, delivery: Delivery) -> str:
        folder = _safe_relative(self.folder_template.format(user=delivery.user))
        async with httpx.AsyncClient(
            auth=(self.username, self.password), verify=self.verify, timeout=self.timeout_s
        ) as client:
            url = self.base_url.rstrip("/")
            for part in folder.parts:
                url = f"{url}/{quote(part)}"
                response = await client.request("MKCOL", url + "/")
                if response.status_code not in (201, 405):  # 405: it exists already
                    raise DeliveryError(f"WebDAV MKCOL {part} answered {response.status_code}")
            uploads = [(name, path.read_bytes()) for name, path in delivery.files]
            if delivery.sidecar is not None:
                uploads.append(delivery.sidecar)
            for file_name, data in uploads:
                response = await client.put(f"{url}/{quote(file_name)}", content=data)
                if response.status_code not in (200, 201, 204):
                    raise DeliveryError(f"WebDAV PUT {file_name} answered {response.status_code}")
        return f"{url}/{quote(delivery.files[0][0])}"


def _safe_relative(folder: str) -> PurePosixPath:
    """A folder path inside the share: no absolute paths, no ``..``, no drive letters."""
    path = PurePosixPath(folder.replace("\\", "/"))
    if path.is_absolute() or any(part in ("..", "") or ":" in part for part in path.parts):
        raise DeliveryError(f"folder {folder!r} is not a plain path inside the share")
    return path
