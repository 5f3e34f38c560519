"""The fleet's tables, in SQL that SQLite and PostgreSQL both accept: the ``fleet`` component of
the hub's per-component migrations (:data:`COMPONENT`; the hub lists it in its components, a test
or tool opens a database with it alone). ``{id}`` is the engine's auto-increment primary key and
``{blob}`` its byte-string type. Times are ``*_us`` (microseconds since the epoch, hub clock);
booleans are 0/1.

* ``fleet_devices``: one row per device or polled printer: presence (with the session number
  of the connection it was last seen on), the last state document and the facts alerts are
  computed from.
* ``fleet_history``: what changed, per device (presence, state summary, events, alerts,
  commands).
* ``fleet_events``: every event once, by (device, event id): QoS 1 duplicates are dropped.
* ``fleet_alerts``: raised alerts; at most one open (``cleared_us IS NULL``) per ``alert_key``,
  enforced by a partial unique index, so a restarted hub cannot raise one twice.
* ``fleet_alert_outbox``: one row per delivery (raise or clear, per channel), written in the
  same transaction as the alert: nothing is sent twice on purpose, nothing lost in a crash.
* ``fleet_commands``: the audit record of every command: who, when, what, and its result.
* ``fleet_configs``: versions of device and group configuration.
* ``fleet_rollouts`` / ``fleet_rollout_targets``: staged update roll-outs and their devices.
* ``fleet_diagnostics``: uploaded diagnostics bundles.
"""

from __future__ import annotations

from hub_server.storage import Component

__all__ = ["COMPONENT", "MIGRATIONS"]

_FIRST: list[str] = [
    """CREATE TABLE IF NOT EXISTS fleet_devices (
        device_id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('mqtt', 'snmp')),
        group_name TEXT NOT NULL DEFAULT '',
        online INTEGER NOT NULL DEFAULT 0,
        session BIGINT NOT NULL DEFAULT 0,
        last_seen_us BIGINT NOT NULL,
        offline_since_us BIGINT,
        state_json TEXT NOT NULL DEFAULT '{{}}',
        state_session BIGINT NOT NULL DEFAULT 0,
        state_seq BIGINT NOT NULL DEFAULT 0,
        state_us BIGINT,
        software_version TEXT NOT NULL DEFAULT '',
        config_version TEXT NOT NULL DEFAULT '',
        config_notified TEXT NOT NULL DEFAULT '',
        reader_missing_since_us BIGINT,
        mfp_error_since_us BIGINT,
        journal_backlog BIGINT,
        journal_growth INTEGER NOT NULL DEFAULT 0,
        summary_json TEXT NOT NULL DEFAULT '{{}}',
        created_us BIGINT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS fleet_devices_group ON fleet_devices (group_name)",
    """CREATE TABLE IF NOT EXISTS fleet_history (
        id {id},
        device_id TEXT NOT NULL,
        at_us BIGINT NOT NULL,
        kind TEXT NOT NULL,
        summary_json TEXT NOT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS fleet_history_device ON fleet_history (device_id, at_us)",
    """CREATE TABLE IF NOT EXISTS fleet_events (
        device_id TEXT NOT NULL,
        event_id TEXT NOT NULL,
        at_us BIGINT NOT NULL,
        type TEXT NOT NULL,
        severity TEXT NOT NULL,
        payload_json TEXT NOT NULL,
        PRIMARY KEY (device_id, event_id)
    )""",
    """CREATE TABLE IF NOT EXISTS fleet_alerts (
        id TEXT PRIMARY KEY,
        alert_key TEXT NOT NULL,
        device_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        subject TEXT NOT NULL DEFAULT '',
        detail TEXT NOT NULL DEFAULT '',
        raised_us BIGINT NOT NULL,
        cleared_us BIGINT
    )""",
    """CREATE UNIQUE INDEX IF NOT EXISTS fleet_alerts_open
        ON fleet_alerts (alert_key) WHERE cleared_us IS NULL""",
    "CREATE INDEX IF NOT EXISTS fleet_alerts_device ON fleet_alerts (device_id)",
    """CREATE TABLE IF NOT EXISTS fleet_alert_outbox (
        id {id},
        alert_id TEXT NOT NULL REFERENCES fleet_alerts(id),
        transition TEXT NOT NULL CHECK (transition IN ('raised', 'cleared')),
        channel TEXT NOT NULL,
        created_us BIGINT NOT NULL,
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_us BIGINT NOT NULL,
        delivered_us BIGINT,
        last_error TEXT NOT NULL DEFAULT ''
    )""",
    """CREATE INDEX IF NOT EXISTS fleet_alert_outbox_due
        ON fleet_alert_outbox (next_attempt_us) WHERE delivered_us IS NULL""",
    """CREATE TABLE IF NOT EXISTS fleet_commands (
        id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        verb TEXT NOT NULL,
        args_json TEXT NOT NULL,
        issued_by TEXT NOT NULL,
        issued_us BIGINT NOT NULL,
        deadline_us BIGINT NOT NULL,
        status TEXT NOT NULL CHECK (status IN
            ('sent', 'accepted', 'done', 'failed', 'rejected', 'timed_out')),
        detail TEXT NOT NULL DEFAULT '',
        result_json TEXT NOT NULL DEFAULT '{{}}',
        finished_us BIGINT,
        rollout_id TEXT
    )""",
    "CREATE INDEX IF NOT EXISTS fleet_commands_device ON fleet_commands (device_id, issued_us)",
    "CREATE INDEX IF NOT EXISTS fleet_commands_open ON fleet_commands (status, deadline_us)",
    """CREATE TABLE IF NOT EXISTS fleet_configs (
        scope TEXT NOT NULL CHECK (scope IN ('device', 'group')),
        name TEXT NOT NULL,
        version BIGINT NOT NULL CHECK (version >= 1),
        document_json TEXT NOT NULL,
        created_by TEXT NOT NULL,
        created_us BIGINT NOT NULL,
        PRIMARY KEY (scope, name, version)
    )""",
    """CREATE TABLE IF NOT EXISTS fleet_rollouts (
        id TEXT PRIMARY KEY,
        bundle_url TEXT NOT NULL,
        bundle_version TEXT NOT NULL,
        bundle_sha256 TEXT NOT NULL,
        waves_json TEXT NOT NULL,
        max_failure_percent INTEGER NOT NULL,
        kind TEXT NOT NULL DEFAULT '',
        state TEXT NOT NULL CHECK (state IN ('running', 'paused', 'done')),
        current_wave INTEGER NOT NULL,
        pause_reason TEXT NOT NULL DEFAULT '',
        created_by TEXT NOT NULL,
        created_us BIGINT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS fleet_rollout_targets (
        rollout_id TEXT NOT NULL REFERENCES fleet_rollouts(id),
        device_id TEXT NOT NULL,
        wave INTEGER NOT NULL,
        status TEXT NOT NULL,
        detail TEXT NOT NULL DEFAULT '',
        command_id TEXT,
        PRIMARY KEY (rollout_id, device_id)
    )""",
    """CREATE TABLE IF NOT EXISTS fleet_diagnostics (
        command_id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        bundle {blob} NOT NULL,
        size_bytes BIGINT NOT NULL,
        received_us BIGINT NOT NULL
    )""",
]

MIGRATIONS: list[list[str]] = [_FIRST]
COMPONENT = Component("fleet", MIGRATIONS)
