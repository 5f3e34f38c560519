"""Alert delivery: by webhook (an HTTP POST of JSON) and by e-mail (SMTP), from the outbox.

Each outbox row is one transition of one alert for one channel. The dispatcher *claims* a due
row (a conditional UPDATE that pushes its next attempt out by a lease, so two replicas never
send the same row at once), sends it, and marks it delivered; a failure is retried with
exponential backoff up to ``max_attempts``. Delivery is at least once: the payload carries
``delivery_id`` (also the webhook's ``Idempotency-Key`` header) for receivers that must not
count a retry twice. Webhooks are signed when a secret is configured:
``X-Printgate-Signature: sha256=<hex HMAC-SHA256 of the body>``.
"""

from __future__ import annotations

import asyncio
import datetime
import email.message
import hashlib
import hmac
import json
import logging
import smtplib
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from printgate.waiting import wait_at_most

from hub_server.clock import Clock
from hub_server.storage.base import Database, Tx

__all__ = ["AlertDispatcher", "Channel", "EmailChannel", "EmailSettings", "WebhookChannel", "alert_document"]

log = logging.getLogger(__name__)
_US = 1_000_000
LEASE_S = 60
BATCH = 50


def alert_document(row: Mapping[str, Any]) -> dict[str, Any]:
    """What a receiver gets for one outbox row (joined with its alert)."""

    def iso(us: int | None) -> str | None:
        if us is None:
            return None
        return datetime.datetime.fromtimestamp(us / _US, datetime.UTC).isoformat(timespec="seconds")

    return {
        "v": 1,
        "delivery_id": f"{row['alert_id']}:{row['transition']}",
        "alert_id": row["alert_id"],
        "transition": row["transition"],
        "device_id": row["device_id"],
        "kind": row["kind"],
        "subject": row["subject"],
        "detail": row["detail"],
        "raised_at": iso(row["raised_us"]),
        "cleared_at": iso(row["cleared_us"]),
    }


class Channel(Protocol):
    """One way of telling people; :meth:`send` blocks (it runs in a worker thread)."""

    @property
    def name(self) -> str:
        """The channel's name in the outbox."""

    def send(self, document: dict[str, Any]) -> None:
        """Deliver or raise."""


@dataclass(frozen=True)
class WebhookChannel:
    """POST the alert document as JSON to ``url``."""

    url: str
    secret: str = ""
    timeout_s: float = 10.0
    name: str = "webhook"

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://")):
            raise ValueError("[fleet.alerts] webhook_url must be http(s)://")

    def send(self, document: dict[str, Any]) -> None:
        body = json.dumps(document, sort_keys=True).encode()
        request = urllib.request.Request(self.url, data=body, method="POST")
        request.add_header("Content-Type", "application/json")
        request.add_header("Idempotency-Key", document["delivery_id"])
        if self.secret:
            signature = hmac.new(self.secret.encode(), body, hashlib.sha256).hexdigest()
            request.add_header("X-Printgate-Signature", f"sha256={signature}")
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            if not 200 <= response.status < 300:
                raise OSError(f"webhook answered {response.status}")


@dataclass(frozen=True)
class EmailSettings:
    """Where alert mails go (the ``[fleet.alerts]`` smtp_* keys)."""

    host: str
    port: int = 25
    sender: str = "printgate@localhost"
    recipients: tuple[str, ...] = ()
    starttls: bool = False
    username: str = ""
    password: str = field(default="", repr=False)
    timeout_s: float = 15.0


@dataclass(frozen=True)
class EmailChannel:
    """One plain-text mail per transition to every recipient."""

    settings: EmailSettings
    name: str = "email"

    def send(self, document: dict[str, Any]) -> None:
        settings = self.settings
        message = email.message.EmailMessage()
        state = "RAISED" if document["transition"] == "raised" else "cleared"
        subject = f" {document['subject']}" if document["subject"] else ""
        message["Subject"] = f"[printgate] {state}: {document['kind']}{subject} on {document['device_id']}"
        message["From"] = settings.sender
        message["To"] = ", ".join(settings.recipients)
        message["Message-ID"] = f"<{document['delivery_id'].replace(':', '.')}@printgate>"
        lines = [f"{key}: {value}" for key, value in document.items() if value is not None and key != "v"]
        message.set_content("\n".join(lines) + "\n")
        with smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s) as smtp:
            if settings.starttls:
                smtp.starttls()
            if settings.username:
                smtp.login(settings.username, settings.password)
            smtp.send_message(message)


