"""The root side of the app's requests: reboot, and install an update through RAUC.

``printgate-requests.path`` starts ``printgate-requests.service`` (root, oneshot) whenever
``/data/printgate/ops/requests/`` is not empty; it runs ``printgate-device requests``, which takes
every request there (the format: :mod:`printgate.device_requests`) and performs it:

``reboot``
    answers ``rebooting`` and, :data:`REBOOT_DELAY_S` later (so the app's acknowledgement is
    out), runs ``systemctl reboot``;
``install_update``
    moves the bundle the app downloaded and checked (``downloads/<id>.raucb``) into root's own
    directory, out of the app's reach, checks its SHA-256 again, runs ``rauc install`` on it and
    removes it either way (the data partition is small); installed: answers ``rebooting`` and
    reboots into the new slot (the slot health check marks it good or rolls back); refused or
    failed: answers ``failed`` with RAUC's reason.

The directories are the app's, so nothing there is trusted: every directory is opened without
following symbolic links from ``/`` down, files are opened ``O_NOFOLLOW`` and must be regular
files, a request is read only up to its size limit and refused unless it is exactly a known
verb with valid values, and nothing of it reaches a shell or a command line (the bundle's path
is made of root's directory and the request id, 32 hex digits). Every request file is removed
once read, a refused one too (with a ``failed`` result saying why when it names its id), so a bad
request cannot make the path unit fire forever.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
import stat
import subprocess
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from printgate.device_requests import (
    DOWNLOADS,
    MAX_REQUEST_BYTES,
    REQUESTS,
    RESULTS,
    DeviceRequest,
    DeviceResult,
    RequestError,
    bundle_name,
    encode_result,
    file_name,
    parse_request,
    request_id_of,
)

from images.guest.layout import Layout

__all__ = ["REBOOT_DELAY_S", "RequestProcessor", "main"]

log = logging.getLogger(__name__)

REBOOT_DELAY_S = 5.0  # time for the app to record the command as pending and send its answer
INSTALL_TIMEOUT_S = 3600.0  # a slow SD card takes minutes for a root file system
_CHUNK_BYTES = 1 << 20
_REASON_LINES = 3


def open_directory(path: Path) -> int:
    """A descriptor of directory ``path`` (absolute), opened one component at a time without
    following a symbolic link anywhere: the app cannot redirect root into another directory."""
    descriptor = os.open("/", os.O_RDONLY | os.O_DIRECTORY)
    for part in path.parts[1:]:
        try:
            descriptor_next = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=descriptor)
        finally:
            os.close(descriptor)
        descriptor = descriptor_next
    return descriptor


def _read_regular(directory: int, name: str, limit_bytes: int) -> bytes:
    """At most ``limit_bytes + 1`` bytes of regular file ``name`` (never through a link, never
    blocking on a FIFO)."""
    try:
        descriptor = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=directory)
    except OSError as error:
        raise RequestError(f"cannot be opened ({error.strerror})") from None
    if not stat.S_ISREG(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        raise RequestError("not a regular file")
    with os.fdopen(descriptor, "rb") as handle:
        return handle.read(limit_bytes + 1)


def _remove(directory: int, name: str) -> None:
    try:
        info = os.stat(name, dir_fd=directory, follow_symlinks=False)
        if stat.S_ISDIR(info.st_mode):
            os.rmdir(name, dir_fd=directory)
        else:
            os.unlink(name, dir_fd=directory)
    except FileNotFoundError:
        return
    except OSError as error:
        log.error("could not remove %s: %s", name, error.strerror)


def _reason(output: str) -> str:
    """RAUC's reason: the last lines it printed."""
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    return " / ".join(lines[-_REASON_LINES:]) or "no output"


