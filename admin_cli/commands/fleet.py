"""``printgate admin fleet ...``: terminals, kiosks and printers as the fleet sees them (over
FleetAdminService): live state, history, alerts, and remote commands with an audit record."""

from __future__ import annotations

import argparse
import json
from typing import Any

from google.protobuf.message import Message
from printgate.v1 import fleet_pb2

from admin_cli.render import record, record_of, table, table_of
from admin_cli.verbs import Verb, VerbTable

DEVICE_COLUMNS = (
    "id",
    "kind",
    "group",
    "online",
    "last_seen",
    "software_version",
    "config_version",
    "source",
    "open_alerts",
)
COMMAND_COLUMNS = ("id", "device_id", "verb", "args_json", "issued_by", "issued_at", "status", "detail")
ALERT_COLUMNS = ("id", "device_id", "kind", "subject", "detail", "raised_at", "cleared_at")
HISTORY_COLUMNS = ("at", "kind", "summary_json")
FLEET = "fleet"


def command_argument(text: str) -> tuple[str, Any]:
    """``NAME=VALUE``; a value of digits is a number (``duration_s=30``), anything else text."""
    name, separator, value = text.partition("=")
    if not separator or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, not {text}")
    return name, int(value) if value.isdigit() else value


def _command(args: argparse.Namespace) -> Message:
    return fleet_pb2.SendCommandRequest(
        device_id=args.id,
        verb=args.action,
        args_json=json.dumps(dict(args.arguments)),
        timeout_s=args.command_timeout_s,
    )


def _device_report(reply: Any, args: argparse.Namespace) -> str:
    parts = [record(reply.device, DEVICE_COLUMNS)]
    state = json.loads(reply.state_json or "{}")
    parts.append("state:\n" + (json.dumps(state, indent=2, sort_keys=True) if state else "(none reported)"))
    parts.append("open alerts:\n" + (table(reply.alerts, ALERT_COLUMNS) if reply.alerts else "(none)"))
    commands = table(reply.recent_commands, COMMAND_COLUMNS) if reply.recent_commands else "(none)"
    parts.append("recent commands:\n" + commands)
    return "\n".join(parts)


def _command_sent(reply: Any, args: argparse.Namespace) -> str:
    return f"{record(reply, COMMAND_COLUMNS)}\n(its result: printgate admin fleet command-status {reply.id})"


def _final_failure(reply: Any) -> str | None:
    if reply.status in ("failed", "rejected", "timed_out"):
        return f"command {reply.id} {reply.status}: {reply.detail}"
    return None


def add_verbs(verbs: VerbTable) -> None:
    verbs.group("fleet", "fleet management: live device state, alerts and remote commands")
    listing = verbs.add(
        "list",
        "list every terminal, kiosk and printer the fleet knows",
        Verb(
            "ListDevices",
            lambda a: fleet_pb2.ListDevicesRequest(kind=a.kind, group=a.in_group, offline_only=a.offline),
            table_of("devices", DEVICE_COLUMNS),
            service=FLEET,
        ),
    )
    listing.add_argument("--kind", default="", choices=("", "terminal", "kiosk", "printer"))
    listing.add_argument("--group", dest="in_group", default="", help="only this device group")
    listing.add_argument("--offline", action="store_true", help="only devices that are offline")
    verbs.add(
        "show",
        "one device: its state as last reported, open alerts and recent commands",
        Verb("ShowDevice", lambda a: fleet_pb2.DeviceRef(id=a.id), _device_report, service=FLEET),
        "id",
    )
    history = verbs.add(
        "history",
        "what changed on a device, newest first (presence, state, events, alerts, commands)",
        Verb(
            "DeviceHistory",
            lambda a: fleet_pb2.DeviceHistoryRequest(id=a.id, limit=a.limit),
            table_of("entries", HISTORY_COLUMNS),
            service=FLEET,
        ),
        "id",
    )
    history.add_argument("--limit", type=int, default=100, help="at most this many entries (up to 1000)")
    command = verbs.add(
        "command",
        "send a device a command (restart_app, reboot, reload_config, set_log_level, show_message, "
        "collect_diagnostics, install_update); recorded with the admin's name",
        Verb("SendCommand", _command, _command_sent, service=FLEET),
        "id",
    )
    command.add_argument("action", metavar="VERB", help="the command, e.g. set_log_level")
    command.add_argument(
        "arguments",
        metavar="NAME=VALUE",
        nargs="*",
        type=command_argument,
        help="its arguments, e.g. level=DEBUG, or text='Out of order' duration_s=600",
    )
    command.add_argument(
        "--command-timeout-s", type=int, default=0, metavar="S", help="its deadline (0: the verb's default)"
    )
    verbs.add(
        "command-status",
        "a command's audit record and result (exit 1 when it failed, was rejected or timed out)",
        Verb(
            "GetCommand",
            lambda a: fleet_pb2.CommandRef(id=a.id),
            record_of(("result_json", "finished_at", *COMMAND_COLUMNS)),
            verdict=_final_failure,
            service=FLEET,
        ),
        "id",
    )
    alerts = verbs.add(
        "alerts",
        "open alerts (offline, reader missing, MFP in error, toner low, certificate expiring, "
        "journal backlog)",
        Verb(
            "ListAlerts",
            lambda a: fleet_pb2.ListAlertsRequest(include_cleared=a.all, device_id=a.device),
            table_of("alerts", ALERT_COLUMNS),
            service=FLEET,
        ),
    )
    alerts.add_argument("--all", action="store_true", help="cleared alerts too")
    alerts.add_argument("--device", default="", help="only this device's")
