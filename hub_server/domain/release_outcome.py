"""What became of a job whose release the hub lost sight of (it crashed, or the line broke).

The hub recorded what the printer said just before the first byte of the job (the ``sending``
step, see :mod:`hub_server.domain.release`); now it asks again and compares:

* released over IPP with a job id: Get-Job-Attributes. ``completed`` printed
  ``job-impressions-completed``; ``canceled``/``aborted`` printed what it completed (often
  nothing); pending or processing: ask later; a job the printer no longer knows: unknown.
* raw 9100: ``@PJL INFO STATUS`` and ``INFO PAGECOUNT``. A busy printer (or one stopped for an
  operator, a job may wait inside): ask later; otherwise the pages the counter moved by
  printed (none: not printed).
* otherwise (LPD, IPP without Create-Job) the SNMP page counter, when the printer has an agent
  and the counter was read before the job.

A printer that does not answer: ask later. A question no printer can answer: unknown.
The counter comparisons assume the hub is the one sending jobs to the printer (copies made at
the device in the same minutes move the counter too).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from enum import Enum

from mfp_adapters import (
    CommunityAuth,
    IppTransport,
    MfpError,
    MfpSnmp,
    Raw9100Transport,
    ReleaseTransport,
    SnmpClient,
)
from mfp_adapters.ipp import JOB_COMPLETED

__all__ = ["Outcome", "SnmpAgent", "Verdict", "ask_printer", "snmp_page_counter"]

log = logging.getLogger(__name__)


class Verdict(Enum):
    """What the printer's answer means for the job."""

    PRINTED = "printed"  # charge ``pages`` (None: the estimate)
    NOT_PRINTED = "not-printed"  # put the job back, nothing charged
    ASK_LATER = "ask-later"  # still printing, or the printer does not answer
    UNKNOWN = "unknown"  # the printer cannot say


@dataclass(frozen=True)
class Outcome:
    """A verdict and the pages printed (when the printer counted them)."""

    verdict: Verdict
    pages: int | None = None
    why: str = ""


@dataclass(frozen=True)
class SnmpAgent:
    """Where the printer's SNMP agent answers."""

    host: str
    port: int
    community: str
    timeout_s: float


async def snmp_page_counter(agent: SnmpAgent | None) -> int | None:
    """The printer's life page counter over SNMP (None: no agent, no answer, no counter)."""
    if agent is None:
        return None
    client = SnmpClient(agent.host, agent.port, CommunityAuth(agent.community), timeout_s=agent.timeout_s)
    try:
        async with client:
            counters = await MfpSnmp(client).counters()
    except MfpError as error:
        log.info("release: page counter of %s unknown: %s", agent.host, error)
        return None
    return counters.values.get("total")


async def ask_printer(
    transport: ReleaseTransport,
    printer_job_id: int | None,
    page_count_before: int | None,
    agent: SnmpAgent | None,
) -> Outcome:
    """Ask the printer behind ``transport`` what became of the job (see the module docstring)."""
    try:
        if isinstance(transport, IppTransport) and printer_job_id is not None:
            return await _ask_ipp(transport, printer_job_id)
        if isinstance(transport, Raw9100Transport) and page_count_before is not None:
            return await _ask_pjl(transport, page_count_before)
    except (OSError, MfpError) as error:
        return Outcome(Verdict.ASK_LATER, why=f"the printer does not answer: {error}")
    if page_count_before is not None and agent is not None:
        now = await snmp_page_counter(agent)
        if now is None:
            return Outcome(Verdict.ASK_LATER, why="the printer's SNMP agent does not answer")
        return _counted(now - page_count_before)
    return Outcome(Verdict.UNKNOWN, why=f"{transport.name} cannot say what a printer printed")


async def _ask_ipp(transport: IppTransport, job_id: int) -> Outcome:
    status = await transport.job_status(job_id)
    if not status.known:
        return Outcome(Verdict.UNKNOWN, why=f"the printer no longer knows job {job_id}")
    if not status.finished:
        return Outcome(Verdict.ASK_LATER, why=f"job {job_id} is still in state {status.state}")
    if status.state == JOB_COMPLETED:
        return Outcome(Verdict.PRINTED, status.impressions, f"job {job_id} completed")
    if status.impressions:
        return Outcome(Verdict.PRINTED, status.impressions, f"job {job_id} ended part-printed")
    return Outcome(Verdict.NOT_PRINTED, why=f"job {job_id} ended without printing")


async def _ask_pjl(transport: Raw9100Transport, page_count_before: int) -> Outcome:
    status = await transport.status()
    if status.busy or status.needs_attention:
        return Outcome(Verdict.ASK_LATER, why=f"the printer is busy ({status.display or status.code})")
    if status.page_count is None:
        return Outcome(Verdict.UNKNOWN, why="the printer does not report its page counter")
    return _counted(status.page_count - page_count_before)


def _counted(pages: int) -> Outcome:
    if pages > 0:
        return Outcome(Verdict.PRINTED, pages, f"the page counter moved by {pages}")
    return Outcome(Verdict.NOT_PRINTED, why="the page counter did not move")
