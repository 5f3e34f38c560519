"""A print site for release tests: a hub with print intake (IPP on loopback), a simulated MFP
(hw_sim) as its printer, a terminal at that printer, and real ipptool submissions."""

from __future__ import annotations

import asyncio
import os
import shutil
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
from printgate.v1 import admin_pb2, common_pb2, terminal_pb2

from hub_server.clock import FakeClock
from hub_server.config import PrintConfig
from hub_server.domain import account_names, ledger
from hub_server.server import ADMIN_TOKEN_FILE, RunningHub, start_hub
from hw_sim.mfp import MfpSimServer
from tests.hub_server.conftest import HubClients, TerminalClient, admin_channel_of, hub_config

IPPTOOL_SUITE = Path("/usr/share/cups/ipptool/print-job.test")
# print-job.test with the job name and copies as variables (the stock file fixes copies to 1).
PRINT_JOB_WITH_TICKET = """{
    NAME "Print-Job with a ticket"
    OPERATION Print-Job
    GROUP operation-attributes-tag
    ATTR charset attributes-charset utf-8
    ATTR language attributes-natural-language en
    ATTR uri printer-uri $uri
    ATTR name requesting-user-name $user
    ATTR name job-name $jobname
    ATTR mimeMediaType document-format $filetype
    GROUP job-attributes-tag
    ATTR integer copies $copies
    FILE $filename
    STATUS successful-ok
    STATUS successful-ok-ignored-or-substituted-attributes
    EXPECT job-id
}
"""
# Three A4 pages: a red square on page 1 (colour), text on pages 2 and 3 (mono). A form feed
# after each showpage is PostScript whitespace, and the simulated MFP's page rule (one page
# per form feed), so the printer's USTATUS page count is the true one.
THREE_PAGES_PS = b"""%!PS-Adobe-3.0
%%Pages: 3
<< /PageSize [595 842] >> setpagedevice
1 0 0 setrgbcolor 72 72 200 200 rectfill
showpage
\x0c
/Helvetica findfont 24 scalefont setfont
72 700 moveto (page two) show
showpage
\x0c
/Helvetica findfont 24 scalefont setfont
72 700 moveto (page three) show
showpage
\x0c
"""
# Prices per page (side): mono 10/7 (simplex/duplex), colour 50/40.
PRICES = [
    (common_pb2.COLOR_MODE_MONO, False, 10),
    (common_pb2.COLOR_MODE_MONO, True, 7),
    (common_pb2.COLOR_MODE_COLOR, False, 50),
    (common_pb2.COLOR_MODE_COLOR, True, 40),
]


def require_binary(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is not installed (scripts/setup.sh installs it)")
    return path


@dataclass
class PrintSite:
    """Everything one release test needs."""

    clients: HubClients
    running: RunningHub
    mfp: MfpSimServer
    terminal: TerminalClient
    folder: Path

    @property
    def ipp_uri(self) -> str:
        return f"ipp://127.0.0.1:{self.running.ipp_port}/ipp/print"

    async def submit(
        self, document: Path, user: str, *, name: str = "", copies: int = 1, stock_test: bool = False
    ) -> None:
        """Print ``document`` to the hub with the real ipptool; wait until it is analysed."""
        test_file = IPPTOOL_SUITE
        if not stock_test:
            test_file = self.folder / "print-job-ticket.test"
            test_file.write_text(PRINT_JOB_WITH_TICKET)
        process = await asyncio.create_subprocess_exec(
            require_binary("ipptool"),
            "-T",
            "30",
            "-f",
            str(document),
            "-d",
            f"jobname={name or document.name}",
            "-d",
            f"copies={copies}",
            self.ipp_uri,
            str(test_file),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "CUPS_USER": user},  # ipptool's $user (requesting-user-name)
        )
        output, _ = await asyncio.wait_for(process.communicate(), 60)
        assert process.returncode == 0, output.decode(errors="replace")
        assert self.running.printing is not None
        await self.running.printing.intake.service.wait_idle()

    async def session(self, card: str) -> str:
        return (await self.terminal.tap(card)).session_token

    async def list_jobs(self, token: str) -> list[terminal_pb2.HeldJob]:
        reply = await self.terminal.stub.ListJobs(terminal_pb2.ListJobsRequest(session_token=token))
        return list(reply.jobs)

    async def release(
        self,
        token: str,
        key: str,
        jobs: list[terminal_pb2.JobRelease] | None = None,
        release_all: bool = False,
    ) -> list[terminal_pb2.ReleaseProgress]:
        request = terminal_pb2.ReleaseJobsRequest(
            session_token=token, jobs=jobs or [], all=release_all, idempotency_key=key
        )
        return [item async for item in self.terminal.stub.ReleaseJobs(request)]

    def holds_cents(self) -> int:
        def read(tx: Any) -> int:
            found = tx.scalar("SELECT id FROM accounts WHERE name = :n", {"n": account_names.HOLDS})
            return 0 if found is None else ledger.balance(tx, int(found))

        return int(self.running.db.read(read))

    def job_state(self, job_id: int) -> str:
        return str(
            self.running.db.read(
                lambda tx: tx.scalar("SELECT state FROM print_jobs WHERE id = :j", {"j": job_id})
            )
        )


async def set_prices(clients: HubClients) -> None:
    for color, duplex, cents in PRICES:
        await clients.set_price(common_pb2.FUNCTION_PRINT, color, cents, duplex=duplex)


@asynccontextmanager
async def open_site(
    folder: Path,
    database_url: str,
    card: str = "c-alice",
    credit_cents: int = 500,
    scan: dict[str, Any] | None = None,
    site: str = "",
    **printing: Any,
) -> AsyncIterator[PrintSite]:
    """A hub (print intake on, IPP on an ephemeral port), a simulated MFP with its SNMP agent
    known to the hub, printer + terminal, prices, and user alice (alice@example.test) with
    ``card`` and credit; ``scan`` is the hub's ``[scan]`` table (none: no scanning), ``site``
    its ``[hub] site``."""
    async with MfpSimServer() as mfp:
        config = hub_config(folder / "hub", database_url)
        print_config = PrintConfig(
            ipp_listen="127.0.0.1:0", printer_snmp={"mfp-1": f"127.0.0.1:{mfp.snmp_port}"}, **printing
        )
        clock = FakeClock(_now_us())
        running = await start_hub(replace(config, printing=print_config, scan=scan or {}, site=site), clock)
        token = (folder / "hub" / ADMIN_TOKEN_FILE).read_text().strip()
        channel = admin_channel_of(running)
        clients = HubClients(running=running, channel=channel, admin_token=token, clock=clock)
        try:
            await clients.call_admin(
                "UpsertPrinter",
                admin_pb2.Printer(name="mfp-1", address=f"127.0.0.1:{mfp.raw_port}", transport="raw9100"),
            )
            terminal = await clients.create_terminal("t-1", printer="mfp-1")
            await set_prices(clients)
            await clients.create_user(
                "alice", card=card, credit_cents=credit_cents, email="alice@example.test"
            )
            yield PrintSite(clients, running, mfp, terminal, folder)
        finally:
            await clients.close()
            await running.stop(0)


def _now_us() -> int:
    # Jobs get the hub clock's times; a fake clock near the real time keeps ipptool's view sane.
    return time.time_ns() // 1000
