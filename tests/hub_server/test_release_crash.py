"""kill -9 the hub at every step of a release (a real ``printgate hub`` process), on both
databases and over each transport, then count what the simulated printer printed and what the
ledger charged: never printed twice, never printed uncharged, never charged unprinted.

The steps (see :mod:`hub_server.domain.release`) and how the printer holds the hub there:

* ``prepared``: the printer holds its first answer (PJL INFO, Create-Job, the LPD
  acknowledgement); nothing of the document went out. After the restart the job is held and
  uncharged; the user releases it again and it prints once.
* ``sending``: the printer stops reading part-way through the document. The cut-off job
  prints nothing (a PostScript job without its ``showpage``, an IPP document cut off is
  aborted, an LPD data file incomplete is dropped); recovery asks the printer (PJL page
  counter, Get-Job-Attributes, SNMP page counter) and puts the job back uncharged.
* ``sent``: the printer printed the job and holds its answer (USTATUS END, the Send-Document
  response, the last LPD acknowledgement). Recovery asks the printer and charges the page it
  printed, once; the job is not sent again.
* ``charged``: the release finished. Nothing changes after the restart, a retry of the same
  request prints nothing.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from printgate.v1 import admin_pb2, admin_pb2_grpc, common_pb2, terminal_pb2

from hub_server.domain import open_hub_database
from hub_server.storage import Database
from hw_sim.mfp import MfpSimServer
from tests.conftest import free_tcp_port
from tests.hub_server.conftest import TerminalClient
from tests.hub_server.processes import HubProcess
from tests.hub_server.test_release_site import require_binary

pytestmark = pytest.mark.asyncio

MONO_CENTS = 10
START_CENTS = 500
# One page; the comment padding makes the document far larger than the loopback socket
# buffers, so a printer that stops reading holds the release before its last byte.
BIG_PAGE_PS = (
    b"%!PS\n"
    + b"% padding padding padding padding padding padding padding padding padding\n" * 400_000
    + b"/Helvetica findfont 24 scalefont setfont 72 700 moveto (big) show showpage\n"
)
STALL_AT_BYTES = 64 * 1024
STEPS = ("prepared", "sending", "sent", "charged")
TRANSPORTS = ("raw9100", "ipp", "lpd")


def _hub(tmp_path: Path, database_url: str, mfp: MfpSimServer, *, snmp: bool = True) -> HubProcess:
    ipp_port = free_tcp_port()
    config = tmp_path / "hub.toml"
    agent = f'[print.printer_snmp]\n"mfp-1" = "127.0.0.1:{mfp.snmp_port}"\n' if snmp else ""
    config.write_text(
        f'[hub]\ndatabase = "{database_url}"\n[auth]\nargon2_time_cost = 1\nargon2_memory_kib = 1024\n'
        f'[print]\nipp_listen = "127.0.0.1:{ipp_port}"\n{agent}'
    )
    process = HubProcess(tmp_path / "hub", free_tcp_port(), config)
    process.ipp_port = ipp_port  # type: ignore[attr-defined]
    return process


class Site:
    """Admin and terminal stubs against the hub process."""

    def __init__(self, process: HubProcess, database_url: str) -> None:
        self.process = process
        self.database_url = database_url
        self.channel = process.admin_channel()
        self.terminal: TerminalClient | None = None

    async def admin(self, method: str, request: Any) -> Any:
        stub = admin_pb2_grpc.AdminServiceStub(self.channel)
        return await getattr(stub, method)(request, metadata=self.process.admin_metadata)

    async def setup(self, mfp: MfpSimServer, transport: str) -> None:
        address = {
            "raw9100": f"127.0.0.1:{mfp.raw_port}",
            "lpd": f"127.0.0.1:{mfp.lpd_port}",
            "ipp": mfp.ipp_uri,
        }[transport]
        await self.admin(
            "UpsertPrinter", admin_pb2.Printer(name="mfp-1", address=address, transport=transport)
        )
        self.terminal = await self.process.enroll(self.channel, "t-1", printer="mfp-1")
        await self.admin(
            "SetPrice",
            admin_pb2.Price(
                printer_group="default",
                function=common_pb2.FUNCTION_PRINT,
                color=common_pb2.COLOR_MODE_MONO,
                paper_size="*",
                price_cents_per_page=MONO_CENTS,
            ),
        )
        await self.admin("CreateUser", admin_pb2.User(username="alice"))
        await self.admin("AddCard", admin_pb2.Card(user=admin_pb2.UserRef(username="alice"), number="A11CE"))
        await self.admin(
            "AdjustCredit",
            admin_pb2.AdjustCreditRequest(
                user=admin_pb2.UserRef(username="alice"),
                amount_cents=500,
                reason="t",
                idempotency_key="top-up",
            ),
        )

    async def reconnect(self) -> None:
        await self.close()
        self.channel = self.process.admin_channel()
        assert self.terminal is not None
        self.terminal.reconnect(self.process.address)

    async def close(self) -> None:
        await self.channel.close()
        if self.terminal is not None:
            await self.terminal.channel.close()

    async def submit(self, document: Path) -> None:
        port = self.process.ipp_port  # type: ignore[attr-defined]
        process = await asyncio.create_subprocess_exec(
            require_binary("ipptool"),
            "-T",
            "60",
            "-f",
            str(document),
            f"ipp://127.0.0.1:{port}/ipp/print",
            "/usr/share/cups/ipptool/print-job.test",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "CUPS_USER": "alice"},
        )
        output, _ = await asyncio.wait_for(process.communicate(), 90)
        assert process.returncode == 0, output.decode(errors="replace")

    async def release_stream(self, key: str) -> AsyncIterator[terminal_pb2.ReleaseProgress]:
        assert self.terminal is not None
        token = (await self.terminal.tap("A11CE")).session_token
        job_id = int(self.read("SELECT MAX(id) FROM print_jobs"))
        request = terminal_pb2.ReleaseJobsRequest(
            session_token=token, jobs=[terminal_pb2.JobRelease(job_id=job_id)], idempotency_key=key
        )
        async for item in self.terminal.stub.ReleaseJobs(request):
            yield item

    async def release(self, key: str) -> list[terminal_pb2.ReleaseProgress]:
        return [item async for item in self.release_stream(key)]

    def read(self, sql: str) -> Any:
        db: Database = open_hub_database(self.database_url)
        try:
            return db.read(lambda tx: tx.scalar(sql))
        finally:
            db.close()

    async def held_jobs(self) -> list[terminal_pb2.HeldJob]:
        assert self.terminal is not None
        token = (await self.terminal.tap("A11CE")).session_token
        reply = await self.terminal.stub.ListJobs(terminal_pb2.ListJobsRequest(session_token=token))
        return list(reply.jobs)

    async def wait_for(self, sql: str, wanted: Any, timeout_s: float = 60.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while self.read(sql) != wanted:
            assert asyncio.get_running_loop().time() < deadline, f"{sql} never became {wanted!r}"
            await asyncio.sleep(0.05)

    async def balances(self) -> tuple[int, int]:
        reply = await self.admin("ListAccounts", admin_pb2.ListAccountsRequest())
        by_name = {account.name: account.balance_cents for account in reply.accounts}
        return by_name["user:alice"], by_name.get("system:holds", 0)


async def _drain(stream: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in stream]


def _pages(mfp: MfpSimServer) -> int:
    return sum(job.impressions for job in mfp.device.jobs if job.result == "OK")


async def _hold_at(site: Site, mfp: MfpSimServer, step: str) -> None:
    """Drive the release until the hub is at ``step`` and the printer holds it there."""
    if step == "prepared":
        await site.wait_for("SELECT COUNT(*) FROM print_releases WHERE state = 'releasing'", 1)
        await asyncio.sleep(0.3)  # the transport waits for the printer's held first answer
        assert site.read("SELECT sending_us FROM print_releases") is None
        return
    await site.wait_for("SELECT COUNT(*) FROM print_releases WHERE sending_us IS NOT NULL", 1)
    if step == "sending":
        await asyncio.sleep(0.3)  # the printer stopped reading part-way through
        assert site.read("SELECT state FROM print_releases") == "releasing"
        assert mfp.device.jobs == []
        return
    # Only once the printer stopped reading mid-document: held earlier, an answer the sender
    # waits for before the document (an LPD acknowledgement) would keep it from printing at all.
    await asyncio.wait_for(mfp.behaviour.stalled.wait(), 60)
    mfp.behaviour.hold_answers()  # the printer prints, then keeps its answer
    mfp.behaviour.stall_after_bytes = None
    deadline = asyncio.get_running_loop().time() + 60
    while not mfp.device.jobs:
        assert asyncio.get_running_loop().time() < deadline, "the printer never printed"
        await asyncio.sleep(0.05)
    assert site.read("SELECT state FROM print_releases") in ("releasing", "sent")


@pytest.mark.parametrize("step", STEPS)
@pytest.mark.parametrize("transport", TRANSPORTS)
async def test_kill_at_every_step_never_prints_twice_nor_uncharged(
    tmp_path: Path, database_url: str, transport: str, step: str
) -> None:
    async with MfpSimServer() as mfp:
        process = _hub(tmp_path, database_url, mfp)
        process.start()
        site = Site(process, database_url)
        try:
            await site.setup(mfp, transport)
            path = tmp_path / "job.ps"
            path.write_bytes(BIG_PAGE_PS)
            await site.submit(path)
            await site.wait_for("SELECT COUNT(*) FROM print_jobs WHERE page_count = 1", 1)
            if step == "prepared":
                mfp.behaviour.hold_answers()
            elif step != "charged":
                mfp.behaviour.stall_after_bytes = STALL_AT_BYTES
            consumer = asyncio.ensure_future(_drain(site.release_stream("release-1")))
            if step == "charged":
                progress = await consumer
                assert progress[-1].state == terminal_pb2.RELEASE_STATE_PRINTED
            else:
                await _hold_at(site, mfp, step)
            process.kill()
            await asyncio.gather(consumer, return_exceptions=True)
            mfp.behaviour.stall_after_bytes = None
            mfp.behaviour.release_answers()
            printed_at_crash = step in ("sent", "charged")
            assert _pages(mfp) == int(printed_at_crash)
            # start in a thread: recovery asks the simulated printer, served by this event loop
            await asyncio.to_thread(process.start)
            await site.reconnect()

            charged = START_CENTS - (await site.balances())[0]
            assert (await site.balances())[1] == 0  # no reservation left open
            assert _pages(mfp) == int(printed_at_crash), "recovery sent the job again"
            assert charged == MONO_CENTS * _pages(mfp)
            jobs = await site.held_jobs()
            if printed_at_crash:
                assert site.read("SELECT state FROM print_jobs") == "printed"
                assert [(job.printed, job.may_have_printed) for job in jobs] == [(True, False)]
                retry = await site.release("release-1")
                assert [p.message for p in retry] == ["already printed by this request"]
            else:
                assert site.read("SELECT state FROM print_jobs") == "held"
                assert [(job.printed, job.may_have_printed) for job in jobs] == [(False, False)]
                progress = await site.release("release-1")  # the user asks again: it prints once
                assert progress[-1].state == terminal_pb2.RELEASE_STATE_PRINTED
                assert progress[-1].charged_cents == MONO_CENTS
            assert _pages(mfp) == 1
            assert await site.balances() == (START_CENTS - MONO_CENTS, 0)
            assert (await site.admin("CheckLedger", admin_pb2.Empty())).ok
        finally:
            await site.close()
            process.stop()


async def test_a_printer_that_cannot_say_yet_keeps_the_job_as_may_have_printed(
    tmp_path: Path, database_url: str
) -> None:
    """The printer is still busy with the job at the restart (its engine paused): the job is
    listed as "may have printed", nobody can release it, nothing is charged; the next release
    asks again, and once the job printed it is charged once and not sent again."""
    async with MfpSimServer() as mfp:
        process = _hub(tmp_path, database_url, mfp)
        process.start()
        site = Site(process, database_url)
        try:
            await site.setup(mfp, "raw9100")
            path = tmp_path / "job.ps"
            path.write_bytes(BIG_PAGE_PS)
            await site.submit(path)
            await site.wait_for("SELECT COUNT(*) FROM print_jobs WHERE page_count = 1", 1)
            mfp.device.pause_engine()
            consumer = asyncio.ensure_future(_drain(site.release_stream("release-1")))
            deadline = asyncio.get_running_loop().time() + 60
            while not mfp.device.queued:
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.05)
            process.kill()
            await asyncio.gather(consumer, return_exceptions=True)
            await asyncio.to_thread(process.start)
            await site.reconnect()

            assert site.read("SELECT state FROM print_jobs") == "releasing"
            jobs = await site.held_jobs()
            assert [(job.printed, job.may_have_printed) for job in jobs] == [(False, True)]
            refused = await site.release("release-2")
            assert [p.state for p in refused] == [terminal_pb2.RELEASE_STATE_REFUSED]
            assert "may have printed" in refused[0].message
            assert await site.balances() == (START_CENTS - MONO_CENTS, MONO_CENTS)  # reserved, not charged
            assert _pages(mfp) == 0

            mfp.device.resume_engine()
            again = await site.release("release-3")  # asks the printer first: it printed
            assert [p.state for p in again] == [terminal_pb2.RELEASE_STATE_REFUSED]
            assert again[0].message.startswith("printed before the hub restarted")
            assert site.read("SELECT state FROM print_jobs") == "printed"
            assert _pages(mfp) == 1
            assert await site.balances() == (START_CENTS - MONO_CENTS, 0)
            assert (await site.admin("CheckLedger", admin_pb2.Empty())).ok
        finally:
            await site.close()
            process.stop()


async def test_a_printer_that_can_never_say_is_charged_and_shown_as_may_have_printed(
    tmp_path: Path, database_url: str
) -> None:
    """LPD without an SNMP agent: nothing can tell whether a cut-off job printed. It printed
    here; recovery charges the estimate once (never printed uncharged), lists the job as printed
    and "may have printed", and sends nothing; printing it again is a reprint the user asks for."""
    async with MfpSimServer() as mfp:
        process = _hub(tmp_path, database_url, mfp, snmp=False)
        process.start()
        site = Site(process, database_url)
        try:
            await site.setup(mfp, "lpd")
            path = tmp_path / "job.ps"
            path.write_bytes(BIG_PAGE_PS)
            await site.submit(path)
            await site.wait_for("SELECT COUNT(*) FROM print_jobs WHERE page_count = 1", 1)
            mfp.behaviour.stall_after_bytes = STALL_AT_BYTES
            consumer = asyncio.ensure_future(_drain(site.release_stream("release-1")))
            await _hold_at(site, mfp, "sent")
            assert site.read("SELECT page_count_before FROM print_releases") is None
            process.kill()
            await asyncio.gather(consumer, return_exceptions=True)
            mfp.behaviour.release_answers()
            await asyncio.to_thread(process.start)
            await site.reconnect()

            assert site.read("SELECT state FROM print_jobs") == "printed"
            jobs = await site.held_jobs()
            assert [(job.printed, job.may_have_printed) for job in jobs] == [(True, True)]
            assert await site.balances() == (START_CENTS - MONO_CENTS, 0)
            assert _pages(mfp) == 1
            assert (await site.admin("CheckLedger", admin_pb2.Empty())).ok
        finally:
            await site.close()
            process.stop()
