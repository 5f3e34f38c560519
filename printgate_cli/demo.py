"""``printgate demo``: a whole simulated site on the embedded default.

The site is what a real one is, with simulators where the hardware would be, each in its own
process and spoken to over its real wire:

* a hub (``printgate hub``: SQLite in the data directory, print intake over IPP, gRPC on TLS like
  production) seeded over its AdminService (pinned to the hub's own CA) with demo users, cards,
  PINs, credit and prices, and a few held jobs submitted over IPP;
* a simulated MFP (``printgate sim mfp``: SNMP, raw 9100 + PJL) the terminal meters and the hub
  releases to;
* a simulated RDM6300 card reader on a pty (``printgate sim reader``);
* a switchable network link between terminal and hub (to pull the network);
* the terminal itself in this process, enrolled with a one-time token (``printgate terminal
  enroll``) and calling the hub over mutual TLS with its own certificate: the real reader
  driver, SNMP copy metering, the session engine, and the Kivy window (or ``--headless``: a
  scripted walk that prints every step).

A person drives the simulated devices by typing commands here (``help`` lists them). The data
directory is wiped at every start: the demo always begins from the same state.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import secrets
import shlex
import shutil
import socket
import subprocess
import sys
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from printgate.v1 import admin_pb2, admin_pb2_grpc, common_pb2

from hub_server.server import HUB_CA_FILE
from mfp_adapters import IppTransport, JobOverrides
from terminal_app.terminal.config import load_config
from terminal_app.terminal.state import JobOverrides as ReleaseOverrides
from terminal_app.terminal.state import Logout, ReleaseSelected, Screen, TerminalState
from terminal_app.terminal.wiring import Terminal, build_terminal

__all__ = ["DemoSite", "register"]

log = logging.getLogger("printgate_cli.demo")
TERMINAL_ID = "demo-terminal-1"
PRINTER = "demo-mfp"
STEP_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class DemoUser:
    """A seeded person. ``card`` is the EM4100 id the simulated RDM6300 reader sends."""

    username: str
    full_name: str
    card: str
    pin: str
    credit_cents: int
    department: str = ""


USERS = (
    DemoUser("alice", "Alice Adams", "04A1B2C3D4", "1234", 500),
    DemoUser("bob", "Bob Becker", "04B0B0B0B0", "2345", 80),
    DemoUser("carol", "Carol Chen", "04CA401F00", "3456", 0, department="Physics"),
)
PRICES = (  # function, colour, duplex, cents per page
    (common_pb2.FUNCTION_PRINT, common_pb2.COLOR_MODE_MONO, False, 10),
    (common_pb2.FUNCTION_PRINT, common_pb2.COLOR_MODE_MONO, True, 8),
    (common_pb2.FUNCTION_PRINT, common_pb2.COLOR_MODE_COLOR, False, 50),
    (common_pb2.FUNCTION_PRINT, common_pb2.COLOR_MODE_COLOR, True, 45),
    (common_pb2.FUNCTION_COPY, common_pb2.COLOR_MODE_MONO, False, 10),
    (common_pb2.FUNCTION_COPY, common_pb2.COLOR_MODE_MONO, True, 8),
    (common_pb2.FUNCTION_COPY, common_pb2.COLOR_MODE_COLOR, False, 50),
    (common_pb2.FUNCTION_COPY, common_pb2.COLOR_MODE_COLOR, True, 45),
)
JOBS = (  # owner, name, pages (True = colour)
    ("alice", "thesis-draft.pdf", (True, False)),
    ("alice", "timetable.pdf", (False,)),
    ("bob", "poster.pdf", (True,)),
)
HELP = """commands:
  tap USER            tap a demo user's card (alice, bob, carol) on the reader
  pin PIN             type a PIN on the terminal
  copy N [color]      the copier makes N pages (only while the panel is unlocked)
  jam | clear         jam the printer / clear its errors
  net off | net on    pull the network between terminal and hub / plug it back
  release [N]         release the Nth held job (1 = first) as mono
  logout              press Logout
  status              what the terminal shows, and every balance
  quit"""


def register(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``printgate demo``."""
    parser.add_argument("--data-dir", type=Path, default=Path("data/demo"), help="wiped at every start")
    parser.add_argument("--headless", action="store_true", help="run the scripted walk, no window")
    parser.add_argument("--size", default="800x480", help="window size, e.g. 1024x600")
    parser.add_argument("--language", default="en", choices=["en", "de"])
    parser.set_defaults(func=run_demo)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def tiny_pdf(pages: tuple[bool, ...], title: str) -> bytes:
    """A small valid PDF: one page per entry, a red box on colour pages, the title as text."""
    objects: list[bytes] = [b"<< /Type /Catalog /Pages 2 0 R >>", b""]
    kids = []
    for index, color in enumerate(pages):
        paint = b"1 0 0 rg 100 500 300 200 re f " if color else b"0 g 100 500 300 200 re f "
        text = f"BT /F1 24 Tf 72 760 Td ({title} page {index + 1}) Tj ET".encode()
        stream = zlib.compress(paint + text)
        objects.append(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"
        )
        content = len(objects)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents %d 0 R"
            b" /Resources << /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> >> >> >>"
            % content
        )
        kids.append(b"%d 0 R" % len(objects))
    objects[1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (b" ".join(kids), len(pages))
    body, offsets = b"%PDF-1.4\n", []
    for number, content_bytes in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + content_bytes + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return body


class NetworkSwitch:
    """A TCP relay between the terminal and the hub that can be unplugged."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = 0
        self.connected = True
        self._server: asyncio.Server | None = None
        self._links: set[asyncio.StreamWriter] = set()
        self._relays: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        """Listen on a free loopback port."""
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    def set_connected(self, connected: bool) -> None:
        """Plug (True) or pull (False) the cable; pulling cuts every open connection."""
        self.connected = connected
        if not connected:
            for writer in list(self._links):
                writer.transport.abort()
            self._links.clear()

    async def _relay(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._relays.add(task)
        try:
            await self._connect(client_reader, client_writer)
        finally:
            self._relays.discard(task)

    async def _connect(
        self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        if not self.connected:
            client_writer.transport.abort()
            return
        try:
            hub_reader, hub_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            client_writer.transport.abort()
            return
        self._links.update({client_writer, hub_writer})
        await asyncio.gather(
            self._pipe(client_reader, hub_writer),
            self._pipe(hub_reader, client_writer),
            return_exceptions=True,
        )
        self._links.difference_update({client_writer, hub_writer})

    async def _pipe(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                if not self.connected:
                    break
                sink.write(data)
                await sink.drain()
        finally:
            sink.transport.abort()

    async def close(self) -> None:
        """Stop relaying."""
        self.set_connected(False)
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
        # Cut links end their relays; wait for them so none is cancelled half-way at shutdown.
        await asyncio.gather(*self._relays, return_exceptions=True)


@dataclass
class DeviceProcess:
    """A simulator in a child process, driven by command lines on its stdin."""

    name: str
    process: subprocess.Popen[str]

    @classmethod
    def start(cls, name: str, arguments: list[str], log_path: Path) -> DeviceProcess:
        """Start ``printgate ARGUMENTS`` and wait for its first line (it is up)."""
        process = subprocess.Popen(
            [sys.executable, "-m", "printgate_cli", *arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log_path.open("w"),
            text=True,
            bufsize=1,
        )
        device = cls(name, process)
        first = device.read_line()
        log.info("%s: %s", name, first)
        return device

    def read_line(self) -> str:
        """The next line it printed."""
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the simulated {self.name} stopped (exit {self.process.poll()})")
        return line.strip()

    def command(self, line: str) -> None:
        """Send one command line."""
        assert self.process.stdin is not None
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()

    def stop(self) -> None:
        """Terminate it by PID and wait."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


@dataclass
class DemoSite:
    """Every part of the simulated site, started by :meth:`start` and stopped by :meth:`stop`."""

    data_dir: Path
    language: str = "en"
    hub_port: int = field(default_factory=_free_port)
    admin_port: int = field(default_factory=_free_port)
    ipp_port: int = field(default_factory=_free_port)
    web_port: int = field(default_factory=_free_port)
    web_password: str = field(default_factory=lambda: secrets.token_urlsafe(12))
    mfp_ports: dict[str, int] = field(
        default_factory=lambda: {k: _free_port() for k in ("snmp", "raw", "lpd", "ipp")}
    )
    hub: subprocess.Popen[bytes] | None = None
    mfp: DeviceProcess | None = None
    reader: DeviceProcess | None = None
    network: NetworkSwitch | None = None
    terminal: Terminal | None = None
    channel: grpc.aio.Channel | None = None

    @property
    def admin_token(self) -> str:
        return (self.data_dir / "hub" / "admin-token").read_text().strip()

    @property
    def admin_metadata(self) -> tuple[tuple[str, str], ...]:
        return (("authorization", f"Bearer {self.admin_token}"),)

    async def start(self) -> None:
        """Start the simulators and the hub, seed the hub, and build the terminal."""
        shutil.rmtree(self.data_dir, ignore_errors=True)
        (self.data_dir / "hub").mkdir(parents=True)
        self.mfp = DeviceProcess.start(
            "mfp",
            ["sim", "mfp", *[f"--{name}-port={port}" for name, port in self.mfp_ports.items()]],
            self.data_dir / "mfp.log",
        )
        self._start_hub()
        hub_ca = self.hub_ca_file.read_bytes()  # the admin pins the hub's own CA
        self.channel = grpc.aio.secure_channel(
            f"127.0.0.1:{self.admin_port}", grpc.ssl_channel_credentials(hub_ca)
        )
        await self._seed()
        await self._submit_jobs()
        link = self.data_dir / "reader-pty"
        self.reader = DeviceProcess.start(
            "reader",
            ["sim", "reader", "--driver", "rdm6300", "--link", str(link)],
            self.data_dir / "reader.log",
        )
        self.reader.read_line()  # its command help
        self.network = NetworkSwitch(self.hub_port)
        await self.network.start()
        terminal_config = self._write_terminal_config(link)
        await self._enroll_terminal(terminal_config)
        self.terminal = build_terminal(load_config(terminal_config))

    async def _enroll_terminal(self, terminal_config: Path) -> None:
        """Enroll the terminal as a site would: a one-time token from the admin, then
        ``printgate terminal enroll`` (its own key, the hub CA pinned by the token's fingerprint)."""
        reply = await self._admin(
            "CreateEnrollmentToken",
            admin_pb2.CreateEnrollmentTokenRequest(
                kind=admin_pb2.TERMINAL_KIND_TERMINAL, printer=PRINTER, terminal_id=TERMINAL_ID
            ),
        )
        token_file = self.data_dir / "enrollment-token"
        token_file.touch(mode=0o600)
        token_file.write_text(reply.token + "\n")
        command = [sys.executable, "-m", "printgate_cli", "terminal", "enroll"]
        command += ["--token-file", str(token_file), "--config", str(terminal_config)]
        enrolled = await asyncio.to_thread(
            subprocess.run, command, capture_output=True, text=True, timeout=STEP_TIMEOUT_S
        )
        token_file.unlink()  # single use, and spent
        if enrolled.returncode != 0:
            raise RuntimeError(f"the terminal did not enroll: {enrolled.stderr.strip()}")

    def _start_hub(self) -> None:
        config = self.data_dir / "hub.toml"
        config.write_text(
            f'[hub]\nlisten = "127.0.0.1:{self.hub_port}"\nadmin_listen = "127.0.0.1:{self.admin_port}"\n'
            f'data_dir = "{self.data_dir / "hub"}"\n'
            f'[print]\nipp_listen = "127.0.0.1:{self.ipp_port}"\n'
            f'[web]\nlisten = "127.0.0.1:{self.web_port}"\n'
            f'[print.printer_snmp]\n{PRINTER} = "127.0.0.1:{self.mfp_ports["snmp"]}"\n'
        )
        ready = self.data_dir / "hub.ready"
        self.hub = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "printgate_cli",
                "hub",
                "--config",
                str(config),
                "--ready-file",
                str(ready),
                "--log-level",
                "WARNING",
            ],
            stdout=(self.data_dir / "hub.log").open("wb"),
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while not ready.exists():
            if self.hub.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the hub did not start; see {self.data_dir / 'hub.log'}")
            time.sleep(0.05)

    async def _admin(self, method: str, request: Any) -> Any:
        assert self.channel is not None
        stub = admin_pb2_grpc.AdminServiceStub(self.channel)
        return await getattr(stub, method)(request, metadata=self.admin_metadata, timeout=10)

    @property
    def web_password_file(self) -> Path:
        """Where this run's web password is kept (owner-only)."""
        return self.data_dir / "web-password"

    @property
    def web_url(self) -> str:
        """The console and portal (HTTPS with the hub's server certificate, as in production)."""
        return f"https://127.0.0.1:{self.web_port}"

    @property
    def hub_ca_file(self) -> Path:
        """The hub's CA certificate, which a browser imports to trust the console."""
        return self.data_dir / "hub" / HUB_CA_FILE

    async def _seed(self) -> None:
        # no default passwords: the console's admin and the users' portal password are made
        # for this run and kept in an owner-only file
        self.web_password_file.touch(mode=0o600)
        self.web_password_file.write_text(self.web_password + "\n")
        await self._admin(
            "CreateConsoleUser",
            admin_pb2.CreateConsoleUserRequest(username="admin", role="admin", password=self.web_password),
        )
        for function, color, duplex, cents in PRICES:
            await self._admin(
                "SetPrice",
                admin_pb2.Price(
                    printer_group="default",
                    function=function,
                    color=color,
                    paper_size="*",
                    duplex=duplex,
                    price_cents_per_page=cents,
                ),
            )
        await self._admin(
            "UpsertPrinter",
            admin_pb2.Printer(
                name=PRINTER,
                address=f"127.0.0.1:{self.mfp_ports['raw']}",
                transport="raw9100",
                vendor_profile="kyocera",
                location="Demo room",
            ),
        )
        for person in USERS:
            billing = admin_pb2.BILLING_DEPARTMENT if person.department else admin_pb2.BILLING_PREPAID
            await self._admin(
                "CreateUser",
                admin_pb2.User(
                    username=person.username,
                    full_name=person.full_name,
                    department=person.department,
                    billing=billing,
                ),
            )
            user = admin_pb2.UserRef(username=person.username)
            await self._admin("AddCard", admin_pb2.Card(user=user, number=person.card, label="demo card"))
            await self._admin("SetPin", admin_pb2.SetPinRequest(user=user, pin=person.pin))
            portal = admin_pb2.SetPasswordRequest(user=user, password=self.web_password)
            await self._admin("SetPassword", portal)
            if person.credit_cents:
                await self._admin(
                    "AdjustCredit",
                    admin_pb2.AdjustCreditRequest(
                        user=user,
                        amount_cents=person.credit_cents,
                        reason="demo credit",
                        idempotency_key=f"demo-{person.username}",
                    ),
                )

    async def _submit_jobs(self) -> None:
        """Print the demo jobs to the hub's IPP queue, as a desktop would."""
        uri = f"ipp://127.0.0.1:{self.ipp_port}/ipp/print"
        for owner, name, pages in JOBS:
            transport = IppTransport(uri, user=owner, document_format="application/pdf", end_timeout_s=0.2)
            document = tiny_pdf(pages, name)

            async def chunks(data: bytes = document) -> Any:
                yield data

            await transport.send(chunks(), name, JobOverrides())
        await self._wait_for_analysis()

    async def _wait_for_analysis(self) -> None:
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while time.monotonic() < deadline:
            jobs = await self._admin("ListPrintJobs", admin_pb2.ListPrintJobsRequest())
            if len(jobs.jobs) == len(JOBS) and all(job.pages for job in jobs.jobs):
                return
            await asyncio.sleep(0.2)
        raise RuntimeError("the hub did not finish analysing the demo jobs")

    def _write_terminal_config(self, link: Path) -> Path:
        assert self.network is not None
        path = self.data_dir / "terminal.toml"
        path.write_text(
            f'[hub]\naddress = "127.0.0.1:{self.network.port}"\ndeadline_s = 3.0\n'
            f'[reader]\ndriver = "rdm6300"\nurl = "{link}"\n'
            f'[mfp]\ncounter = "snmp"\naddress = "127.0.0.1"\nsnmp_port = {self.mfp_ports["snmp"]}\n'
            f"status_poll_s = 2.0\n"
            f'[mfp.fih]\npin_factory = "mock"\n'
            f'[session]\nlanguage = "{self.language}"\nidle_timeout_s = 120\ncopy_poll_s = 0.5\n'
            f"replay_interval_s = 2.0\n"
            f'[storage]\ndata_dir = "terminal"\n'
        )
        return path

    # -- driving the devices -----------------------------------------------------------------

    def tap(self, username: str) -> None:
        """Tap a demo user's card on the simulated reader."""
        card = {person.username: person.card for person in USERS}.get(username, username)
        assert self.reader is not None
        self.reader.command(f"tap {card}")

    def mfp_command(self, line: str) -> str:
        """Send a command to the simulated MFP; its answer."""
        assert self.mfp is not None
        self.mfp.command(line)
        return self.mfp.read_line()

    def copy(self, pages: int, color: bool = False) -> str:
        """The copier makes pages, as it physically can only while its panel is unlocked."""
        assert self.terminal is not None
        if not self.terminal.engine.state.panel_unlocked:
            return "the copier is locked: log in at the terminal first"
        return self.mfp_command(f"copy {pages}{' color' if color else ''}")

    def set_network(self, connected: bool) -> None:
        """Pull or plug the terminal's network."""
        assert self.network is not None
        self.network.set_connected(connected)

    async def balances(self) -> dict[str, int]:
        """Every account's balance, by account name."""
        accounts = await self._admin("ListAccounts", admin_pb2.ListAccountsRequest())
        return {account.name: account.balance_cents for account in accounts.accounts}

    async def ledger_ok(self) -> bool:
        """The hub's own re-proof of the ledger's invariants."""
        return bool((await self._admin("CheckLedger", admin_pb2.Empty())).ok)

    async def until(self, check: Callable[[TerminalState], bool], what: str) -> TerminalState:
        """Wait until the terminal's state passes ``check``."""
        assert self.terminal is not None
        deadline = time.monotonic() + STEP_TIMEOUT_S
        while time.monotonic() < deadline:
            state = self.terminal.engine.state
            if check(state):
                return state
            await asyncio.sleep(0.05)
        state = self.terminal.engine.state
        raise RuntimeError(f"timed out waiting for {what}; the terminal shows {state.screen} {state.message}")

    async def stop(self) -> None:
        """Stop the terminal, the link, the hub and the simulators (by PID)."""
        if self.terminal is not None:
            await self.terminal.close()
        if self.network is not None:
            await self.network.close()
        if self.channel is not None:
            await self.channel.close()
        for device in (self.reader, self.mfp):
            if device is not None:
                device.stop()
        if self.hub is not None and self.hub.poll() is None:
            self.hub.terminate()
            self.hub.wait(20)


