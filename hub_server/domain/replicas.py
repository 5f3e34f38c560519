"""Which hub replica owns which release in progress, so that one replica's start or sweep never
undoes another's live release.

A release in progress (``print_releases`` in ``releasing`` or ``sent``) is owned by the replica
that started it (``release_owners``). Each replica has a stable id (a file in its data directory)
and writes a heartbeat (``hub_replicas``) every :data:`HEARTBEAT_S`. Recovery, which fails
attempts never sent and settles those sent, takes:

* at start, the attempts of this replica (the process that started them is dead: it is us,
  restarted) — and of replicas silent for :data:`REPLICA_SILENT_S`;
* in the periodic sweep, only those of silent replicas (one killed for good, never restarted).

Attempts without an owner row predate replicas and are recovered as before. The recovery steps
themselves are conditional on the attempt's state, so two replicas recovering the same attempt
at once apply it once.
"""

from __future__ import annotations

import secrets
from pathlib import Path

from hub_server.storage import Component, Tx
from hub_server.storage.private import private_file

__all__ = [
    "HEARTBEAT_S",
    "REPLICAS",
    "REPLICA_SILENT_S",
    "beat",
    "claim",
    "load_or_create_replica_id",
    "orphaned",
]

HEARTBEAT_S = 5.0
# Twelve missed heartbeats: a replica this silent is dead (or so stalled that its releases are
# better failed back to the queue than left hanging).
REPLICA_SILENT_S = 60.0

REPLICAS = Component(
    "replicas",
    [
        [
            "CREATE TABLE hub_replicas (replica_id TEXT PRIMARY KEY, heartbeat_us BIGINT NOT NULL)",
            """CREATE TABLE release_owners (
                attempt_id BIGINT PRIMARY KEY REFERENCES print_releases(id),
                replica_id TEXT NOT NULL
            )""",
        ]
    ],
)


def load_or_create_replica_id(path: Path) -> str:
    """This replica's id, kept in its data directory (created on first start, mode 0600 like
    every file there, tightened when found looser)."""
    private_file(path)
    replica_id = path.read_text().strip()
    if not replica_id:
        replica_id = secrets.token_hex(8)
        path.write_text(replica_id + "\n")
    return replica_id


def beat(tx: Tx, replica_id: str, now_us: int) -> None:
    """Record that ``replica_id`` is alive now."""
    tx.execute(
        "INSERT INTO hub_replicas (replica_id, heartbeat_us) VALUES (:r, :t)"
        " ON CONFLICT (replica_id) DO UPDATE SET heartbeat_us = excluded.heartbeat_us",
        {"r": replica_id, "t": now_us},
    )


def claim(tx: Tx, attempt_id: int, replica_id: str) -> None:
    """``replica_id`` owns the release attempt it is inserting in this transaction."""
    tx.execute(
        "INSERT INTO release_owners (attempt_id, replica_id) VALUES (:a, :r)",
        {"a": attempt_id, "r": replica_id},
    )


def orphaned(tx: Tx, replica_id: str, now_us: int, *, own: bool) -> list[tuple[int, str]]:
    """(attempt id, state) of releases in progress no live replica owns: those of silent
    replicas, without an owner, and (``own``: at this replica's start) this replica's."""
    rows = tx.execute(
        """SELECT r.id, r.state FROM print_releases r
           LEFT JOIN release_owners o ON o.attempt_id = r.id
           LEFT JOIN hub_replicas h ON h.replica_id = o.replica_id
           WHERE r.state IN ('releasing', 'sent')
             AND (o.replica_id IS NULL
                  OR (o.replica_id = :me AND :own = 1)
                  OR (o.replica_id <> :me AND (h.heartbeat_us IS NULL OR h.heartbeat_us < :silent)))
           ORDER BY r.id""",
        {"me": replica_id, "own": int(own), "silent": now_us - int(REPLICA_SILENT_S * 1_000_000)},
    )
    return [(int(row["id"]), str(row["state"])) for row in rows]
