"""``SqlUserStore``: the :class:`~hub_server.dirsync.UserStore` of directory sync over the hub's
database. It lives in the domain because it knows the hub's tables; the dirsync subpackage itself
imports nothing of the hub.

This is the only module that knows the hub's tables (users, user_groups,
group_members, user_roles, cards, accounts) and its naming rules. Its own tables are the
``directory`` component of the hub's migrations (:data:`DIRECTORY`): each directory user's
stable id (``directory_links``), the groups each source manages (``directory_groups``), the
record of runs (``directory_runs``) and the schedule lease (``directory_schedule``: which hub
process runs the scheduled syncs, and when the next round is due).

A sync plan is applied in one write transaction with set-wise statements (multi-row INSERTs of
at most :data:`ROWS_PER_STATEMENT` rows), so a first sync of 100,000 users is a few thousand
statements, not a million.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hub_server.dirsync import CardHolding, DirectoryUser, HubState, HubUser, Link, Plan, RunRecord, UserPlan
from hub_server.domain import account_names, cards, users, validation
from hub_server.storage import Component, Database, Tx

__all__ = ["DIRECTORY", "SqlUserStore"]

ROWS_PER_STATEMENT = 500
SYNCED_LABEL = "directory:"  # cards.label of a card a sync linked: "directory:<source>"

# Migration 1 keeps "IF NOT EXISTS": databases of the directory sync's first tests made these
# tables before the sync became a component, and are adopted as they are.
_MIGRATION_1: list[str] = [
    """CREATE TABLE IF NOT EXISTS directory_links (
        user_id BIGINT PRIMARY KEY REFERENCES users(id),
        source TEXT NOT NULL,
        stable_id TEXT NOT NULL,
        dn TEXT NOT NULL,
        linked_us BIGINT NOT NULL,
        UNIQUE (source, stable_id)
    )""",
    """CREATE TABLE IF NOT EXISTS directory_groups (
        group_id BIGINT PRIMARY KEY REFERENCES user_groups(id),
        source TEXT NOT NULL
    )""",
    """CREATE TABLE IF NOT EXISTS directory_runs (
        id {id},
        source TEXT NOT NULL,
        started_us BIGINT NOT NULL,
        finished_us BIGINT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('applied', 'dry-run', 'refused', 'failed')),
        dry_run INTEGER NOT NULL DEFAULT 0,
        forced INTEGER NOT NULL DEFAULT 0,
        server TEXT NOT NULL DEFAULT '',
        counts TEXT NOT NULL DEFAULT '{{}}',
        message TEXT NOT NULL DEFAULT ''
    )""",
    "CREATE INDEX IF NOT EXISTS directory_runs_source ON directory_runs (source, id)",
    # one row: the hub process holding the schedule until lease_until_us, and the next round
    """CREATE TABLE IF NOT EXISTS directory_schedule (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        holder TEXT NOT NULL,
        lease_until_us BIGINT NOT NULL,
        next_run_us BIGINT NOT NULL
    )""",
]
DIRECTORY = Component("directory", [_MIGRATION_1])
MAX_RUN_MESSAGE = 4000


def _chunks(rows: Sequence[Any], size: int = ROWS_PER_STATEMENT) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def insert_many(
    tx: Tx, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], suffix: str = ""
) -> list[dict[str, Any]]:
    """Multi-row INSERT in chunks; returns the rows of ``suffix`` (e.g. a RETURNING clause)."""
    returned: list[dict[str, Any]] = []
    for chunk in _chunks(rows):
        params: dict[str, Any] = {}
        groups = []
        for r, row in enumerate(chunk):
            names = [f"{c}_{r}" for c in columns]
            params.update(zip(names, row, strict=True))
            groups.append("(" + ", ".join(f":{n}" for n in names) + ")")
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join(groups)} {suffix}"
        returned.extend(dict(row) for row in tx.execute(sql, params))
    return returned


def _in_list(values: Sequence[Any], prefix: str) -> tuple[str, dict[str, Any]]:
    names = [f"{prefix}{i}" for i in range(len(values))]
    return ", ".join(f":{n}" for n in names), dict(zip(names, values, strict=True))


_SEPARATOR = "\x1f"  # never in a group or role name (the hub refuses control characters)
_AGGREGATE = {"sqlite": "GROUP_CONCAT({0}, char(31))", "postgresql": "STRING_AGG({0}, chr(31))"}


def read_state(tx: Tx, source: str, dialect: str) -> HubState:
    """The hub's users, cards and groups as the sync compares them (inside ``tx``).

    Groups and roles come aggregated per user, so 100,000 users are 100,000 rows, not 500,000.
    """
    aggregate = _AGGREGATE[dialect]
    users: dict[int, HubUser] = {}
    for row in tx.execute(
        f"""SELECT u.id, u.username, u.full_name, u.email, u.active, u.pin_lookup, g.name AS department,
                  l.source, l.stable_id, l.dn,
                  (SELECT {aggregate.format("mg.name")} FROM group_members m
                   JOIN user_groups mg ON mg.id = m.group_id
                   WHERE m.user_id = u.id) AS groups,
                  (SELECT {aggregate.format("r.role_name")} FROM user_roles r WHERE r.user_id = u.id) AS roles
           FROM users u
           LEFT JOIN user_groups g ON g.id = u.department_id
           LEFT JOIN directory_links l ON l.user_id = u.id"""
    ):
        user_id = int(row["id"])
        users[user_id] = HubUser(
            user_id=user_id,
            username=row["username"],
            full_name=row["full_name"],
            email=row["email"],
            department=row["department"] or "",
            active=bool(row["active"]),
            groups=frozenset(row["groups"].split(_SEPARATOR)) if row["groups"] else frozenset(),
            roles=frozenset(row["roles"].split(_SEPARATOR)) if row["roles"] else frozenset(),
            pin_lookup=row["pin_lookup"] or "",
            source=row["source"] or "",
            stable_id=row["stable_id"] or "",
            dn=row["dn"] or "",
        )
    cards = {
        row["number"]: CardHolding(
            int(row["user_id"]),
            row["label"][len(SYNCED_LABEL) :] if row["label"].startswith(SYNCED_LABEL) else "",
        )
        for row in tx.execute("SELECT number, user_id, label FROM cards")
    }
    return HubState(
        users=users,
        cards=cards,
        group_kinds={row["name"]: row["kind"] for row in tx.execute("SELECT name, kind FROM user_groups")},
        managed_groups=frozenset(
            row["name"]
            for row in tx.execute(
                "SELECT g.name FROM directory_groups d JOIN user_groups g ON g.id = d.group_id"
                " WHERE d.source = :s",
                {"s": source},
            )
        ),
        roles=frozenset(row["name"] for row in tx.execute("SELECT name FROM roles")),
    )


class _Applier:
    """Applies one plan inside one transaction."""

    def __init__(self, tx: Tx, plan: Plan, now_us: int) -> None:
        self.tx = tx
        self.plan = plan
        self.now_us = now_us
        self.group_ids: dict[str, int] = {}
        self.department_ids: dict[str, int] = {}

    def run(self) -> None:
        self._groups()
        self._departments()
        self._create_users([p for p in self.plan.users if p.user_id is None])
        for user_plan in self.plan.users:
            if user_plan.fields:
                self._update_user(user_plan)
        self._memberships()
        self._roles()
        self._cards()
        self._links()
        self._pins()

    def _groups(self) -> None:
        tx, source = self.tx, self.plan.source
        names = sorted(self.plan.groups)
        missing = [
            n for n in names if tx.scalar("SELECT id FROM user_groups WHERE name = :n", {"n": n}) is None
        ]
        insert_many(tx, "user_groups", ("name", "kind"), [(n, "group") for n in missing])
        for name in names:
            group_id = int(tx.scalar("SELECT id FROM user_groups WHERE name = :n", {"n": name}))
            self.group_ids[name] = group_id
            tx.execute(
                "INSERT INTO directory_groups (group_id, source) VALUES (:g, :s)"
                " ON CONFLICT (group_id) DO NOTHING",
                {"g": group_id, "s": source},
            )

    def _departments(self) -> None:
        wanted = {
            p.desired.department
            for p in self.plan.users
            if p.desired.department and (p.user_id is None or "department" in p.fields)
        }
        for name in sorted(wanted):
            self.department_ids[name] = users.ensure_group(self.tx, name, "department", self.now_us)

    def _create_users(self, creates: list[UserPlan]) -> None:
        rows = [
            (
                p.desired.username,
                p.desired.full_name,
                p.desired.email,
                self.department_ids.get(p.desired.department),
                int(p.desired.enabled),
                "prepaid",
                self.now_us,
            )
            for p in creates
        ]
        returned = insert_many(
            self.tx,
            "users",
            ("username", "full_name", "email", "department_id", "active", "billing", "created_us"),
            rows,
            "RETURNING id, username",
        )
        ids = {row["username"]: int(row["id"]) for row in returned}
        for p in creates:
            p.user_id = ids[p.desired.username]
        insert_many(
            self.tx,
            "accounts",
            ("name", "kind", "owner_user_id", "credit_limit_cents", "created_us"),
            [
                (account_names.prepaid(p.desired.username), "prepaid", p.user_id, 0, self.now_us)
                for p in creates
            ],
        )

    def _update_user(self, p: UserPlan) -> None:
        tx = self.tx
        columns = {k: v for k, v in p.fields.items() if k in ("username", "full_name", "email", "active")}
        if "active" in columns:
            columns["active"] = int(bool(columns["active"]))
        if "department" in p.fields:
            columns["department_id"] = self.department_ids.get(str(p.fields["department"]))
        if "username" in p.fields:
            old = tx.scalar("SELECT username FROM users WHERE id = :u", {"u": p.user_id})
            for name in (account_names.prepaid, account_names.arrears):
                tx.execute(
                    "UPDATE accounts SET name = :new WHERE name = :old AND owner_user_id = :u",
                    {"new": name(str(p.fields["username"])), "old": name(str(old)), "u": p.user_id},
                )
        assignments = ", ".join(f"{column} = :{column}" for column in columns)
        tx.execute(f"UPDATE users SET {assignments} WHERE id = :user_id", {**columns, "user_id": p.user_id})

    def _memberships(self) -> None:
        adds: list[tuple[int, int]] = []
        for p in self.plan.users:
            if p.groups_remove:
                placeholders, params = _in_list([self.group_ids[g] for g in sorted(p.groups_remove)], "g")
                self.tx.execute(
                    f"DELETE FROM group_members WHERE user_id = :u AND group_id IN ({placeholders})",
                    {**params, "u": p.user_id},
                )
            adds += [(self.group_ids[g], int(p.user_id or 0)) for g in sorted(p.groups_add)]
        insert_many(self.tx, "group_members", ("group_id", "user_id"), adds, "ON CONFLICT DO NOTHING")

    def _roles(self) -> None:
        adds: list[tuple[int, str]] = []
        for p in self.plan.users:
            if p.roles_remove:
                placeholders, params = _in_list(sorted(p.roles_remove), "r")
                self.tx.execute(
                    f"DELETE FROM user_roles WHERE user_id = :u AND role_name IN ({placeholders})",
                    {**params, "u": p.user_id},
                )
            adds += [(int(p.user_id or 0), r) for r in sorted(p.roles_add)]
        insert_many(self.tx, "user_roles", ("user_id", "role_name"), adds, "ON CONFLICT DO NOTHING")

    def _cards(self) -> None:
        # every removal first: a card moving between two users is free before it is linked again
        for p in self.plan.users:
            if p.cards_remove:
                placeholders, params = _in_list(sorted(p.cards_remove), "c")
                self.tx.execute(
                    f"DELETE FROM cards WHERE user_id = :u AND number IN ({placeholders})",
                    {**params, "u": p.user_id},
                )
        label = SYNCED_LABEL + self.plan.source
        rows = [
            (int(p.user_id or 0), n, label, self.now_us) for p in self.plan.users for n in sorted(p.cards_add)
        ]
        insert_many(self.tx, "cards", ("user_id", "number", "label", "created_us"), rows)

    def _links(self) -> None:
        rows = [
            (int(p.user_id or 0), self.plan.source, p.desired.stable_id, p.desired.dn, self.now_us)
            for p in self.plan.users
            if p.link
        ]
        insert_many(
            self.tx,
            "directory_links",
            ("user_id", "source", "stable_id", "dn", "linked_us"),
            rows,
            "ON CONFLICT (user_id) DO UPDATE SET source = excluded.source, stable_id = excluded.stable_id,"
            " dn = excluded.dn",
        )

    def _pins(self) -> None:
        for p in self.plan.users:
            if p.pin is not None:
                self.tx.execute(
                    "UPDATE users SET pin_hash = :h, pin_lookup = :l WHERE id = :u",
                    {"h": p.pin[0], "l": p.pin[1], "u": p.user_id},
                )


class SqlUserStore:
    """:class:`~hub_server.dirsync.store.UserStore` over a hub :class:`Database` (migrated with
    :data:`DIRECTORY`, as ``open_hub_database`` does).

    ``hash_pin`` and ``pin_lookup_key`` are the hub's own PIN functions (argon2 hash; HMAC with
    the hub secret); without them PINs from the directory are not stored.
    """

    def __init__(
        self,
        db: Database,
        hash_pin: Callable[[str], str] | None = None,
        pin_lookup_key: Callable[[str], str] | None = None,
    ) -> None:
        self.db = db
        self._hash_pin = hash_pin
        self._pin_lookup_key = pin_lookup_key

    def read_state(self, source: str) -> HubState:
        """The current users, cards and groups (one consistent snapshot)."""
        return self.db.read(lambda tx: read_state(tx, source, self.db.dialect))

    def apply(self, source: str, compute: Callable[[HubState], Plan], now_us: int) -> Plan:
        """Read the state, compute the plan on it and apply it, in one write transaction."""

        def write(tx: Tx) -> Plan:
            plan = compute(read_state(tx, source, self.db.dialect))
            _Applier(tx, plan, now_us).run()
            return plan

        return self.db.write_sync(write)

    def check_user(self, user: DirectoryUser) -> str:
        """Why the hub would refuse this user's fields ("" when it accepts them)."""
        if not validation.CODE.fullmatch(user.username):
            return (
                f"username {user.username[:80]!r} is not a valid hub username "
                "(letters, digits, . _ @ -; at most 64)"
            )
        for name in ("full_name", "email"):
            value = getattr(user, name)
            if len(value) > validation.MAX_TEXT or not value.isprintable():
                return f"{name} must be at most {validation.MAX_TEXT} printable characters"
        for group in (user.department, *user.groups):
            if group and not validation.NAME.fullmatch(group):
                return f"group or department name {group[:80]!r} is not valid on the hub"
        return ""

    def normalise_card(self, number: str) -> str:
        """A card number as the hub stores it (InvalidRequest, a ValueError, when refused)."""
        return cards.normalise_card_number(number)

    def pin_keys(self, pin: str) -> tuple[str, str] | None:
        """(argon2 hash, lookup key) of a PIN, or None when PIN functions were not given."""
        if self._hash_pin is None or self._pin_lookup_key is None:
            return None
        return self._hash_pin(pin), self._pin_lookup_key(pin)

    def pin_lookup(self, pin: str) -> str:
        """The lookup key of a PIN ("" when PIN functions were not given)."""
        return self._pin_lookup_key(pin) if self._pin_lookup_key else ""

    def record_run(self, run: RunRecord) -> None:
        """Keep a run for ``status``."""
        values = {
            "s": run.source,
            "b": run.started_us,
            "f": run.finished_us,
            "o": run.outcome,
            "d": int(run.dry_run),
            "force": int(run.forced),
            "srv": run.server,
            "c": json.dumps(run.counts, sort_keys=True),
            "m": run.message[:MAX_RUN_MESSAGE],
        }
        self.db.write_sync(
            lambda tx: tx.execute(
                """INSERT INTO directory_runs (source, started_us, finished_us, outcome, dry_run, forced,
                       server, counts, message) VALUES (:s, :b, :f, :o, :d, :force, :srv, :c, :m)""",
                values,
            )
        )

    def runs(self, source: str, limit: int) -> list[RunRecord]:
        """The latest runs of a source, newest first."""
        rows = self.db.read(
            lambda tx: tx.execute(
                "SELECT * FROM directory_runs WHERE source = :s ORDER BY id DESC LIMIT :n",
                {"s": source, "n": limit},
            )
        )
        return [
            RunRecord(
                source=row["source"],
                started_us=int(row["started_us"]),
                finished_us=int(row["finished_us"]),
                outcome=row["outcome"],
                dry_run=bool(row["dry_run"]),
                forced=bool(row["forced"]),
                server=row["server"],
                counts={k: int(v) for k, v in json.loads(row["counts"]).items()},
                message=row["message"],
            )
            for row in rows
        ]

    def linked_counts(self, source: str) -> tuple[int, int]:
        """(active, disabled) hub users linked to ``source``."""
        rows = self.db.read(
            lambda tx: tx.execute(
                """SELECT u.active, COUNT(*) AS n FROM directory_links l JOIN users u ON u.id = l.user_id
                   WHERE l.source = :s GROUP BY u.active""",
                {"s": source},
            )
        )
        counts = {bool(row["active"]): int(row["n"]) for row in rows}
        return counts.get(True, 0), counts.get(False, 0)

    def link_of(self, username: str) -> Link | None:
        """The directory link of a hub user by username (any case, as the hub's usernames)."""
        row = self.db.read(
            lambda tx: tx.one(
                """SELECT l.user_id, l.source, l.stable_id, u.active FROM users u
                   JOIN directory_links l ON l.user_id = u.id WHERE LOWER(u.username) = LOWER(:u)""",
                {"u": username},
            )
        )
        if row is None:
            return None
        return Link(int(row["user_id"]), row["source"], row["stable_id"], bool(row["active"]))

    def claim_schedule(self, holder: str, now_us: int, lease_until_us: int, next_run_us: int) -> bool:
        """Hold the schedule until ``lease_until_us`` if nobody else holds it now (or ``holder``
        does already), recording the next round; False when another process holds it."""

        def claim(tx: Tx) -> bool:
            tx.execute(
                "INSERT INTO directory_schedule (id, holder, lease_until_us, next_run_us)"
                " VALUES (1, '', 0, 0) ON CONFLICT (id) DO NOTHING"
            )
            return bool(
                tx.execute(
                    """UPDATE directory_schedule SET holder = :h, lease_until_us = :until, next_run_us = :next
                       WHERE id = 1 AND (holder = :h OR lease_until_us < :now) RETURNING id""",
                    {"h": holder, "until": lease_until_us, "next": next_run_us, "now": now_us},
                )
            )

        return self.db.write_sync(claim)

    def scheduled_run_us(self) -> int:
        """When the next scheduled round is due (0: none is scheduled)."""
        value = self.db.read(lambda tx: tx.scalar("SELECT next_run_us FROM directory_schedule WHERE id = 1"))
        return int(value or 0)
