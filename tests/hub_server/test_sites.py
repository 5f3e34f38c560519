"""Sites through a running hub: printers and users placed at sites by the admin CLI, jobs
stamped with the site of the replica that took them in, job roaming (a job printed into one
site released at another's terminal) and a site that keeps its jobs to itself, usage by site."""

from __future__ import annotations

import csv
import datetime
import io
import json
from pathlib import Path

import pytest
from printgate.v1 import admin_pb2, terminal_pb2

from tests.hub_server.admin_runner import admin
from tests.hub_server.test_release_site import THREE_PAGES_PS, PrintSite, open_site

pytestmark = pytest.mark.asyncio

THREE_PAGES_CENTS = 50 + 10 + 10  # one colour page, two mono (tests/hub_server/test_release_site.py)


async def _jobs(site: PrintSite, terminal: object, token: str) -> list[terminal_pb2.HeldJob]:
    reply = await terminal.stub.ListJobs(terminal_pb2.ListJobsRequest(session_token=token))  # type: ignore[attr-defined]
    return list(reply.jobs)


async def _ok(site: PrintSite, command: str) -> str:
    result = await admin(site.clients, command)
    assert result.code == 0, result.err
    return result.out


async def test_a_job_roams_to_another_site_until_its_site_keeps_its_jobs(
    tmp_path: Path, database_url: str
) -> None:
    async with open_site(tmp_path, database_url, site="north") as site:
        clients = site.clients
        await clients.call_admin("UpsertPrinter", admin_pb2.Printer(name="mfp-2", address="127.0.0.1:9"))
        south = await clients.create_terminal("t-2", printer="mfp-2")
        # the hub made its own site at start; the admin adds the other and places everything
        made = json.loads(await _ok(site, "--json site list"))["sites"]
        assert [(s["name"], s["roaming"], s["printers"]) for s in made] == [("north", True, [])]
        assert (await _ok(site, "site save south")).splitlines()[0].split() == ["name", "south"]
        await _ok(site, "site printer mfp-1 north")
        await _ok(site, "site printer mfp-2 south")
        assert await _ok(site, "site user alice north") == "alice's site is north\n"
        document = tmp_path / "thesis.ps"
        document.write_bytes(THREE_PAGES_PS)
        await site.submit(document, "alice")
        job_id = site.running.db.read(lambda tx: tx.scalar("SELECT MAX(id) FROM print_jobs"))
        stamped = site.running.db.read(
            lambda tx: tx.scalar(
                "SELECT s.name FROM site_jobs sj JOIN sites s ON s.id = sj.site_id WHERE sj.job_id = :j",
                {"j": job_id},
            )
        )
        assert stamped == "north"  # taken in by this replica, whose [hub] site is north
        listed = await _ok(site, "site list")
        assert [line.split() for line in listed.splitlines()[1:]] == [
            ["north", "yes", "mfp-1", "1", "1"],
            ["south", "yes", "mfp-2", "0", "0"],
        ]

        # roaming (every site's default): alice sees the job at the south terminal too
        south_token = (await south.tap("c-alice")).session_token
        assert [job.id for job in await _jobs(site, south, south_token)] == [job_id]

        # north keeps its jobs: the south terminal neither lists nor releases it
        await _ok(site, "site save north --no-roaming")
        assert await _jobs(site, south, south_token) == []
        request = terminal_pb2.ReleaseJobsRequest(
            session_token=south_token,
            jobs=[terminal_pb2.JobRelease(job_id=job_id)],
            idempotency_key="south-1",
        )
        progress = [item async for item in south.stub.ReleaseJobs(request)]
        assert [(p.state, p.message) for p in progress] == [
            (
                terminal_pb2.RELEASE_STATE_REFUSED,
                f"job {job_id} was printed at a site whose jobs do not roam: release it there",
            )
        ]
        assert site.job_state(job_id) == "held" and site.holds_cents() == 0

        # at its own site it prints, and is charged once
        north_token = await site.session("c-alice")
        assert [job.id for job in await site.list_jobs(north_token)] == [job_id]
        released = await site.release(north_token, "north-1", [terminal_pb2.JobRelease(job_id=job_id)])
        assert released[-1].state == terminal_pb2.RELEASE_STATE_PRINTED
        assert released[-1].charged_cents == THREE_PAGES_CENTS
        assert len(site.mfp.device.jobs) == 1

        # usage by site: the pages were made at north's printer
        today = datetime.datetime.fromtimestamp(clients.clock.now_us() / 1e6, datetime.UTC).date().isoformat()
        csv_file = tmp_path / "by-site.csv"
        await _ok(site, f"report export --kind usage --by site --from {today} --to {today} -o {csv_file}")
        rows = list(csv.reader(io.StringIO(csv_file.read_text(encoding="utf-8-sig"))))
        north_row = next(row for row in rows if row[0] == "north")
        assert int(north_row[1]) == 3  # print pages
        assert "south" not in [row[0] for row in rows]

        # a site with printers or users cannot go; the hub's own site never
        removed = await admin(clients, "site remove south")
        assert removed.code != 0 and "still has printers or users" in removed.err
        await _ok(site, "site printer mfp-2")
        assert await _ok(site, "site remove south") == "site south removed\n"
        refused = await admin(clients, "site remove north")
        assert "this hub's own" in refused.err
