"""The fleet's MQTT contract, shared by the hub (which subscribes and commands) and devices (which
publish and obey): one home for the topics, the payload envelope and its limits.

Topics (``{id}`` is the device id, the CN of the device's certificate)::

    printgate/v1/devices/{id}/status    retained, QoS 1   {"v":1,"online":true|false,"session":N,...}
    printgate/v1/devices/{id}/state     retained, QoS 1   the device's state snapshot
    printgate/v1/devices/{id}/events    QoS 1             faults and recoveries, each with an "id"
    printgate/v1/devices/{id}/cmd       QoS 1, hub->device  {"v":1,"id":...,"verb":...,"args":{...}}
    printgate/v1/devices/{id}/cmd/ack   QoS 1, device->hub  {"v":1,"id":...,"status":...}

Every payload is one UTF-8 JSON object of at most :data:`MAX_PAYLOAD_BYTES` with an integer
schema version ``v``; a reader refuses versions it does not know (:class:`UnsupportedVersion`)
and ignores keys it does not know within a version it knows. No payload ever carries a card
number, a PIN, a password or a user name: :func:`check_no_personal_data` refuses documents with
such keys, and devices run it on everything they publish.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "ACK_STATUSES",
    "COMMAND_VERBS",
    "DIAGNOSTICS_MAX_BYTES",
    "FINAL_ACK_STATUSES",
    "MAX_PAYLOAD_BYTES",
    "PERSONAL_KEYS",
    "SCHEMA_VERSION",
    "TOPIC_ROOT",
    "MalformedPayload",
    "OversizedPayload",
    "PayloadError",
    "UnsupportedVersion",
    "ack_topic",
    "check_command_args",
    "check_no_personal_data",
    "command_topic",
    "decode",
    "encode",
    "events_topic",
    "finite",
    "parse_topic",
    "state_topic",
    "status_topic",
]

SCHEMA_VERSION = 1
TOPIC_ROOT = "printgate/v1/devices"
# A state snapshot is about 1-2 KiB; the broker's limit (docs/fleet.md) is larger than this, so
# the hub's own check is what a device meets first.
MAX_PAYLOAD_BYTES = 32 * 1024
MAX_DEPTH = 8
# A diagnostics bundle (collect_diagnostics, uploaded over gRPC): under the hub's 4 MiB gRPC
# message limit with room for the rest of the request. Devices shrink their log tails to fit.
DIAGNOSTICS_MAX_BYTES = 4 * 1024 * 1024 - 64 * 1024

# Remote operations a device obeys (the device's handlers implement each).
COMMAND_VERBS: tuple[str, ...] = (
    "restart_app",
    "reboot",
    "reload_config",
    "set_log_level",
    "show_message",
    "collect_diagnostics",
    "install_update",
)
# accepted: the device started it; done/failed: its result; rejected: it was never started
# (unknown verb, bad arguments, expired, replayed).
ACK_STATUSES: tuple[str, ...] = ("accepted", "done", "failed", "rejected")
FINAL_ACK_STATUSES: frozenset[str] = frozenset({"done", "failed", "rejected"})

# Keys that would carry a person's identity or secret; never allowed in any payload.
PERSONAL_KEYS: frozenset[str] = frozenset(
    {
        "card",
        "card_number",
        "cardnumber",
        "uid",
        "pin",
        "password",
        "passwd",
        "secret",
        "token",
        "session_token",
        "user",
        "username",
        "user_name",
        "full_name",
        "email",
    }
)

_CHANNELS = ("status", "state", "events", "cmd", "cmd/ack")
_DEVICE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class PayloadError(ValueError):
    """A message the reader cannot use; the message says why (never echoes the payload)."""


class MalformedPayload(PayloadError):
    """Not a UTF-8 JSON object with an integer ``v``, or nested too deep."""


class OversizedPayload(PayloadError):
    """Larger than :data:`MAX_PAYLOAD_BYTES`."""


class UnsupportedVersion(PayloadError):
    """A schema version this reader does not know."""


def _topic(device_id: str, channel: str) -> str:
    if not _DEVICE_ID.match(device_id):
        raise ValueError(f"not a device id: {device_id[:80]!r}")
    return f"{TOPIC_ROOT}/{device_id}/{channel}"


def status_topic(device_id: str) -> str:
    """Retained presence of a device (its last will says ``online: false``)."""
    return _topic(device_id, "status")


def state_topic(device_id: str) -> str:
    """Retained state snapshot of a device."""
    return _topic(device_id, "state")


def events_topic(device_id: str) -> str:
    """Faults and recoveries of a device."""
    return _topic(device_id, "events")


def command_topic(device_id: str) -> str:
    """Commands from the hub to a device."""
    return _topic(device_id, "cmd")


def ack_topic(device_id: str) -> str:
    """A device's answers to commands."""
    return _topic(device_id, "cmd/ack")


def parse_topic(topic: str) -> tuple[str, str] | None:
    """``(device id, channel)`` of a fleet topic (channel one of status, state, events, cmd,
    cmd/ack), or None for anything else."""
    prefix = TOPIC_ROOT + "/"
    if not topic.startswith(prefix):
        return None
    device_id, _, channel = topic[len(prefix) :].partition("/")
    if channel not in _CHANNELS or not _DEVICE_ID.match(device_id):
        return None
    return device_id, channel


