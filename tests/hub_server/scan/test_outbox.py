"""The notice outbox over a real SMTP server: a full queue drops and counts (and says so in the
log) instead of waiting, offers come from worker threads too, and a relay that is down is
counted as failed without stopping the mails behind it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket

import pytest

from hub_server.scan import Outbox, OutgoingMail, RelaySender
from tests.hub_server.scan.conftest import MailSink


def mail(number: int) -> OutgoingMail:
    return OutgoingMail(f"user{number}@example.test", f"notice {number}", f"body {number}\n")


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.asyncio
async def test_a_full_outbox_drops_and_counts_and_sends_the_rest(
    mail_sink: MailSink, caplog: pytest.LogCaptureFixture
) -> None:
    outbox = Outbox(RelaySender("127.0.0.1", mail_sink.port, "print@hub.printgate.test"), capacity=2)
    with caplog.at_level(logging.WARNING, logger="hub_server.scan.outbox"):
        # the sender is not running yet: the relay takes nothing, the queue fills up
        offered = [await asyncio.to_thread(outbox.offer, mail(number)) for number in range(4)]
    assert offered == [True, True, False, False]
    assert outbox.dropped == 2
    assert [record.getMessage() for record in caplog.records] == [
        "outbox: full (2 mails waiting): a notice was dropped (1 so far)",
        "outbox: full (2 mails waiting): a notice was dropped (2 so far)",
    ]
    sender = asyncio.get_running_loop().create_task(outbox.run())
    try:
        await outbox.drain()
        assert outbox.offer(mail(4))  # room again
        await outbox.drain()
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
    assert [(m["To"], m["Subject"], m["From"]) for m in mail_sink.messages] == [
        ("user0@example.test", "notice 0", "print@hub.printgate.test"),
        ("user1@example.test", "notice 1", "print@hub.printgate.test"),
        ("user4@example.test", "notice 4", "print@hub.printgate.test"),
    ]
    assert (outbox.sent, outbox.failed, outbox.dropped) == (3, 0, 2)


@pytest.mark.asyncio
async def test_a_relay_that_is_down_is_counted_not_retried(caplog: pytest.LogCaptureFixture) -> None:
    outbox = Outbox(RelaySender("127.0.0.1", closed_port(), "print@hub.printgate.test", timeout_s=5.0))
    sender = asyncio.get_running_loop().create_task(outbox.run())
    try:
        with caplog.at_level(logging.ERROR, logger="hub_server.scan.outbox"):
            assert outbox.offer(mail(1)) and outbox.offer(mail(2))
            await outbox.drain()
    finally:
        sender.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sender
    assert (outbox.sent, outbox.failed, outbox.dropped) == (0, 2, 0)
    assert [record.getMessage().split(":")[0:2] for record in caplog.records] == [
        ["outbox", " a notice to user1@example.test was not sent"],
        ["outbox", " a notice to user2@example.test was not sent"],
    ]
