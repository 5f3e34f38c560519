"""kill -9 the hub in the middle of a release (a real ``printgate hub`` process, both backends).

* Before every byte reached the printer (the simulated MFP stops reading): after the restart
  the job is held again, nothing is charged, and releasing it again with the same request key
  prints it once and charges it once.
* After every byte was sent but before the printer's answer (the MFP never answers): after the
  restart the job is printed and charged the estimate once; a retry prints nothing.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
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
# One page; the comment padding makes the document far larger than the loopback socket
# buffers, so a printer that stops reading holds the release before its last byte.
BIG_PAGE_PS = (
    b"%!PS\n"
    + b"% padding padding padding padding padding padding padding padding padding\n" * 400_000
    + b"/Helvetica findfont 24 scalefont setfont 72 700 moveto (big) show showpage\n"
)
SMALL_PAGE_PS = b"%!PS\n/Helvetica findfont 24 scalefont setfont 72 700 moveto (small) show showpage\n"


@pytest.fixture
def make_hub(tmp_path: Path, database_url: str) -> Iterator[Callable[[], HubProcess]]:
    ipp_port = free_tcp_port()
    config = tmp_path / "hub.toml"
    config.write_text(
        f'[hub]\ndatabase = "{database_url}"\n[auth]\nargon2_time_cost = 1\nargon2_memory_kib = 1024\n'
        f'[print]\nipp_listen = "127.0.0.1:{ipp_port}"\n'
    )
    process = HubProcess(tmp_path / "hub", free_tcp_port(), config)
    process.ipp_port = ipp_port  # type: ignore[attr-defined]
    yield lambda: process
    process.stop()


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

    async def setup(self, mfp: MfpSimServer) -> None:
        await self.admin(
            "UpsertPrinter",
            admin_pb2.Printer(name="mfp-1", address=f"127.0.0.1:{mfp.raw_port}", transport="raw9100"),
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

    async def wait_for(self, sql: str, wanted: Any, timeout_s: float = 60.0) -> None:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while self.read(sql) != wanted:
            assert asyncio.get_running_loop().time() < deadline, f"{sql} never became {wanted!r}"
            await asyncio.sleep(0.05)

    async def balances(self) -> tuple[int, int]:
        reply = await self.admin("ListAccounts", admin_pb2.ListAccountsRequest())
        by_name = {account.name: account.balance_cents for account in reply.accounts}
        return by_name["user:alice"], by_name.get("system:holds", 0)


async def _crash_mid_release(
    make_hub: Callable[[], HubProcess],
    database_url: str,
    tmp_path: Path,
    document: bytes,
    fault: str,
    state: str,
) -> tuple[Site, MfpSimServer]:
    process = make_hub()
    process.start()
    site = Site(process, database_url)
    mfp = MfpSimServer()
    await mfp.start()
    await site.setup(mfp)
    path = tmp_path / "job.ps"
    path.write_bytes(document)
    await site.submit(path)
    await site.wait_for("SELECT COUNT(*) FROM print_jobs WHERE page_count = 1", 1)
    setattr(mfp.behaviour, fault, True)
    stream = site.release_stream("release-1")
    consumer = asyncio.ensure_future(_drain(stream))
    await site.wait_for("SELECT state FROM print_releases", state)
    await asyncio.sleep(0.3)  # the transport is now stuck where the fault holds it
    assert site.read("SELECT state FROM print_releases") == state
    process.kill()
    await asyncio.gather(consumer, return_exceptions=True)
    setattr(mfp.behaviour, fault, False)
    process.start()
    await site.reconnect()
    return site, mfp


async def _drain(stream: AsyncIterator[Any]) -> None:
    async for _ in stream:
        pass


async def test_killed_before_the_last_byte_is_held_uncharged_then_prints_once(
    make_hub: Callable[[], HubProcess], database_url: str, tmp_path: Path
) -> None:
    site, mfp = await _crash_mid_release(
        make_hub, database_url, tmp_path, BIG_PAGE_PS, "raw_stall", "releasing"
    )
    try:
        assert site.read("SELECT state FROM print_jobs") == "held"
        assert site.read("SELECT state FROM print_releases") == "failed"
        assert await site.balances() == (500, 0)
        progress = await site.release("release-1")  # the terminal retries its request as it was
        assert progress[-1].state == terminal_pb2.RELEASE_STATE_PRINTED
        assert progress[-1].charged_cents == MONO_CENTS
        assert [job.pages for job in mfp.device.jobs] == [1]
        assert await site.balances() == (500 - MONO_CENTS, 0)
        assert (await site.admin("CheckLedger", admin_pb2.Empty())).ok
    finally:
        await site.close()
        await mfp.stop()


async def test_killed_after_the_last_byte_is_charged_the_estimate_once(
    make_hub: Callable[[], HubProcess], database_url: str, tmp_path: Path
) -> None:
    site, mfp = await _crash_mid_release(
        make_hub, database_url, tmp_path, SMALL_PAGE_PS, "raw_silent", "sent"
    )
    try:
        assert site.read("SELECT state FROM print_jobs") == "printed"
        assert await site.balances() == (500 - MONO_CENTS, 0)
        retry = await site.release("release-1")
        assert [p.message for p in retry] == ["already printed by this request"]
        assert await site.balances() == (500 - MONO_CENTS, 0)
        assert site.read("SELECT COUNT(*) FROM print_releases") == 1
        assert (await site.admin("CheckLedger", admin_pb2.Empty())).ok
    finally:
        await site.close()
        await mfp.stop()