def _depth(value: Any, level: int = 0) -> int:
    if level > MAX_DEPTH:
        return level
    if isinstance(value, dict):
        return max((_depth(v, level + 1) for v in value.values()), default=level + 1)
    if isinstance(value, list):
        return max((_depth(v, level + 1) for v in value), default=level + 1)
    return level


def check_no_personal_data(document: Any, path: str = "") -> None:
    """Raise ValueError when any key at any depth of ``document`` names personal data."""
    if isinstance(document, Mapping):
        for key, value in document.items():
            if str(key).lower() in PERSONAL_KEYS:
                raise ValueError(f"personal data key {path}{key!s} is never published")
            check_no_personal_data(value, f"{path}{key!s}.")
    elif isinstance(document, list):
        for item in document:
            check_no_personal_data(item, path)


def _no_constants(name: str) -> float:
    raise MalformedPayload(f"{name} is not JSON")


def encode(document: Mapping[str, Any]) -> bytes:
    """``document`` with ``v`` set, as compact JSON bytes; ValueError when it holds personal data,
    non-finite numbers, or is too large."""
    check_no_personal_data(document)
    payload = json.dumps(
        {"v": SCHEMA_VERSION, **document}, separators=(",", ":"), sort_keys=True, allow_nan=False
    ).encode()
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise OversizedPayload(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    return payload


def decode(payload: bytes) -> dict[str, Any]:
    """The JSON object of a payload, checked: size, UTF-8, an object, depth, and ``v`` =
    :data:`SCHEMA_VERSION`."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        raise OversizedPayload(f"payload of {len(payload)} bytes exceeds {MAX_PAYLOAD_BYTES}")
    try:
        document = json.loads(payload.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise MalformedPayload(f"not UTF-8 JSON: {type(error).__name__}") from None
    if not isinstance(document, dict):
        raise MalformedPayload("not a JSON object")
    version = document.get("v")
    if not isinstance(version, int) or isinstance(version, bool):
        raise MalformedPayload("no integer schema version v")
    if version != SCHEMA_VERSION:
        raise UnsupportedVersion(
            f"schema version {version} is not supported (this reader knows {SCHEMA_VERSION})"
        )
    # Each level opens a bracket, so a payload with few brackets needs no walk (most of them).
    if payload.count(b"{") + payload.count(b"[") > MAX_DEPTH and _depth(document) > MAX_DEPTH:
        raise MalformedPayload(f"nested deeper than {MAX_DEPTH}")
    return document


def finite(value: Any) -> bool:
    """True for an int or a finite float (not bool)."""
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR")
MAX_MESSAGE_CHARS = 500
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+_~-]{0,63}$")


def _text(args: Mapping[str, Any], name: str, limit: int) -> str:
    value = args.get(name)
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise ValueError(f"{name} must be text of 1..{limit} characters")
    return value


def check_command_args(verb: str, args: Any) -> dict[str, Any]:
    """The arguments of a command, checked for its verb (ValueError says what is wrong):

    * ``restart_app``, ``reboot``, ``collect_diagnostics``: none;
    * ``reload_config``: ``version`` (the configuration version to fetch);
    * ``set_log_level``: ``level``, one of DEBUG, INFO, WARNING, ERROR;
    * ``show_message``: ``text`` (1..500 characters) and ``duration_s`` (1..86400);
    * ``install_update``: ``url`` of the signed bundle, its ``version`` and ``sha256``.
    """
    if verb not in COMMAND_VERBS:
        raise ValueError(f"unknown verb {verb[:40]!r}")
    if not isinstance(args, Mapping):
        raise ValueError("args must be an object")
    expected = {
        "restart_app": set(),
        "reboot": set(),
        "collect_diagnostics": set(),
        "reload_config": {"version"},
        "set_log_level": {"level"},
        "show_message": {"text", "duration_s"},
        "install_update": {"url", "version", "sha256"},
    }[verb]
    if set(args) != expected:
        raise ValueError(f"{verb} takes {sorted(expected) or 'no arguments'}, not {sorted(map(str, args))}")
    if verb == "reload_config":
        return {"version": _text(args, "version", 64)}
    if verb == "set_log_level":
        if args["level"] not in LOG_LEVELS:
            raise ValueError(f"level must be one of {LOG_LEVELS}")
        return {"level": args["level"]}
    if verb == "show_message":
        duration = args["duration_s"]
        if not isinstance(duration, int) or isinstance(duration, bool) or not 1 <= duration <= 86_400:
            raise ValueError("duration_s must be 1..86400")
        return {"text": _text(args, "text", MAX_MESSAGE_CHARS), "duration_s": duration}
    if verb == "install_update":
        url = _text(args, "url", 2048)
        if not url.startswith(("https://", "file://")):
            raise ValueError("url must be https:// (or file:// for a bundle already on the device)")
        if not _VERSION.match(str(args["version"])) or not _SHA256.match(str(args["sha256"])):
            raise ValueError("version must be a version string and sha256 64 lower-case hex digits")
        return {"url": url, "version": args["version"], "sha256": args["sha256"]}
    return {}
