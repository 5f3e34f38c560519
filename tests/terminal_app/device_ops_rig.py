"""A device's request plumbing for tests: the app's :class:`DeviceOps` and the root side's
:class:`RequestProcessor` over one temporary data partition, the path unit played by a task
that runs the processor whenever the request directory is not empty, and an HTTPS server on
loopback that serves bundles with a certificate of the hub's PKI.

``rauc`` and ``systemctl`` are fakes (executables first on PATH that record their arguments and
exit as told): the real ones install into a slot and reboot the machine, which needs a booted
image (tests/images runs the real ones).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import ssl
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from printgate.device_requests import REQUESTS

from images.guest.device_requests import RequestProcessor
from images.guest.layout import Layout
from terminal_app.session.device_ops import DeviceOps

FAKE_TOOL = """#!{python}
import hashlib, json, pathlib, sys, time
here = pathlib.Path(__file__).resolve().parent
name = pathlib.Path(sys.argv[0]).name
record = {{"argv": sys.argv[1:]}}
if name == "rauc" and len(sys.argv) > 2:  # what rauc was given: the bundle's content
    record["sha256"] = hashlib.sha256(pathlib.Path(sys.argv[2]).read_bytes()).hexdigest()
with open(here / (name + ".calls"), "a") as log:
    log.write(json.dumps(record) + "\\n")
while (here / (name + ".hold")).exists():  # still "working" until the test lets it finish
    time.sleep(0.01)
told = here / (name + ".told")
exit_code, _, stderr = told.read_text().partition("\\n") if told.exists() else ("0", "", "")
sys.stderr.write(stderr)
sys.exit(int(exit_code))
"""


@dataclass(frozen=True)
class FakeTool:
    """One faked executable: its calls, and what it is told to do."""

    directory: Path
    name: str

    @property
    def calls(self) -> list[dict[str, Any]]:
        log = self.directory / f"{self.name}.calls"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def fail(self, exit_code: int, stderr: str) -> None:
        (self.directory / f"{self.name}.told").write_text(f"{exit_code}\n{stderr}")

    def hold(self) -> None:
        """From the next call on, the tool works until :meth:`release` (a long ``rauc install``)."""
        (self.directory / f"{self.name}.hold").touch()

    def release(self) -> None:
        (self.directory / f"{self.name}.hold").unlink()


def install_fake_tools(directory: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[FakeTool, FakeTool]:
    """Fake ``rauc`` and ``systemctl`` first on PATH."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in ("rauc", "systemctl"):
        tool = directory / name
        tool.write_text(FAKE_TOOL.format(python=sys.executable))
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{directory}{os.pathsep}{os.environ['PATH']}")
    return FakeTool(directory, "rauc"), FakeTool(directory, "systemctl")


@dataclass
class DeviceSide:
    """The app's request client and the root side over one device layout."""

    layout: Layout
    ops: DeviceOps
    processor: RequestProcessor
    rauc: FakeTool
    systemctl: FakeTool

    def entries(self, name: str) -> list[str]:
        """What is left in one of the request directories (or root's update directory)."""
        folder = self.layout.updates if name == "updates" else self.layout.device_ops / name
        return sorted(path.name for path in folder.iterdir()) if folder.exists() else []

    @contextlib.asynccontextmanager
    async def root_service(self) -> AsyncIterator[None]:
        """``printgate-requests.path``: the processor runs whenever ``requests/`` is not empty."""
        stop = asyncio.Event()
        requests = self.layout.device_ops / REQUESTS

        async def watch() -> None:
            while not stop.is_set():
                if any(requests.iterdir()):
                    await asyncio.to_thread(self.processor.run)
                else:
                    await asyncio.sleep(0.01)

        task = asyncio.create_task(watch())
        try:
            yield
        finally:
            stop.set()
            await task


def device_side(
    directory: Path, monkeypatch: pytest.MonkeyPatch, ca_file: Path | None, **ops_options: Any
) -> DeviceSide:
    """A device under ``directory`` with its request directories made (as the app's start does)."""
    rauc, systemctl = install_fake_tools(directory / "bin", monkeypatch)
    layout = Layout(directory / "device")
    layout.data.mkdir(parents=True)
    ops = DeviceOps(layout.device_ops, ca_file, **ops_options)
    ops.prepare()
    return DeviceSide(layout, ops, RequestProcessor(layout, reboot_delay_s=0), rauc, systemctl)


class BundleServer:
    """HTTPS on loopback serving ``files`` (path -> bytes); under ``/unsized/`` without a
    Content-Length (the end of the body is the end of the connection)."""

    def __init__(self, server_context: ssl.SSLContext, files: dict[str, bytes]) -> None:
        served = files

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                unsized = self.path.startswith("/unsized/")
                body = served.get(self.path.removeprefix("/unsized") if unsized else self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                if unsized:
                    self.close_connection = True
                else:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.socket = server_context.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"https://{host}:{self.server.server_address[1]}{path}"

    @contextlib.contextmanager
    def running(self) -> Iterator[BundleServer]:
        self.thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
