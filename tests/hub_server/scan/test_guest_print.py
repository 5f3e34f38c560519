"""Guests printing by e-mail through a running hub: a sender no user has, from a guest domain,
mails a PDF through the site's relay -> a held job of the guest user -> the reply (a private
SMTP sink) carries a one-time release code -> entered as the PIN at the terminal (gRPC), it
opens a session that lists and releases that one job and nothing else -> printed on the
simulated MFP, the guest account charged once -> the code is spent. Guessed codes count against
the terminal like wrong PINs; a job over the guest limits gets no code. Both backends."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
import pytest_asyncio
from PIL import Image, ImageDraw
from printgate.v1 import common_pb2, terminal_pb2

from hub_server.domain.guest_pins import CODE_DIGITS, SELECTOR_DIGITS
from hub_server.domain.sessions import GUEST_ONLY_RELEASES
from tests.hub_server.scan.conftest import MailSink, TlsMaterial
from tests.hub_server.scan.test_email_print import (
    PRINT_ADDRESS,
    RELAY_ADDRESS,
    mail,
    send,
    settled,
    two_page_pdf,
)
from tests.hub_server.test_release_site import PrintSite, open_site

pytestmark = pytest.mark.slow

GUEST_USER = "guest-print"
GUEST_CREDIT_CENTS = 1000
CODE = re.compile(rf"enter (\d{{{CODE_DIGITS}}}) as the PIN")


@pytest_asyncio.fixture
async def site(
    tmp_path: Path, database_url: str, tls: TlsMaterial, mail_sink: MailSink
) -> AsyncIterator[PrintSite]:
    scan = {
        "listen": "127.0.0.1:0",
        "print_recipients": [PRINT_ADDRESS],
        "print_relays": [RELAY_ADDRESS],
        "print_guests": ["guests.test"],
        "print_guest_user": GUEST_USER,
        "print_guest_pages_max": 3,
        "print_guest_price_max_cents": 100,
        "certificate": str(tls.certificate),
        "key": str(tls.key),
        "conversion_workers": 1,
        "email": {"relay": f"127.0.0.1:{mail_sink.port}", "sender": "print@hub.printgate.test"},
    }
    async with open_site(tmp_path, database_url, scan=scan) as opened:
        # the site's guest account: the guest user's own credit (no card, PIN or password)
        await opened.clients.create_user(GUEST_USER, credit_cents=GUEST_CREDIT_CENTS)
        yield opened


def pdf(pages: int) -> bytes:
    drawn = []
    for number in range(1, pages + 1):
        page = Image.new("L", (595, 842), 255)
        ImageDraw.Draw(page).text((72, 72), f"visitor page {number}", fill=0)
        drawn.append(page)
    out = io.BytesIO()
    drawn[0].save(out, "PDF", save_all=True, append_images=drawn[1:], resolution=72)
    return out.getvalue()


def reply_to(mail_sink: MailSink, address: str) -> list[str]:
    (answer,) = [message for message in mail_sink.messages if message["To"] == address]
    return list(answer.get_content().splitlines())


def code_in(line: str) -> str:
    found = CODE.search(line)
    assert found is not None, line
    return found.group(1)


def guest_job_ids(site: PrintSite) -> list[int]:
    rows = site.running.db.read(
        lambda tx: tx.execute(
            "SELECT j.id FROM print_jobs j JOIN users u ON u.id = j.owner_user_id"
            " WHERE u.username = :u ORDER BY j.id",
            {"u": GUEST_USER},
        )
    )
    return [int(row["id"]) for row in rows]


async def test_a_guest_code_releases_exactly_its_job_once_and_the_guest_account_pays(
    site: PrintSite, tls: TlsMaterial, mail_sink: MailSink
) -> None:
    assert await send(site, mail("visitor@guests.test", [("slides.pdf", two_page_pdf())]), tls) == (
        250,
        "2.0.0 1 job(s) held, 0 refused",
    )
    assert await send(site, mail("other@Guests.test", [("other.pdf", two_page_pdf())]), tls) == (
        250,
        "2.0.0 1 job(s) held, 0 refused",
    )
    await settled(site)
    (line,) = reply_to(mail_sink, "visitor@guests.test")
    code = code_in(line)
    assert line == (
        f"slides.pdf: held, 2 page(s) x 1, 0.20. To print it, enter {code} as the PIN at any"
        f" printer's terminal (once, until {line.rsplit('until ', 1)[1]}"
    )
    (other_line,) = reply_to(mail_sink, "other@guests.test")
    assert code_in(other_line)[:SELECTOR_DIGITS] != code[:SELECTOR_DIGITS]
    mine, theirs = guest_job_ids(site)
    stored = site.running.db.read(
        lambda tx: tx.one("SELECT * FROM guest_release_codes WHERE job_id = :j", {"j": mine})
    )
    assert stored is not None
    assert stored["secret_hash"].startswith("$argon2id$") and code[SELECTOR_DIGITS:] not in str(dict(stored))
    assert await site.list_jobs(await site.session("c-alice")) == []  # nobody else's jobs

    opened = await site.terminal.pin(code)
    session = opened.session
    assert (session.auth_method, session.user.full_name, session.balance_cents) == ("guest-pin", "Guest", 0)
    assert list(session.allowed_functions) == [common_pb2.FUNCTION_PRINT]
    token = opened.session_token
    assert [(job.id, job.name, job.estimated_price_cents) for job in await site.list_jobs(token)] == [
        (mine, "slides.pdf", 20)
    ]
    # nothing but its job: another guest's job, copying, deleting, scanning are refused
    refused = await site.release(token, "guest-other", jobs=[terminal_pb2.JobRelease(job_id=theirs)])
    assert [(p.job_id, p.state, p.message) for p in refused] == [
        (theirs, terminal_pb2.RELEASE_STATE_REFUSED, GUEST_ONLY_RELEASES)
    ]
    for call in (
        site.terminal.report(token, "guest-copy", 1),
        site.terminal.stub.DeleteJobs(terminal_pb2.DeleteJobsRequest(session_token=token, job_ids=[mine])),
        site.terminal.stub.ListScanProfiles(terminal_pb2.ListScanProfilesRequest(session_token=token)),
    ):
        with pytest.raises(grpc.aio.AioRpcError) as denied:
            await call
        assert (denied.value.code(), denied.value.details()) == (
            grpc.StatusCode.PERMISSION_DENIED,
            GUEST_ONLY_RELEASES,
        )

    printed = await site.release(token, "guest-release-1", release_all=True)
    assert [(p.job_id, p.state, p.charged_cents) for p in printed][-1] == (
        mine,
        terminal_pb2.RELEASE_STATE_PRINTED,
        20,
    )
    assert await site.clients.balance(GUEST_USER) == GUEST_CREDIT_CENTS - 20
    assert await site.clients.balance("alice") == 500
    # spent: the code opens nothing any more, the session lists nothing and prints nothing again
    with pytest.raises(grpc.aio.AioRpcError) as spent:
        await site.terminal.pin(code)
    assert (spent.value.code(), spent.value.details()) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "this release code was used already",
    )
    assert await site.list_jobs(token) == []
    again = await site.release(token, "guest-release-2", jobs=[terminal_pb2.JobRelease(job_id=mine)])
    assert [(p.state, p.message) for p in again] == [
        (terminal_pb2.RELEASE_STATE_REFUSED, f"job {mine} is printed")
    ]
    assert await site.clients.balance(GUEST_USER) == GUEST_CREDIT_CENTS - 20
    assert site.job_state(theirs) == "held"
    assert (await site.clients.check_ledger()).ok


async def test_guessed_codes_count_like_wrong_pins_and_a_job_over_the_limits_gets_none(
    site: PrintSite, tls: TlsMaterial, mail_sink: MailSink
) -> None:
    files = [("short.pdf", pdf(2)), ("long.pdf", pdf(4))]
    held = await send(site, mail("visitor@guests.test", files), tls)
    assert held == (250, "2.0.0 2 job(s) held, 0 refused")
    stranger = await send(site, mail("someone@elsewhere.test", files), tls)
    assert stranger == (550, "5.7.1 this address belongs to no user of the print service")
    await settled(site)
    short_line, long_line = reply_to(mail_sink, "visitor@guests.test")
    assert long_line == "long.pdf: not printed: 4 page(s), 0.40: over the guest limit of 3 page(s) and 1.00"
    short_job, long_job = guest_job_ids(site)
    assert (site.job_state(short_job), site.job_state(long_job)) == ("held", "canceled")
    code = code_in(short_line)

    # a guesser who even knows the selector: each wrong secret counted against the terminal
    wrong = code[:SELECTOR_DIGITS] + f"{(int(code[SELECTOR_DIGITS:]) + 1) % 10**6:06d}"
    for _ in range(5):
        with pytest.raises(grpc.aio.AioRpcError) as failed:
            await site.terminal.pin(wrong)
        assert failed.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as locked:
        await site.terminal.pin(code)  # right, but the terminal waits out its back-off first
    assert locked.value.code() == grpc.StatusCode.PERMISSION_DENIED
    counters = site.running.hub.auth.login_counters()
    assert counters.terminals["t-1"].failures_total == 5
    assert counters.users == {}  # the guest user is not locked for every other guest
    await site.running.hub.auth.unlock_terminal("t-1")
    opened = await site.terminal.pin(code)
    assert [job.id for job in await site.list_jobs(opened.session_token)] == [short_job]
    assert await site.clients.balance(GUEST_USER) == GUEST_CREDIT_CENTS
