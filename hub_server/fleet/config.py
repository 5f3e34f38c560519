"""The ``[fleet]`` tables of hub.toml, every key optional::

[fleet]
enabled = false               # run the fleet component (needs a broker)
broker = "127.0.0.1:8883"     # the Mosquitto TLS listener (host:port)
replica = "fleet"             # this hub's name at the broker: printgate-hub@<replica>
sweep_interval_s = 15         # time-based alerts, command time-outs, roll-outs
snmp_poll_s = 60              # printers without a terminal
snmp_community = "public"
crl_file = ""                 # keep the broker's crlfile current here (its .path unit reloads it)

[fleet.printers]              # printer name (its fleet id) -> SNMP agent "host[:port]"
"floor-2-east" = "10.0.0.12"

[fleet.alerts]
offline_after_s = 600
reader_missing_after_s = 60
mfp_error_after_s = 900
toner_below_percent = 10
certificate_within_s = 604800
journal_growth_reports = 3
journal_backlog_max = 500
webhook_url = ""              # POST JSON here on every raise and clear
webhook_secret = ""           # HMAC-SHA256 signature header when set
smtp_host = ""                # e-mail alerts when set
smtp_port = 25
smtp_from = "printgate@localhost"
smtp_to = []
smtp_starttls = false
smtp_username = ""
smtp_password = ""
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from hub_server.fleet.alerts import AlertThresholds
from hub_server.fleet.delivery import Channel, EmailChannel, EmailSettings, WebhookChannel
from hub_server.fleet.snmp import PrinterTarget

__all__ = ["FleetConfig"]


def _pick(cls: type, table: Mapping[str, Any]) -> dict[str, Any]:
    names = {f.name for f in fields(cls)}
    unknown = set(table) - names
    if unknown:
        raise ValueError(f"unknown keys {sorted(unknown)}")
    return dict(table)


@dataclass(frozen=True)
class FleetConfig:
    """The fleet's settings (see the module docstring)."""

    enabled: bool = False
    broker: str = "127.0.0.1:8883"
    replica: str = "fleet"
    sweep_interval_s: float = 15.0
    snmp_poll_s: float = 60.0
    snmp_community: str = "public"
    crl_file: str = ""
    printers: dict[str, str] = field(default_factory=dict)
    thresholds: AlertThresholds = field(default_factory=AlertThresholds)
    webhook_url: str = ""
    webhook_secret: str = field(default="", repr=False)
    email: EmailSettings | None = None

    @classmethod
    def from_toml(cls, table: Mapping[str, Any]) -> FleetConfig:
        """From the ``[fleet]`` table (with its ``printers`` and ``alerts`` sub-tables)."""
        table = dict(table)
        printers = dict(table.pop("printers", {}))
        alerts = dict(table.pop("alerts", {}))
        delivery = {key: alerts.pop(key) for key in list(alerts) if key.startswith(("webhook_", "smtp_"))}
        try:
            thresholds = AlertThresholds(**_pick(AlertThresholds, alerts))
        except (TypeError, ValueError) as error:
            raise ValueError(f"[fleet.alerts] {error}") from None
        email = None
        if delivery.get("smtp_host"):
            email = EmailSettings(
                host=delivery["smtp_host"],
                port=int(delivery.get("smtp_port", 25)),
                sender=delivery.get("smtp_from", "printgate@localhost"),
                recipients=tuple(delivery.get("smtp_to", ())),
                starttls=bool(delivery.get("smtp_starttls", False)),
                username=delivery.get("smtp_username", ""),
                password=delivery.get("smtp_password", ""),
            )
        allowed = {f.name for f in fields(cls)} - {
            "printers",
            "thresholds",
            "email",
            "webhook_url",
            "webhook_secret",
        }
        unknown = set(table) - allowed
        if unknown:
            raise ValueError(f"[fleet] unknown keys {sorted(unknown)}")
        return cls(
            printers=printers,
            thresholds=thresholds,
            webhook_url=delivery.get("webhook_url", ""),
            webhook_secret=delivery.get("webhook_secret", ""),
            email=email,
            **table,
        )

    @property
    def broker_address(self) -> tuple[str, int]:
        host, _, port = self.broker.rpartition(":")
        return host.strip("[]"), int(port)

    def channels(self) -> dict[str, Channel]:
        """The alert delivery channels configured."""
        found: dict[str, Channel] = {}
        if self.webhook_url:
            found["webhook"] = WebhookChannel(self.webhook_url, self.webhook_secret)
        if self.email is not None:
            found["email"] = EmailChannel(self.email)
        return found

    def printer_targets(self) -> list[PrinterTarget]:
        return [
            PrinterTarget.parse(name, address, self.snmp_community)
            for name, address in sorted(self.printers.items())
        ]