def _money(cents: int | None) -> str:
    return "-" if cents is None else f"{cents / 100:.2f}"


async def scripted_walk(site: DemoSite) -> dict[str, Any]:
    """Tap, list jobs, release one as mono, copy 3 pages, log out, lose the hub, copy offline,
    get the hub back, watch the journal replay; print each step. Returns the final figures."""
    step = iter(range(1, 100))

    def say(text: str) -> None:
        print(f"[{next(step):2}] {text}", flush=True)

    home = lambda s: s.screen == Screen.HOME  # noqa: E731
    site.tap("alice")
    state = await site.until(home, "alice's session")
    say(f"alice taps her card: {state.full_name}, balance {_money(state.balance_cents)}, panel unlocked")
    state = await site.until(lambda s: len(s.jobs) == 2, "alice's held jobs")
    for job in state.jobs:
        say(f"held job {job.name}: {job.pages} pages ({job.color_pages} colour), {_money(job.price_cents)}")
    first = state.jobs[0]
    assert site.terminal is not None
    site.terminal.engine.submit(
        ReleaseSelected((first.job_id,), ((first.job_id, ReleaseOverrides(mono=True)),))
    )
    state = await site.until(
        lambda s: any(r.job_id == first.job_id and r.state == "printed" for r in s.release), "the release"
    )
    released = next(r for r in state.release if r.job_id == first.job_id)
    say(
        f"released {first.name} as mono: {released.pages_printed} pages printed, "
        f"charged {_money(released.charged_cents)}"
    )
    say(f"copier: {site.copy(3)} (3 pages copied)")
    state = await site.until(lambda s: s.copy_pages == 3, "3 copied pages on screen")
    say(f"the terminal counts {state.copy_pages} pages, {_money(state.copy_cost_cents)}")
    site.terminal.engine.submit(Logout())
    state = await site.until(lambda s: s.screen == Screen.IDLE and not s.pending_reports, "logout")
    say(f"alice logs out; balance now {_money((await site.balances())['user:alice'])}")
    site.set_network(False)
    say("the network is pulled: the hub is out of reach")
    await asyncio.sleep(site.terminal.config.settings.relogin_guard_s + 0.5)
    site.tap("alice")
    state = await site.until(
        lambda s: s.screen == Screen.HOME and s.offline_session and s.panel_unlocked, "an offline session"
    )
    say(f"alice taps again: offline session from the terminal's cache, balance {_money(state.balance_cents)}")
    say(f"copier: {site.copy(2)} (2 pages copied offline)")
    await site.until(lambda s: s.copy_pages == 2, "2 copied pages on screen")
    site.terminal.engine.submit(Logout())
    state = await site.until(
        lambda s: s.screen == Screen.IDLE and s.pending_reports == 1, "a journaled report"
    )
    say(f"alice logs out; {state.pending_reports} usage report waits in the terminal's journal")
    site.set_network(True)
    say("the network is back")
    await site.until(lambda s: s.pending_reports == 0 and not s.offline, "the journal replay")
    balances = await site.balances()
    say("the journal replayed once; final balances:")
    for person in USERS:
        account = f"department:{person.department}" if person.department else f"user:{person.username}"
        say(f"  {account}: {_money(balances[account])}")
    ok = await site.ledger_ok()
    say(f"ledger check: {'ok' if ok else 'PROBLEMS'}")
    return {"balances": balances, "ledger_ok": ok}