@dataclass
class RequestProcessor:
    """Performs the requests waiting under ``layout.device_ops`` (see the module docstring)."""

    layout: Layout
    reboot_delay_s: float = REBOOT_DELAY_S
    install_timeout_s: float = INSTALL_TIMEOUT_S

    def run(self) -> int:
        """Take every waiting request; reboot once at the end when one asked for it. 0: every
        request was read (performed or refused), 1: the directories are not usable."""
        try:
            ops = open_directory(self.layout.device_ops)
        except FileNotFoundError:
            return 0  # the app has not made its directories yet: nothing can be waiting
        except OSError as error:
            log.error("%s is not usable: %s", self.layout.device_ops, error.strerror)
            return 1
        try:
            return self._run(ops)
        finally:
            os.close(ops)

    def _run(self, ops: int) -> int:
        try:
            requests = os.open(REQUESTS, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=ops)
            results = os.open(RESULTS, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=ops)
            downloads = os.open(DOWNLOADS, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=ops)
        except OSError as error:
            log.error("the request directories are not usable: %s", error.strerror)
            return 1
        reboot = False
        try:
            for name in sorted(os.listdir(requests)):
                reboot |= self._take(name, requests, results, downloads)
        finally:
            for descriptor in (requests, results, downloads):
                os.close(descriptor)
        if reboot:
            time.sleep(self.reboot_delay_s)
            log.info("rebooting")
            subprocess.run(["systemctl", "reboot"], check=False)
        return 0

    def _take(self, name: str, requests: int, results: int, downloads: int) -> bool:
        """Read, remove and perform request file ``name``; True when a reboot is to follow."""
        request_id = request_id_of(name)
        try:
            try:
                data = _read_regular(requests, name, MAX_REQUEST_BYTES)
            finally:
                _remove(requests, name)
            request = parse_request(data)
            if request.id != request_id:
                raise RequestError(f"file name {name[:80]!r} is not the request's id")
        except RequestError as error:
            log.error("request %r refused: %s", name[:80], error)
            if request_id is not None:
                _remove(downloads, bundle_name(request_id))
                self._answer(results, DeviceResult(request_id, "failed", f"request refused: {error}"))
            return False
        if request.verb == "reboot":
            self._answer(
                results, DeviceResult(request.id, "rebooting", f"rebooting in {self.reboot_delay_s:g} s")
            )
            return True
        result = self._install(request, downloads)
        self._answer(results, result)
        return result.status == "rebooting"

    def _install(self, request: DeviceRequest, downloads: int) -> DeviceResult:
        name = bundle_name(request.id)
        self.layout.updates.mkdir(mode=0o700, parents=True, exist_ok=True)
        updates = open_directory(self.layout.updates)
        try:
            try:
                # the app can change nothing in root's directory; a link is moved as a link
                os.rename(name, name, src_dir_fd=downloads, dst_dir_fd=updates)
            except OSError as error:
                return DeviceResult(request.id, "failed", f"no bundle for the request ({error.strerror})")
            try:
                refused = self._check_bundle(updates, name, request.sha256)
                if refused:
                    return DeviceResult(request.id, "failed", refused)
                return self._rauc_install(request, self.layout.updates / name)
            finally:
                _remove(updates, name)
        finally:
            os.close(updates)

    @staticmethod
    def _check_bundle(updates: int, name: str, sha256: str) -> str | None:
        """Why the moved bundle is refused (None: it is the file the app checked)."""
        try:
            descriptor = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=updates)
        except OSError as error:
            return f"the bundle cannot be opened ({error.strerror})"
        info = os.fstat(descriptor)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:  # not another name of a file
            os.close(descriptor)
            return "the bundle is not a plain file"
        digest = hashlib.sha256()
        with os.fdopen(descriptor, "rb") as handle:
            while chunk := handle.read(_CHUNK_BYTES):
                digest.update(chunk)
        if digest.hexdigest() != sha256:
            return f"the bundle's sha256 is {digest.hexdigest()}, not {sha256}"
        return None

    def _rauc_install(self, request: DeviceRequest, bundle: Path) -> DeviceResult:
        log.info("installing %s (version %s)", bundle, request.version)
        try:
            done = subprocess.run(
                ["rauc", "install", str(bundle)],
                capture_output=True,
                text=True,
                errors="replace",
                timeout=self.install_timeout_s,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return DeviceResult(
                request.id, "failed", f"rauc install did not finish in {self.install_timeout_s:g} s"
            )
        except OSError as error:
            return DeviceResult(request.id, "failed", f"rauc cannot be run: {error.strerror}")
        if done.returncode != 0:
            reason = _reason(done.stderr + "\n" + done.stdout)
            log.error("rauc install failed (exit %d): %s", done.returncode, reason)
            return DeviceResult(request.id, "failed", f"rauc install failed: {reason}")
        return DeviceResult(
            request.id, "rebooting", f"installed {request.version}; rebooting in {self.reboot_delay_s:g} s"
        )

    @staticmethod
    def _answer(results: int, result: DeviceResult) -> None:
        """Write ``result`` atomically into the app's ``results/`` (a new file, then a rename: a
        link the app put there is replaced, never followed)."""
        final = file_name(result.id)
        temporary = f".{final}.{secrets.token_hex(8)}"
        descriptor = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644, dir_fd=results
        )
        try:
            os.fchmod(descriptor, 0o644)  # the app reads it whatever root's umask
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(encode_result(result))
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, final, src_dir_fd=results, dst_dir_fd=results)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary, dir_fd=results)
            raise
        os.fsync(results)
        log.info("request %s: %s %s", result.id, result.status, result.detail)


def main(argv: Sequence[str] = ()) -> int:
    """``printgate-device requests``: perform the app's waiting requests."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    return RequestProcessor(Layout()).run()
