"""A real CUPS as the desktop client: a private cupsd (its own directories and socket) adds
the hub's IPPS queue driverless (``lpadmin -m everywhere`` reads our printer attributes), and
``lp`` prints through it. CUPS's ipps backend sends credentials only when challenged: on a
queue with ``authentication = "required"`` the 401 makes it retry with HTTP Basic (the
credentials in the device URI), so the job is filed under the authenticated hub user, not
the desktop user. (On a "basic" queue CUPS never offers them: its jobs stay claimed.)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
import pytest_asyncio

from hub_server.intake import InMemoryJobRegistry, IntakeServer, JobState, Spool, start_intake

from .conftest import AUTHENTICATING_CONFIG, PASSWORDS, FakeHubPasswords, TlsFiles, require_binary

pytestmark = pytest.mark.asyncio

CUPS_FILES = """ServerRoot {root}/etc
RequestRoot {root}/spool
CacheDir {root}/cache
StateDir {root}/state
TempDir {root}/spool/tmp
ErrorLog {root}/log/error_log
AccessLog {root}/log/access_log
PageLog {root}/log/page_log
ServerBin /usr/lib/cups
DataDir /usr/share/cups
SystemGroup root
Sandboxing Relaxed
"""
CUPSD = """Listen {root}/cups.sock
LogLevel info
JobRetryInterval 5
Browsing No
DefaultAuthType None
<Location />
  Order allow,deny
  Allow all
</Location>
"""


@pytest.fixture
def cups() -> Iterator[dict[str, str]]:
    """A private cupsd; yields the environment its clients need (CUPS_SERVER)."""
    for tool in ("cupsd", "lpadmin", "lp", "lpstat"):
        require_binary(tool)
    # Filters run as the lp user: the tree must be reachable, unlike pytest's 0700 tmp dirs.
    root = Path(tempfile.mkdtemp(prefix="printgate-cups-"))
    for sub in ("etc/ppd", "spool/tmp", "cache", "state", "log"):
        (root / sub).mkdir(parents=True)
    for path in (root, *root.rglob("*")):
        path.chmod(0o777)
    (root / "etc" / "cups-files.conf").write_text(CUPS_FILES.format(root=root))
    (root / "etc" / "cupsd.conf").write_text(CUPSD.format(root=root))
    process = subprocess.Popen(
        ["cupsd", "-f", "-c", str(root / "etc/cupsd.conf"), "-s", str(root / "etc/cups-files.conf")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    env = {**os.environ, "CUPS_SERVER": str(root / "cups.sock")}
    try:
        for _ in range(100):
            if subprocess.run(["lpstat", "-r"], env=env, capture_output=True, text=True).stdout.startswith(
                "scheduler is running"
            ):
                break
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(0.1)
        else:
            pytest.fail("private cupsd did not start: " + (root / "log/error_log").read_text()[-2000:])
        yield env
    finally:
        process.terminate()
        process.wait(10)
        shutil.rmtree(root, ignore_errors=True)


async def run(argv: list[str], env: dict[str, str]) -> str:
    process = await asyncio.create_subprocess_exec(
        *argv, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    output, _ = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode == 0, output.decode()
    return output.decode()


@pytest_asyncio.fixture
async def required_queue(
    registry: InMemoryJobRegistry, spool: Spool, tls_files: TlsFiles, hub_passwords: FakeHubPasswords
) -> AsyncIterator[IntakeServer]:
    server = await start_intake(
        registry,
        spool,
        ipp_listen=None,
        ipps_listen=("127.0.0.1", 0),
        tls=tls_files.server_context(),
        config=replace(AUTHENTICATING_CONFIG, authentication="required"),
        passwords=hub_passwords.check(),
    )
    yield server
    await server.close()


async def test_lp_through_a_driverless_cups_queue_files_the_job_under_the_hub_user(
    required_queue: IntakeServer,
    registry: InMemoryJobRegistry,
    cups: dict[str, str],
    documents: dict[str, Path],
) -> None:
    uri = f"ipps://alice:{PASSWORDS['alice']}@127.0.0.1:{required_queue.ipps_port}/ipp/print"
    # retry-job: a send that fails on a loaded machine is tried again (CUPS's default,
    # stop-printer, would stop the queue and the job would never come)
    policy = "printer-error-policy=retry-job"
    await run(["lpadmin", "-p", "hub", "-E", "-v", uri, "-m", "everywhere", "-o", policy], cups)
    assert "printer hub is idle" in await run(["lpstat", "-p", "hub"], cups)
    # The desktop user is bob; the hub files the job under the user the credentials prove.
    await run(["lp", "-d", "hub", "-U", "bob", "-t", "quarterly.pdf", str(documents["pdf"])], cups)
    # CUPS converts and sends in the background, and on a loaded machine its filters and the
    # ipps backend's retries take long: wait up to 4 min, and say what CUPS did if it never came.
    for _ in range(2400):
        if registry.list_jobs():
            break
        await asyncio.sleep(0.1)
    else:
        error_log = Path(cups["CUPS_SERVER"]).parent / "log" / "error_log"
        jobs = await run(["lpstat", "-l", "-o"], cups)
        pytest.fail(f"CUPS never delivered the job; lpstat -l -o:\n{jobs}\n{error_log.read_text()[-3000:]}")
    await required_queue.service.wait_idle()
    [record] = registry.list_jobs()
    assert (record.owner, record.owner_verified, record.state) == ("alice", True, JobState.PENDING_HELD)
    assert record.job_name == "quarterly.pdf"
    assert record.analysis is not None and record.analysis.page_count == 2