async def _console(site: DemoSite, stop: asyncio.Event) -> None:
    """Read demo commands from stdin until ``quit`` or end of input."""
    assert site.terminal is not None
    loop = asyncio.get_running_loop()
    print(HELP, flush=True)
    while not stop.is_set():
        line = await loop.run_in_executor(None, sys.stdin.readline)
        if not line:
            return
        words = shlex.split(line)
        if not words:
            continue
        try:
            reply = await _command(site, words)
        except (ValueError, IndexError, RuntimeError) as exc:
            reply = f"error: {exc}"
        if reply == "quit":
            stop.set()
            return
        print(reply, flush=True)


async def _command(site: DemoSite, words: list[str]) -> str:
    from terminal_app.terminal.state import PinEntered

    assert site.terminal is not None
    engine = site.terminal.engine
    verb = words[0]
    if verb == "tap":
        site.tap(words[1])
        return "tapped"
    if verb == "pin":
        engine.submit(PinEntered(words[1]))
        return "entered"
    if verb == "copy":
        return site.copy(int(words[1]), color="color" in words[2:])
    if verb in ("jam", "clear"):
        return site.mfp_command(verb)
    if verb == "net":
        site.set_network(words[1] == "on")
        return f"network {'plugged' if words[1] == 'on' else 'pulled'}"
    if verb == "release":
        job = engine.state.jobs[int(words[1]) - 1 if len(words) > 1 else 0]
        engine.submit(ReleaseSelected((job.job_id,), ((job.job_id, ReleaseOverrides(mono=True)),)))
        return f"releasing {job.name} as mono"
    if verb == "logout":
        engine.submit(Logout())
        return "logging out"
    if verb == "status":
        state = engine.state
        return json.dumps(
            {
                "screen": str(state.screen),
                "user": state.username,
                "balance_cents": state.balance_cents,
                "pages": state.copy_pages,
                "offline": state.offline,
                "journal": state.pending_reports,
                "accounts": await site.balances(),
            },
            indent=1,
        )
    if verb in ("quit", "exit"):
        return "quit"
    return HELP


