"""The fleet's ``reboot`` and ``install_update`` on a device whose app has no privileges.

The app runs unprivileged (on the image: the ``printgate`` user under ``NoNewPrivileges``). It
asks the device's root service instead, through files in ``[fleet] ops_dir`` (the format and the
directories: :mod:`printgate.device_requests`; the root side: ``images.guest.device_requests``):

* ``reboot``: a request; the root side answers ``rebooting`` and reboots seconds later, so the
  command is answered after the restart;
* ``install_update``: the bundle is downloaded first (``https://`` checked against the hub CA the
  device enrolled with, or ``file://``), streamed to disk under a size cap after a free-space
  check, and its SHA-256 compared with the command's; only then is the request written. The
  root side installs it with RAUC and reboots into the new slot (answered after the restart:
  ``failed`` when the version that came back is not the one asked for), or answers ``failed``
  with RAUC's reason. One update at a time. The request under way is noted in
  ``<ops_dir>/update.json`` until its answer is read, so an app restarted meanwhile (watchdog,
  crash, ``restart_app``) still reads the answer: :meth:`DeviceOps.resume_update`.

Without ``ops_dir`` (a developer's machine) there is no :class:`DeviceOps`, and both verbs answer
``failed`` with "not available on this device".
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import os
import secrets
import shutil
import ssl
import stat
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
from printgate.device_requests import (
    DOWNLOADS,
    MAX_RESULT_BYTES,
    REQUESTS,
    RESULTS,
    STAGING,
    DeviceRequest,
    RequestError,
    bundle_name,
    encode_request,
    file_name,
    parse_result,
)

from terminal_app.telemetry import CommandResult

__all__ = ["DEFAULT_MAX_BUNDLE_BYTES", "DeviceOps", "DownloadRefused"]

log = logging.getLogger(__name__)
DEFAULT_MAX_BUNDLE_BYTES = 1 << 30
UPDATE_UNDER_WAY = "update.json"  # in ops_dir: the install_update request (id, version, sha256)
_CHUNK_BYTES = 1 << 16


class DownloadRefused(Exception):
    """A bundle that is not kept; the text says why."""


def _cancelled() -> bool:
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


def _fsync_dir(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


@dataclass
class DeviceOps:
    """The request client of one device (see the module docstring)."""

    directory: Path  # [fleet] ops_dir
    ca_file: Path | None  # the hub CA the device enrolled with: what https:// is checked against
    max_bundle_bytes: int = DEFAULT_MAX_BUNDLE_BYTES
    reserve_bytes: int = 64 << 20  # left free after a download (journal, logs, the offline cache)
    read_timeout_s: float = 60.0  # of the download server, per read
    reboot_answer_s: float = 60.0  # the root side answers a reboot at once
    install_answer_s: float = 3900.0  # RAUC's install on a slow SD card takes minutes
    poll_s: float = 0.2
    _updating: bool = False
    _under_way: DeviceRequest | None = None  # an earlier run's update, its answer not read

    def prepare(self) -> None:
        """Make the directories, and drop what an earlier run of the app left, except the request
        of an update under way and its bundle and answer (:meth:`resume_update` reads it)."""
        self._under_way = self._read_under_way()
        keep = set()
        if self._under_way is not None:
            keep = {file_name(self._under_way.id), bundle_name(self._under_way.id)}
        else:
            with contextlib.suppress(FileNotFoundError):
                (self.directory / UPDATE_UNDER_WAY).unlink()
        for name in (STAGING, REQUESTS, DOWNLOADS, RESULTS):
            folder = self.directory / name
            folder.mkdir(mode=0o755, parents=True, exist_ok=True)
            for leftover in folder.iterdir():
                if leftover.name in keep and name != STAGING:
                    continue
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()

    def _read_under_way(self) -> DeviceRequest | None:
        try:
            noted = json.loads((self.directory / UPDATE_UNDER_WAY).read_bytes()[:4096])
            return DeviceRequest(
                str(noted["id"]), "install_update", str(noted["version"]), str(noted["sha256"])
            )
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, RequestError) as error:
            log.warning("the note of an update under way is unreadable; not resumed: %s", error)
            return None

    async def resume_update(self, version: str) -> CommandResult | None:
        """The answer to the update of ``version`` an earlier run of the app handed over and did
        not wait for to the end (None when no such update is noted)."""
        request = self._under_way
        if request is None or request.version != version:
            return None
        self._under_way = None
        return await self._await_answer(request, self.install_answer_s, version)

    async def reboot(self) -> CommandResult:
        """Ask the root side to reboot; answered after the restart."""
        return await self._submit(DeviceRequest(secrets.token_hex(16), "reboot"), self.reboot_answer_s)

    async def install_update(self, url: str, version: str, sha256: str) -> CommandResult:
        """Download and check the bundle, then ask the root side to install it and reboot."""
        request = DeviceRequest(secrets.token_hex(16), "install_update", version, sha256)
        if self._updating:
            return CommandResult.failed("an update is already under way")
        self._updating = True
        bundle = self.directory / DOWNLOADS / bundle_name(request.id)
        try:
            try:
                size_bytes = await asyncio.to_thread(self._fetch, url, bundle, sha256)
            except DownloadRefused as error:
                return CommandResult.failed(str(error))
            result = await self._submit(request, self.install_answer_s, version)
            if result.restart_pending:
                return CommandResult.after_restart(f"{result.detail} ({size_bytes} bytes)", version)
            return result
        finally:
            self._updating = False
            if not _cancelled():  # an app stopping leaves it to the root side (see prepare)
                with contextlib.suppress(FileNotFoundError):  # the root side moves it once it takes it
                    bundle.unlink()

    # -- the request and its answer ---------------------------------------------------------------

    async def _submit(
        self, request: DeviceRequest, answer_s: float, expect_version: str | None = None
    ) -> CommandResult:
        if request.verb == "install_update":
            await asyncio.to_thread(self._note_under_way, request)
        await asyncio.to_thread(self._write_request, request)
        return await self._await_answer(request, answer_s, expect_version)

    def _note_under_way(self, request: DeviceRequest) -> None:
        noted = self.directory / UPDATE_UNDER_WAY
        staged = self.directory / STAGING / UPDATE_UNDER_WAY
        noted_facts = {"id": request.id, "version": request.version, "sha256": request.sha256}
        staged.write_text(json.dumps(noted_facts))
        os.replace(staged, noted)

    async def _await_answer(
        self, request: DeviceRequest, answer_s: float, expect_version: str | None
    ) -> CommandResult:
        """Wait for the root side's answer to ``request``; once read (or given up on), the
        update is no longer under way. A cancelled wait (the app stopping) leaves it noted."""
        try:
            return await self._read_answer(request, answer_s, expect_version)
        finally:
            if not _cancelled():
                with contextlib.suppress(FileNotFoundError):
                    (self.directory / UPDATE_UNDER_WAY).unlink()

    async def _read_answer(
        self, request: DeviceRequest, answer_s: float, expect_version: str | None
    ) -> CommandResult:
        result_path = self.directory / RESULTS / file_name(request.id)
        deadline_s = time.monotonic() + answer_s
        while not result_path.exists():
            if time.monotonic() > deadline_s:
                return self._withdraw(request, answer_s)
            await asyncio.sleep(self.poll_s)
        try:
            data = result_path.read_bytes()[: MAX_RESULT_BYTES + 1]
            result_path.unlink()
            answer = parse_result(data)
        except (OSError, RequestError) as error:
            return CommandResult.failed(f"unreadable answer of the device's request service: {error}")
        if answer.id != request.id:
            return CommandResult.failed("the device's request service answered another request")
        if answer.status == "rebooting":
            return CommandResult.after_restart(answer.detail, expect_version)
        return CommandResult.failed(answer.detail)

    def _write_request(self, request: DeviceRequest) -> None:
        """Complete in ``staging/``, then renamed into ``requests/``: the root side never sees
        half a request."""
        staged = self.directory / STAGING / file_name(request.id)
        with staged.open("xb") as handle:
            handle.write(encode_request(request))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(staged, self.directory / REQUESTS / file_name(request.id))
        _fsync_dir(self.directory / REQUESTS)

    def _withdraw(self, request: DeviceRequest, answer_s: float) -> CommandResult:
        try:
            (self.directory / REQUESTS / file_name(request.id)).unlink()
        except FileNotFoundError:  # taken, but not answered in time (it may still complete)
            return CommandResult.failed(
                f"the device's request service took the request but did not answer in {answer_s:g} s"
            )
        return CommandResult.failed(
            f"the device's request service did not take the request in {answer_s:g} s"
        )

    # -- the download -----------------------------------------------------------------------------

    def _fetch(self, url: str, target: Path, sha256: str) -> int:
        """Stream the bundle at ``url`` to ``target``; its size. :class:`DownloadRefused` (and
        nothing kept) for a bundle too large, too little space, a failed transfer or another
        SHA-256 than ``sha256``."""
        parts = urlsplit(url)
        try:
            if parts.scheme == "file":
                if parts.netloc not in ("", "localhost"):
                    raise DownloadRefused("a file:// url names a file on this device (no host)")
                digest, size_bytes = self._copy_file(Path(unquote(parts.path)), target)
            elif parts.scheme == "https":
                digest, size_bytes = self._download(url, target)
            else:
                raise DownloadRefused("the url must be https:// or file://")
            if digest != sha256:
                raise DownloadRefused(f"sha256 mismatch: the bundle's is {digest}, the command's {sha256}")
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                target.unlink()
            raise
        return size_bytes

    def _copy_file(self, source: Path, target: Path) -> tuple[str, int]:
        try:
            handle = source.open("rb")
        except OSError as error:
            raise DownloadRefused(f"{source} cannot be read: {error.strerror}") from None
        with handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise DownloadRefused(f"{source} is not a file")
            self._check_space(info.st_size)
            return self._write(iter(lambda: handle.read(_CHUNK_BYTES), b""), target)

    def _download(self, url: str, target: Path) -> tuple[str, int]:
        if self.ca_file is None:
            raise DownloadRefused("no hub CA to check an https:// server against")
        context = ssl.create_default_context(cafile=str(self.ca_file))
        timeout = httpx.Timeout(self.read_timeout_s)
        try:
            with (
                httpx.Client(verify=context, timeout=timeout, trust_env=False) as client,
                client.stream("GET", url) as response,
            ):
                if response.status_code != 200:
                    raise DownloadRefused(f"the server answered HTTP {response.status_code}")
                length = response.headers.get("content-length")
                self._check_space(int(length) if length and length.isdigit() else None)
                return self._write(response.iter_bytes(_CHUNK_BYTES), target)
        except httpx.HTTPError as error:
            raise DownloadRefused(f"download failed: {type(error).__name__}: {error}") from None

    def _check_space(self, size_bytes: int | None) -> None:
        """Refuse a bundle over the cap, or one the data partition cannot take with the reserve
        left (an unknown size counts as the cap)."""
        if size_bytes is not None and size_bytes > self.max_bundle_bytes:
            raise DownloadRefused(
                f"the bundle is {size_bytes} bytes, more than the {self.max_bundle_bytes} allowed"
            )
        needed = (self.max_bundle_bytes if size_bytes is None else size_bytes) + self.reserve_bytes
        free = shutil.disk_usage(self.directory).free
        if free < needed:
            raise DownloadRefused(
                f"not enough free space: {free} bytes free, {needed} needed "
                f"(the bundle and {self.reserve_bytes} in reserve)"
            )

    def _write(self, chunks: Iterable[bytes], target: Path) -> tuple[str, int]:
        """Write ``chunks`` to a new ``target``, never more than the cap; (sha256, size)."""
        digest, size_bytes = hashlib.sha256(), 0
        with target.open("xb") as handle:
            for chunk in chunks:
                size_bytes += len(chunk)
                if size_bytes > self.max_bundle_bytes:
                    raise DownloadRefused(
                        f"the bundle is more than the {self.max_bundle_bytes} bytes allowed"
                    )
                handle.write(chunk)
                digest.update(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        return digest.hexdigest(), size_bytes
