"""``printgate admin fleet ...``: terminals, kiosks and printers as the fleet sees them (over
FleetAdminService): live state, history, alerts, remote commands with an audit record, central
configuration by device and group, and staged update roll-outs."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from google.protobuf.message import Message
from printgate.v1 import fleet_pb2

from admin_cli.errors import UsageError
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
SENT_COLUMNS = ("id", "device_id", "verb", "status")
COMMAND_COLUMNS = ("id", "device_id", "verb", "args_json", "issued_by", "issued_at", "status", "detail")
ALERT_COLUMNS = ("id", "device_id", "kind", "subject", "detail", "raised_at", "cleared_at")
HISTORY_COLUMNS = ("at", "kind", "summary_json")
CONFIG_COLUMNS = ("scope", "name", "version", "created_by", "created_at", "document_json")
ROLLOUT_COLUMNS = (
    "id",
    "bundle_version",
    "state",
    "current_wave",
    "waves",
    "max_failure_percent",
    "created_by",
    "pause_reason",
)
TARGET_COLUMNS = ("device_id", "wave", "status", "detail", "command_id")
SCOPES = {"device": fleet_pb2.CONFIG_SCOPE_DEVICE, "group": fleet_pb2.CONFIG_SCOPE_GROUP}
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


def _fleet_command(args: argparse.Namespace) -> Message:
    return fleet_pb2.SendFleetCommandRequest(
        verb=args.action,
        args_json=json.dumps(dict(args.arguments)),
        timeout_s=args.command_timeout_s,
        kind=args.kind,
        group=args.group,
    )


def _fleet_commands_footer(reply: Any, args: argparse.Namespace) -> str:
    return f"{len(reply.commands)} commands sent (each one's result: printgate admin fleet command-status ID)"


def _command_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("action", metavar="VERB", help="the command, e.g. set_log_level")
    parser.add_argument(
        "arguments",
        metavar="NAME=VALUE",
        nargs="*",
        type=command_argument,
        help="its arguments, e.g. level=DEBUG, or text='Out of order' duration_s=600",
    )
    parser.add_argument(
        "--command-timeout-s", type=int, default=0, metavar="S", help="its deadline (0: the verb's default)"
    )


def _wave(text: str) -> fleet_pb2.RolloutWave:
    """``25`` (cumulative percent of the targets) or ``group:NAME``."""
    if text.startswith("group:") and len(text) > len("group:"):
        return fleet_pb2.RolloutWave(group=text.removeprefix("group:"))
    if text.isdigit() and 0 < int(text) <= 100:
        return fleet_pb2.RolloutWave(percent=int(text))
    raise argparse.ArgumentTypeError(f"a wave is a percent 1..100 or group:NAME, not {text}")


def _scope(args: argparse.Namespace) -> tuple[Any, str]:
    return (SCOPES["device"], args.device) if args.device else (SCOPES["group"], args.group)


def _config_put(args: argparse.Namespace) -> Message:
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {args.file}: {getattr(error, 'strerror', None) or error}") from None
    scope, name = _scope(args)
    return fleet_pb2.PutConfigRequest(scope=scope, name=name, document_json=text)


def _config_get(args: argparse.Namespace) -> Message:
    scope, name = _scope(args)
    return fleet_pb2.GetConfigRequest(scope=scope, name=name, version=args.version)


def _scope_options(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--device", metavar="ID", help="one device's own settings")
    which.add_argument("--group", metavar="NAME", help="a group's settings (a device's own win)")


def _rollout_start(args: argparse.Namespace) -> Message:
    return fleet_pb2.StartRolloutRequest(
        bundle_url=args.url,
        bundle_version=args.version,
        bundle_sha256=args.sha256,
        waves=args.waves,
        max_failure_percent=args.max_failure_percent,
        kind=args.kind,
    )


def _rollout_report(reply: Any, args: argparse.Namespace) -> str:
    waves = ", ".join(f"group {w.group}" if w.group else f"{w.percent} %" for w in reply.waves)
    head = record(reply, tuple(c for c in ROLLOUT_COLUMNS if c != "waves"))
    targets = table(reply.targets, TARGET_COLUMNS) if reply.targets else "(no devices)"
    return f"{head}\nwaves                {waves}\n{targets}"


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
    _command_arguments(command)
    fleet_command = verbs.add(
        "command-all",
        "send every terminal and kiosk (or those of one kind or group) the same command; one audit "
        "record per device, recorded with the admin's name",
        Verb(
            "SendFleetCommand",
            _fleet_command,
            table_of("commands", SENT_COLUMNS, _fleet_commands_footer),
            service=FLEET,
        ),
    )
    _command_arguments(fleet_command)
    fleet_command.add_argument("--kind", choices=("terminal", "kiosk"), default="", help="only this kind")
    fleet_command.add_argument("--group", default="", metavar="GROUP", help="only the devices of this group")
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
    _add_configuration_verbs(verbs)
    _add_rollout_verbs(verbs)


def _add_configuration_verbs(verbs: VerbTable) -> None:
    put = verbs.add(
        "config-put",
        "store a new version of a device's or a group's central configuration (a JSON object); the "
        "devices it changes are told to reload it",
        Verb("PutConfig", _config_put, record_of(CONFIG_COLUMNS), service=FLEET),
    )
    _scope_options(put)
    put.add_argument("--file", required=True, metavar="PATH", help="the JSON document ('-': stdin)")
    show = verbs.add(
        "config-show",
        "a device's or a group's central configuration (the latest version, or --version N)",
        Verb("GetConfig", _config_get, record_of(CONFIG_COLUMNS), service=FLEET),
    )
    _scope_options(show)
    show.add_argument("--version", type=int, default=0, help="0: the latest")
    verbs.add(
        "group",
        "put a device into a configuration group ('' for none)",
        Verb(
            "SetDeviceGroup",
            lambda a: fleet_pb2.SetDeviceGroupRequest(device_id=a.id, group=a.group),
            record_of(DEVICE_COLUMNS),
            service=FLEET,
        ),
        "id",
        "group",
    )


def _add_rollout_verbs(verbs: VerbTable) -> None:
    start = verbs.add(
        "rollout-start",
        "install a signed update bundle in waves; a wave failing more than --max-failure-percent "
        "pauses the roll-out",
        Verb("StartRollout", _rollout_start, _rollout_report, service=FLEET),
    )
    start.add_argument("--url", required=True, help="the bundle (https:// or file://)")
    start.add_argument("--version", required=True, help="the software version it installs")
    start.add_argument("--sha256", required=True, help="the bundle's SHA-256 (hex)")
    start.add_argument(
        "--wave",
        dest="waves",
        action="append",
        type=_wave,
        required=True,
        metavar="PERCENT|group:NAME",
        help="one wave (repeat, in order): a cumulative percent of the devices, or a group",
    )
    start.add_argument("--max-failure-percent", type=int, default=10)
    start.add_argument("--kind", default="", choices=("", "terminal", "kiosk"), help="only these devices")
    for name, method, text in (
        ("rollout-show", "GetRollout", "a roll-out, wave by wave and device by device"),
        ("rollout-pause", "PauseRollout", "pause a roll-out (no new wave starts)"),
        ("rollout-resume", "ResumeRollout", "resume a paused roll-out"),
    ):
        verbs.add(
            name,
            text,
            Verb(method, lambda a: fleet_pb2.RolloutRef(id=a.id), _rollout_report, service=FLEET),
            "id",
        )