async def _serve(args: argparse.Namespace) -> int:
    site = DemoSite(args.data_dir.resolve(), language=args.language)
    try:
        await site.start()
        assert site.terminal is not None
        print(
            f"printgate demo: web console {site.web_url}/console/ (admin), user portal "
            f"{site.web_url}/portal/ ({', '.join(p.username for p in USERS)}); "
            f"this run's password for all of them is in {site.web_password_file}; "
            f"the certificate is issued by the hub's own CA, {site.hub_ca_file}",
            flush=True,
        )
        run = asyncio.create_task(site.terminal.run(), name="terminal")
        if args.headless:
            await site.until(lambda s: s.screen == Screen.IDLE, "the idle screen")
            figures = await scripted_walk(site)
            await site.terminal.stop()
            await run
            return 0 if figures["ledger_ok"] else 1
        return await _interactive(site, run, args)
    finally:
        await site.stop()


async def _interactive(site: DemoSite, run: asyncio.Task[None], args: argparse.Namespace) -> int:
    # Kivy must leave our command line and Python's logging alone (set before it is imported).
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    from terminal_app.terminal.ui.app import serve_ui
    from terminal_app.ui.settings import UiSettings

    assert site.terminal is not None
    width, _, height = args.size.partition("x")
    settings = UiSettings.from_mapping(
        {"width_px": int(width), "height_px": int(height), "fullscreen": False}
    )
    stop = asyncio.Event()
    ui = asyncio.create_task(serve_ui(site.terminal.engine, settings), name="ui")
    console = asyncio.create_task(_console(site, stop), name="console")
    stopper = asyncio.create_task(stop.wait())
    await asyncio.wait({ui, run, stopper}, return_when=asyncio.FIRST_COMPLETED)
    await site.terminal.stop()
    with contextlib.suppress(Exception):  # the data dir is wiped next start: send what is journaled
        await asyncio.wait_for(site.terminal.engine.flush_journal(), STEP_TIMEOUT_S)
    for task in (ui, console, stopper):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
    with contextlib.suppress(asyncio.CancelledError):
        await run
    return 0


def run_demo(args: argparse.Namespace) -> int:
    """Run the demo site (window or scripted walk)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if not args.headless and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        print("printgate demo: no display here, so the scripted walk runs instead of the window", flush=True)
        args.headless = True
    print(f"printgate demo: starting a simulated site in {args.data_dir} ...", flush=True)
    try:
        return asyncio.run(_serve(args))
    except RuntimeError as exc:
        print(f"printgate demo: {exc}", file=sys.stderr)
        return 1
