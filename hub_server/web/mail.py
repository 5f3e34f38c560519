"""Scheduled reports by e-mail: each due schedule's report is rendered (CSV, XLSX or PDF) and
mailed through ``[web] smtp_host`` as an attachment, then marked sent. Sending is blocking
(:mod:`smtplib`) and runs in a worker thread; an SMTP failure is logged and retried at the
next check, so a period is never skipped."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage

from hub_server.config import WebConfig
from hub_server.documents import FORMATS
from hub_server.domain import Hub
from hub_server.domain.report_schedules import ReportSchedule
from hub_server.domain.reports import Period
from hub_server.web.context import blocking

__all__ = ["mail_reports", "report_message", "send_due_reports"]

log = logging.getLogger(__name__)
MAIL_CHECK_S = 300.0
SMTP_TIMEOUT_S = 30.0


def report_message(schedule: ReportSchedule, period: Period, data: bytes, sender: str) -> EmailMessage:
    """The mail: a short text and the report attached."""
    content_type, extension = FORMATS[schedule.format]
    maintype, _, subtype = content_type.partition(";")[0].partition("/")
    by = f" by {schedule.dimension}" if schedule.report == "usage" else ""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(schedule.recipients)
    message["Subject"] = f"printgate {schedule.report} report{by}, {period.label}"
    message.set_content(
        f"The {schedule.report} report{by} for {period.label} is attached ({extension.upper()}).\n"
        f"This {schedule.period}ly report was scheduled by {schedule.created_by} in the printgate console.\n"
    )
    name = f"{schedule.report}-{schedule.dimension}-{period.first.isoformat()}-{period.last.isoformat()}"
    message.add_attachment(data, maintype=maintype, subtype=subtype, filename=f"{name}.{extension}")
    return message


def _send(config: WebConfig, message: EmailMessage) -> None:
    with smtplib.SMTP(config.smtp_host, config.smtp_port, timeout=SMTP_TIMEOUT_S) as smtp:
        smtp.send_message(message)


async def send_due_reports(hub: Hub, config: WebConfig) -> int:
    """Mail every due scheduled report once; returns how many were sent."""
    sent = 0
    for schedule, period in await blocking(hub.report_schedules.due):
        data = await blocking(
            hub.reports.export, schedule.report, period, schedule.dimension, schedule.format
        )
        await blocking(_send, config, report_message(schedule, period, data, config.mail_from))
        await hub.report_schedules.mark_sent(schedule.schedule_id, period)
        log.info("web: mailed scheduled report %d for %s", schedule.schedule_id, period.label)
        sent += 1
    return sent


async def mail_reports(hub: Hub, config: WebConfig) -> None:
    """Check for due reports every :data:`MAIL_CHECK_S`, for as long as the hub runs."""
    while True:
        try:
            await send_due_reports(hub, config)
        except (OSError, smtplib.SMTPException) as error:  # the server is away: next check retries
            log.warning("web: scheduled reports not mailed: %s", error)
        except Exception:  # a bad schedule must not stop the others for good; logged with traceback
            log.exception("web: scheduled reports failed")
        await asyncio.sleep(MAIL_CHECK_S)