def _claim(tx: Tx, now_us: int) -> list[dict[str, Any]]:
    due = tx.execute(
        "SELECT o.id FROM fleet_alert_outbox o WHERE o.delivered_us IS NULL AND o.next_attempt_us <= :now "
        "ORDER BY o.id LIMIT :limit",
        {"now": now_us, "limit": BATCH},
    )
    claimed = []
    for row in due:
        got = tx.execute(
            "UPDATE fleet_alert_outbox SET next_attempt_us = :lease, attempts = attempts + 1 "
            "WHERE id = :id AND delivered_us IS NULL AND next_attempt_us <= :now RETURNING id",
            {"lease": now_us + LEASE_S * _US, "id": row["id"], "now": now_us},
        )
        if got:
            claimed.append(row["id"])
    if not claimed:
        return []
    marks = ", ".join(f":i{n}" for n in range(len(claimed)))
    rows = tx.execute(
        "SELECT o.id, o.alert_id, o.transition, o.channel, o.attempts, a.device_id, a.kind, a.subject, "
        "a.detail, a.raised_us, a.cleared_us "
        "FROM fleet_alert_outbox o JOIN fleet_alerts a ON a.id = o.alert_id "
        f"WHERE o.id IN ({marks}) ORDER BY o.id",
        {f"i{n}": value for n, value in enumerate(claimed)},
    )
    return [dict(row) for row in rows]


class AlertDispatcher:
    """Delivers the outbox through ``channels``; :meth:`run_once` is one pass, :meth:`run` loops."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        channels: Mapping[str, Channel],
        *,
        max_attempts: int = 12,
        retry_base_s: float = 5.0,
    ) -> None:
        self._db = db
        self._clock = clock
        self.channels = dict(channels)
        self.max_attempts = max_attempts
        self.retry_base_s = retry_base_s
        self.delivered = 0
        self.failures = 0
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Something was written to the outbox: deliver now rather than at the next poll."""
        self._wake.set()

    async def run_once(self) -> int:
        """Deliver what is due; how many rows were delivered."""
        rows = await self._db.write(lambda tx: _claim(tx, self._clock.now_us()))
        delivered = 0
        for row in rows:
            channel = self.channels.get(row["channel"])
            error = "channel not configured" if channel is None else ""
            if channel is not None:
                try:
                    await asyncio.to_thread(channel.send, alert_document(row))
                except (OSError, smtplib.SMTPException, urllib.error.URLError) as failure:
                    error = f"{type(failure).__name__}: {failure}"[:300]
            await self._db.write(self._settler(row, error))
            if error:
                self.failures += 1
                log.warning(
                    "alert delivery by %s failed (attempt %d): %s", row["channel"], row["attempts"], error
                )
            else:
                delivered += 1
        self.delivered += delivered
        return delivered

    def _settler(self, row: Mapping[str, Any], error: str) -> Callable[[Tx], None]:
        return lambda tx: self._settle(tx, row, error)

    def _settle(self, tx: Tx, row: Mapping[str, Any], error: str) -> None:
        now_us = self._clock.now_us()
        if not error:
            tx.execute(
                "UPDATE fleet_alert_outbox SET delivered_us = :now WHERE id = :id",
                {"now": now_us, "id": row["id"]},
            )
            return
        if row["attempts"] >= self.max_attempts:
            # Give up: keep the row (undelivered, never due again) for the admin to see.
            next_us = 2**62
        else:
            next_us = now_us + int(self.retry_base_s * 2 ** (row["attempts"] - 1) * _US)
        tx.execute(
            "UPDATE fleet_alert_outbox SET next_attempt_us = :next, last_error = :error WHERE id = :id",
            {"next": next_us, "error": error, "id": row["id"]},
        )

    async def run(self, poll_s: float = 5.0) -> None:
        """Deliver until cancelled."""
        while True:
            try:
                await self.run_once()
            except Exception:  # keep delivering after a database hiccup
                log.exception("alert dispatcher pass failed")
            self._wake.clear()
            await wait_at_most(self._wake.wait(), poll_s)
