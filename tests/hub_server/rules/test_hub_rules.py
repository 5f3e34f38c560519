"""Job rules through a real hub on both databases: rules made with ``printgate admin rule``,
jobs printed with the real ipptool, listed and released at a terminal, printed by the
simulated MFP, and every cent counted."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from printgate.v1 import common_pb2, terminal_pb2

from tests.hub_server.admin_runner import admin
from tests.hub_server.scan.conftest import MailSink
from tests.hub_server.test_release import release_item
from tests.hub_server.test_release_site import THREE_PAGES_PS, PrintSite, open_site

PRINTED = terminal_pb2.RELEASE_STATE_PRINTED
REFUSED = terminal_pb2.RELEASE_STATE_REFUSED
SENDING = terminal_pb2.RELEASE_STATE_SENDING
# Sixty A4 pages of text, a form feed after each (the simulated MFP's page rule).
SIXTY_PAGES_PS = b"%!PS-Adobe-3.0\n%%Pages: 60\n<< /PageSize [595 842] >> setpagedevice\n" + b"".join(
    b"/Helvetica findfont 24 scalefont setfont 72 700 moveto (page %d) show showpage\n\x0c\n" % page
    for page in range(1, 61)
)
RULES = (
    'add "long jobs" --pages-min 60 --force-duplex --note "60 pages or more: printed duplex"'
    ' --notify "a long job"',
    r'add "no programs" --name-pattern "\.exe$" --delete "programs are not printed"',
    'add "students: one copy" --group students --copies-cap 1 --note "students print one copy"',
)


@pytest_asyncio.fixture
async def site(tmp_path: Path, database_url: str) -> AsyncIterator[PrintSite]:
    async with open_site(tmp_path, database_url) as opened:
        for command in ("group create students", "group add-member students alice"):
            assert (await admin(opened.clients, command)).code == 0
        for rule in RULES:
            done = await admin(opened.clients, f"rule {rule}")
            assert done.code == 0, done.err
        yield opened


def job_id(site: PrintSite, name: str) -> int:
    return int(
        site.running.db.read(
            lambda tx: tx.scalar("SELECT id FROM print_jobs WHERE job_name = :n", {"n": name})
        )
    )


def document(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    path.write_bytes(content)
    return path


async def test_rules_shape_what_the_terminal_offers_and_what_is_charged(
    site: PrintSite, caplog: pytest.LogCaptureFixture
) -> None:
    listed = json.loads((await admin(site.clients, "rule list --json")).out)
    assert [(rule["position"], rule["name"]) for rule in listed["rules"]] == [
        (1, "long jobs"),
        (2, "no programs"),
        (3, "students: one copy"),
    ]
    assert json.loads(listed["rules"][0]["rule_json"]) == {
        "name": "long jobs",
        "conditions": {"pages_min": 60},
        "actions": {"force_duplex": True, "notify": "a long job"},
        "note": "60 pages or more: printed duplex",
    }
    with caplog.at_level(logging.INFO, logger="hub_server.domain.rules_store"):
        await site.submit(document(site.folder, "thesis.ps", SIXTY_PAGES_PS), "alice", name="thesis")
    notices = [record.getMessage() for record in caplog.records if "a long job" in record.getMessage()]
    assert notices == [f"job rules: job {job_id(site, 'thesis')} of alice: rule 'long jobs': a long job"]
    await site.submit(document(site.folder, "setup.ps", THREE_PAGES_PS), "alice", name="SETUP.EXE")
    await site.submit(document(site.folder, "notes.ps", THREE_PAGES_PS), "alice", name="notes", copies=3)
    token = await site.session("c-alice")
    thesis, notes = await site.list_jobs(token)  # the .exe is not offered
    # 60 mono pages printed duplex at 7 a side (10 simplex): 420, within alice's 500
    assert (thesis.name, thesis.pages, thesis.duplex, thesis.copies) == ("thesis", 60, True, 1)
    assert (thesis.estimated_price_cents, thesis.price_per_copy_cents) == (420, 420)
    assert thesis.rule_note == "60 pages or more: printed duplex"
    # a student's three copies become one: one colour page (50) and two mono (10) once
    assert (notes.name, notes.copies, notes.duplex, notes.estimated_price_cents) == ("notes", 1, False, 70)
    assert notes.rule_note == "students print one copy"
    deleted = site.running.db.read(
        lambda tx: tx.one("SELECT state, spool_id, rule_note FROM print_jobs WHERE job_name = 'SETUP.EXE'")
    )
    assert deleted == {"state": "canceled", "spool_id": None, "rule_note": "programs are not printed"}

    more = await site.release(token, "more", [release_item(notes.id, copies=3)])
    assert [p.state for p in more] == [REFUSED] and "at most 1 copies" in more[0].message
    progress = await site.release(token, "thesis", [release_item(thesis.id)])
    assert [p.state for p in progress] == [SENDING, PRINTED]
    assert (progress[-1].pages_printed, progress[-1].charged_cents) == (60, 420)
    (printed,) = site.mfp.device.jobs
    assert (printed.pages, printed.copies, printed.duplex) == (60, 1, True)
    assert await site.clients.balance("alice") == 500 - 420
    assert site.holds_cents() == 0
    assert (await site.clients.check_ledger()).ok

    audited = site.running.db.read(
        lambda tx: tx.execute(
            "SELECT action, target FROM console_audit WHERE action LIKE 'rule.%' ORDER BY id"
        )
    )
    assert [(row["action"], row["target"]) for row in audited] == [
        ("rule.add", "rule long jobs"),
        ("rule.add", "rule no programs"),
        ("rule.add", "rule students: one copy"),
    ]


async def test_a_rule_change_is_seen_at_the_next_listing(site: PrintSite) -> None:
    await site.submit(document(site.folder, "notes.ps", THREE_PAGES_PS), "alice", name="notes", copies=3)
    token = await site.session("c-alice")
    ((capped,),) = [await site.list_jobs(token)]
    assert capped.copies == 1
    assert (await admin(site.clients, 'rule remove "students: one copy"')).code == 0
    (job,) = await site.list_jobs(token)
    assert (job.copies, job.rule_note, job.estimated_price_cents) == (3, "", 3 * 70)
    moved = await admin(site.clients, 'rule move "no programs" 1 --json')
    assert [rule["name"] for rule in json.loads(moved.out)["rules"]] == ["no programs", "long jobs"]


async def test_rule_test_and_refusals(site: PrintSite) -> None:
    tried = await admin(site.clients, "rule test --user alice --pages 61 --copies 4 --json")
    assert json.loads(tried.out) | {"notices": []} == {
        "deleted": False,
        "duplex": True,
        "mono": False,
        "copies": 1,
        "printer_group": "",
        "fired": ["long jobs", "students: one copy"],
        "reason": "60 pages or more: printed duplex; students print one copy",
        "notices": [],
        "groups": ["students"],
    }
    exe = await admin(site.clients, "rule test --job-name x.exe")
    assert exe.code == 0 and "programs are not printed" in exe.out
    bad = await admin(site.clients, 'rule add broken --name-pattern "(" --hold')
    assert bad.code != 0 and "regular expression" in bad.err
    twice = await admin(site.clients, 'rule add "long jobs" --hold')
    assert twice.code != 0 and "exists" in twice.err
    nothing = await admin(site.clients, "rule add idle")
    assert nothing.code != 0 and "at least one action" in nothing.err
    moved = await admin(site.clients, "rule move nobody first")
    assert moved.code == 2 and "position must be a whole number" in moved.err
    missing = await admin(site.clients, "rule remove nobody")
    assert missing.code != 0 and "no rule named 'nobody'" in missing.err
    listed = json.loads((await admin(site.clients, "rule list --json")).out)
    assert len(listed["rules"]) == 3


async def test_a_routed_job_is_priced_at_its_printer_group_and_released_only_there(site: PrintSite) -> None:
    await site.clients.set_price(common_pb2.FUNCTION_PRINT, common_pb2.COLOR_MODE_MONO, 3, group="basement")
    await site.clients.set_price(common_pb2.FUNCTION_PRINT, common_pb2.COLOR_MODE_COLOR, 30, group="basement")
    routed = await admin(
        site.clients, 'rule add "big runs downstairs" --copies-min 3 --printer-group basement --position 1'
    )
    assert routed.code == 0, routed.err
    await site.submit(document(site.folder, "notes.ps", THREE_PAGES_PS), "alice", name="handout", copies=3)
    token = await site.session("c-alice")
    (job,) = await site.list_jobs(token)
    # the students' cap still applies; priced at the basement's list: one colour page (30), two mono (3)
    assert (job.copies, job.estimated_price_cents) == (1, 36)
    assert job.rule_note == "big runs downstairs; students print one copy"
    progress = await site.release(token, "routed", [release_item(job.id)])
    assert [p.state for p in progress] == [REFUSED]
    assert progress[0].message.startswith(f"job {job.id} prints only at printers of group 'basement'")
    assert site.mfp.device.jobs == []
    assert await site.clients.balance("alice") == 500 and site.holds_cents() == 0


async def test_a_notify_rule_mails_the_owner_once_and_logs_without_an_address(
    tmp_path: Path, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """``notify`` through the relay the scan destinations use ([scan.email], a real SMTP server
    here): the owner gets one mail, the log line stays; an owner without an address: logged only."""
    sink = MailSink()
    await sink.start()
    relay = {"email": {"relay": f"127.0.0.1:{sink.port}", "sender": "print@hub.printgate.test"}}
    try:
        async with open_site(tmp_path, database_url, scan=relay) as site:
            for rule in (RULES[0], RULES[1] + ' --notify "a program was sent"'):
                assert (await admin(site.clients, f"rule {rule}")).code == 0, rule
            await site.clients.create_user("bob", card="c-bob", credit_cents=500)  # no e-mail address
            with caplog.at_level(logging.INFO, logger="hub_server.domain.rules_store"):
                await site.submit(document(site.folder, "thesis.ps", SIXTY_PAGES_PS), "alice", name="thesis")
                await site.submit(document(site.folder, "draft.ps", SIXTY_PAGES_PS), "bob", name="draft")
                await site.submit(
                    document(site.folder, "setup.ps", THREE_PAGES_PS), "alice", name="SETUP.EXE"
                )
            thesis, draft, program = job_id(site, "thesis"), job_id(site, "draft"), job_id(site, "SETUP.EXE")
            assert site.running.outbox is not None
            await site.running.outbox.outbox.drain()
            mail, deleted = sink.messages
            assert (mail["To"], mail["From"], mail["Subject"], mail["Auto-Submitted"]) == (
                "alice@example.test",
                "print@hub.printgate.test",
                'Print job "thesis": print rule notice',
                "auto-generated",
            )
            body = mail.get_body(("plain",))
            assert body is not None
            assert body.get_content().replace("\r\n", "\n") == (  # SMTP carries lines as CRLF
                f'Your print job "thesis" (job {thesis}, 60 page(s), 1 copies) matched the site\'s'
                " print rules:\n\nrule 'long jobs': a long job\n\n"
                "This message was sent automatically by the print system.\n"
            )
            assert (deleted["To"], deleted["Subject"]) == (
                "alice@example.test",
                'Print job "SETUP.EXE": print rule notice',
            )
            deleted_body = deleted.get_body(("plain",))
            assert deleted_body is not None
            assert deleted_body.get_content().replace("\r\n", "\n") == (
                f'Your print job "SETUP.EXE" (job {program}, 3 page(s), 1 copies) matched the site\'s'
                " print rules:\n\nrule 'no programs': a program was sent\n\n"
                "It was not printed: programs are not printed\n\n"
                "This message was sent automatically by the print system.\n"
            )
            logged = [record.getMessage() for record in caplog.records]
            assert f"job rules: job {thesis} of alice: rule 'long jobs': a long job" in logged
            assert f"job rules: job {draft} of bob: rule 'long jobs': a long job" in logged
            assert f"job rules: job {draft} of bob: no e-mail address, the notice is logged only" in logged
            registry = site.running.hub.job_registry
            record = registry.get_job(thesis)
            assert record is not None
            registry.update_job(record)  # ruled again at intake: logged again, never mailed twice
            await site.running.outbox.outbox.drain()
            outbox = site.running.outbox.outbox
            assert (len(sink.messages), outbox.sent, outbox.failed, outbox.dropped) == (2, 2, 0, 0)
    finally:
        await sink.close()
