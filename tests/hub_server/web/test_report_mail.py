"""Scheduled reports by e-mail, on both backends, through a real SMTP server (aiosmtpd on
loopback): a monthly XLSX is due only once its month is over, arrives once with the exact
ledger total, is not sent twice, and an absent mail server loses nothing (it stays due)."""

from __future__ import annotations

import io
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiosmtpd.controller import Controller

from hub_server.clock import FakeClock
from hub_server.config import WebConfig
from hub_server.domain import Hub
from hub_server.errors import InvalidRequest, NotFound
from hub_server.storage import Database
from hub_server.web.mail import send_due_reports
from tests.conftest import free_tcp_port
from tests.hub_server.conftest import hub_config
from tests.hub_server.domain.test_reports import DAY_S, MARCH, _month, _setup, _us


class Inbox:
    """What the SMTP server accepted."""

    def __init__(self) -> None:
        self.messages: list[tuple[list[str], EmailMessage]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append((list(envelope.rcpt_tos), parsed))
        return "250 OK"


async def test_a_monthly_report_is_mailed_once_after_its_month_with_the_ledger_total(
    db: Database, tmp_path: Path
) -> None:
    clock = FakeClock(_us(MARCH) - 10 * DAY_S * 1_000_000)  # 19 February
    hub = Hub(db, hub_config(tmp_path), clock, b"s" * 32)
    await _setup(hub)
    schedules = hub.report_schedules
    for bad in ("not-an-address", "a@b.c, <x>@example.test", ""):
        with pytest.raises(InvalidRequest):
            await schedules.create("usage", "department", "month", "xlsx", bad, "root")
    with pytest.raises(InvalidRequest):
        await schedules.create("usage", "department", "fortnight", "xlsx", "f@example.test", "root")
    made = await schedules.create(
        "usage", "department", "month", "xlsx", "finance@example.test,\nboss@example.test", "root"
    )
    assert made.recipients == ("finance@example.test", "boss@example.test")
    assert schedules.due() == []  # January is over already: the first mail is February's
    generated = await _month(hub, clock, seed=16)
    clock._now_us = _us(MARCH) + 32 * DAY_S * 1_000_000  # 2 April: March, the last whole month, is due
    due = schedules.due()
    assert [(s.schedule_id, p.label) for s, p in due] == [(made.schedule_id, "2026-03-01 – 2026-03-31")]

    port = free_tcp_port()
    config = WebConfig(smtp_host="127.0.0.1", smtp_port=port, mail_from="printgate@example.test")
    with pytest.raises(OSError):  # no mail server yet: nothing is marked sent
        await send_due_reports(hub, config)
    assert len(schedules.due()) == 1

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        assert await send_due_reports(hub, config) == 1
        assert await send_due_reports(hub, config) == 0
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    recipients, message = inbox.messages[0]
    assert recipients == ["finance@example.test", "boss@example.test"]
    assert message["From"] == "printgate@example.test"
    assert message["Subject"] == "printgate usage report by department, 2026-03-01 – 2026-03-31"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == "usage-department-2026-03-01-2026-03-31.xlsx"
    data = attachment.get_payload(decode=True)
    assert isinstance(data, bytes)
    book = openpyxl.load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet is not None
    total_row = next(row for row in sheet.iter_rows(values_only=True) if row[0] == "Total")
    assert round(float(str(total_row[9])) * 100) == generated.charged_cents
    assert schedules.schedules()[0].last_sent == "2026-03-01"

    await schedules.delete(made.schedule_id)
    assert schedules.schedules() == []
    with pytest.raises(NotFound):
        await schedules.delete(made.schedule_id)


def test_a_mail_server_needs_a_sender_address() -> None:
    with pytest.raises(ValueError, match="mail_from"):
        WebConfig(smtp_host="mail.example.test").validate()
    with pytest.raises(ValueError, match="smtp_port"):
        WebConfig(smtp_host="mail.example.test", mail_from="p@example.test", smtp_port=0).validate()
    WebConfig(smtp_host="mail.example.test", mail_from="printgate@example.test").validate()


def test_plain_http_is_for_a_loopback_listener_only_and_never_beside_a_certificate() -> None:
    WebConfig(listen="127.0.0.1:8080", plain_http=True).validate()
    with pytest.raises(ValueError, match="plain_http is for a loopback listener only"):
        WebConfig(listen="0.0.0.0:8080", plain_http=True).validate()
    with pytest.raises(ValueError, match="contradict"):
        WebConfig(listen="127.0.0.1:8080", plain_http=True, tls_cert_file="c", tls_key_file="k").validate()
    WebConfig(listen="0.0.0.0:8443").validate()  # off loopback by default: the hub's certificate
