"""Users, their groups and departments, and roles: the people the hub knows and what they may do.

The functions run inside a caller's transaction (:class:`~hub_server.storage.Tx`) and validate
their input; :class:`Users` is the domain object the services call (each method one
transaction). Cards, PINs and passwords have modules of their own (:mod:`.cards`,
:mod:`.credentials`); :class:`Users` reaches them too, since an admin manages them per user.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub_server.clock import Clock
from hub_server.config import HubConfig
from hub_server.domain import account_names, cards, credentials, ledger
from hub_server.domain.pricing import FUNCTIONS
from hub_server.domain.security import Hasher, pin_lookup_key
from hub_server.domain.store import Store
from hub_server.domain.validation import CODE, MAX_LIST, NAME, amount, require, text
from hub_server.errors import AlreadyExists, InvalidRequest, NotFound
from hub_server.storage import Tx

__all__ = [
    "BILLINGS",
    "DEFAULT_ROLE",
    "GROUP_KINDS",
    "USERNAME_IS",
    "GroupRecord",
    "Permissions",
    "RoleRecord",
    "UserMatch",
    "UserRecord",
    "UserRef",
    "Users",
    "ensure_group",
    "get_user",
    "group_id",
    "permissions",
    "rename_user",
    "resolve_user",
]

# Usernames are unique regardless of case (a unique index on LOWER(username)): every lookup
# by name compares them so, with the ``:u`` parameter.
USERNAME_IS = "LOWER(username) = LOWER(:u)"
DEFAULT_ROLE = "user"
BILLINGS = ("prepaid", "department")
GROUP_KINDS = ("group", "department")
UPDATABLE = ("full_name", "email", "department", "roles", "active", "billing", "groups")


@dataclass(frozen=True)
class UserRef:
    """A user named by id or by username (an admin may use either; neither set names nobody)."""

    id: int = 0
    username: str = ""


def resolve_user(tx: Tx, ref: UserRef) -> int:
    """The id of the user ``ref`` names (:class:`NotFound`, or :class:`InvalidRequest` for none)."""
    if ref.id:
        if tx.scalar("SELECT id FROM users WHERE id = :u", {"u": ref.id}) is None:
            raise NotFound(f"no user with id {ref.id}")
        return ref.id
    if ref.username:
        return user_id_by_name(tx, ref.username)
    raise InvalidRequest("a user id or username is needed")


@dataclass
class UserRecord:
    """A user as the directory holds them."""

    username: str
    full_name: str = ""
    email: str = ""
    department: str = ""
    roles: list[str] = field(default_factory=lambda: [DEFAULT_ROLE])
    active: bool = True
    billing: str = "prepaid"
    groups: list[str] = field(default_factory=list)
    id: int = 0
    has_pin: bool = False
    has_password: bool = False
    credit_limit_cents: int = 0


# -- groups ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRecord:
    """A group or a department, with how many users belong to it."""

    id: int
    name: str
    kind: str
    member_count: int = 0


def ensure_group(tx: Tx, name: str, kind: str, now_us: int) -> int:
    """The id of a group, created when new (a department also gets its post-paid account)."""
    require(NAME, name, "group name")
    tx.execute(
        "INSERT INTO user_groups (name, kind) VALUES (:n, :k) ON CONFLICT (name) DO NOTHING",
        {"n": name, "k": kind},
    )
    row = tx.one("SELECT id, kind FROM user_groups WHERE name = :n", {"n": name})
    assert row is not None
    if row["kind"] != kind:
        raise AlreadyExists(f"{name!r} already exists as a {row['kind']}")
    if kind == "department":
        ledger.create_account(
            tx, account_names.department(name), "postpaid", now_us, owner_group_id=int(row["id"])
        )
    return int(row["id"])


def group_id(tx: Tx, name: str) -> int:
    """The id of an existing group."""
    found = tx.scalar("SELECT id FROM user_groups WHERE name = :n", {"n": name})
    if found is None:
        raise NotFound(f"no group named {name!r}")
    return int(found)


def create_group(tx: Tx, name: str, kind: str, now_us: int) -> GroupRecord:
    """A new group or department (one that exists already is refused)."""
    if kind not in GROUP_KINDS:
        raise InvalidRequest(f"a group's kind is one of {', '.join(GROUP_KINDS)}")
    if tx.scalar("SELECT id FROM user_groups WHERE name = :n", {"n": name}) is not None:
        raise AlreadyExists(f"group {name!r} already exists")
    return GroupRecord(ensure_group(tx, name, kind, now_us), name, kind)


def list_groups(tx: Tx) -> list[GroupRecord]:
    """Every group and department by name, with its members (a department's by department)."""
    rows = tx.execute(
        """SELECT g.id, g.name, g.kind,
               (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id)
               + (SELECT COUNT(*) FROM users u WHERE u.department_id = g.id) AS members
           FROM user_groups g ORDER BY g.name"""
    )
    return [GroupRecord(int(r["id"]), str(r["name"]), str(r["kind"]), int(r["members"])) for r in rows]


def set_membership(tx: Tx, group: str, user_id: int, member: bool) -> None:
    """Add a user to a group or take them out."""
    gid = group_id(tx, group)
    if member:
        tx.execute(
            "INSERT INTO group_members (group_id, user_id) VALUES (:g, :u) ON CONFLICT DO NOTHING",
            {"g": gid, "u": user_id},
        )
    else:
        tx.execute("DELETE FROM group_members WHERE group_id = :g AND user_id = :u", {"g": gid, "u": user_id})


# -- roles ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RoleRecord:
    """What a role allows."""

    name: str
    requires_card_pin: bool = False
    allowed_functions: tuple[str, ...] = FUNCTIONS
    color_allowed: bool = True
    project_required: bool = False


def upsert_role(tx: Tx, role: RoleRecord) -> None:
    """Create or replace a role."""
    require(CODE, role.name, "role name")
    unknown = set(role.allowed_functions) - set(FUNCTIONS)
    if unknown:
        raise InvalidRequest(f"unknown function(s): {', '.join(sorted(unknown))}")
    values = {
        "n": role.name,
        "p": int(role.requires_card_pin),
        "f": ",".join(f for f in FUNCTIONS if f in role.allowed_functions),
        "c": int(role.color_allowed),
        "r": int(role.project_required),
    }
    tx.execute(
        """INSERT INTO roles (name, requires_card_pin, allowed_functions, color_allowed, project_required)
           VALUES (:n, :p, :f, :c, :r)
           ON CONFLICT (name) DO UPDATE SET requires_card_pin = :p, allowed_functions = :f,
               color_allowed = :c, project_required = :r""",
        values,
    )


def list_roles(tx: Tx) -> list[RoleRecord]:
    """Every role by name."""
    return [
        RoleRecord(
            name=str(r["name"]),
            requires_card_pin=bool(r["requires_card_pin"]),
            allowed_functions=tuple(f for f in str(r["allowed_functions"]).split(",") if f),
            color_allowed=bool(r["color_allowed"]),
            project_required=bool(r["project_required"]),
        )
        for r in tx.execute("SELECT * FROM roles ORDER BY name")
    ]


def _set_roles(tx: Tx, user_id: int, roles: list[str]) -> None:
    roles = roles or [DEFAULT_ROLE]
    for role in roles:
        if tx.scalar("SELECT name FROM roles WHERE name = :n", {"n": role}) is None:
            raise NotFound(f"no role named {role!r}")
    tx.execute("DELETE FROM user_roles WHERE user_id = :u", {"u": user_id})
    for role in sorted(set(roles)):
        tx.execute("INSERT INTO user_roles (user_id, role_name) VALUES (:u, :r)", {"u": user_id, "r": role})


@dataclass(frozen=True)
class Permissions:
    """The union of a user's roles."""

    allowed_functions: tuple[str, ...]
    color_allowed: bool
    requires_card_pin: bool
    project_required: bool


def permissions(tx: Tx, user_id: int) -> Permissions:
    """The union of the user's roles."""
    rows = tx.execute(
        """SELECT r.requires_card_pin, r.allowed_functions, r.color_allowed, r.project_required
           FROM user_roles ur JOIN roles r ON r.name = ur.role_name WHERE ur.user_id = :u""",
        {"u": user_id},
    )
    functions: set[str] = set()
    for row in rows:
        functions.update(f for f in str(row["allowed_functions"]).split(",") if f)
    return Permissions(
        allowed_functions=tuple(sorted(functions)),
        color_allowed=any(row["color_allowed"] for row in rows),
        requires_card_pin=any(row["requires_card_pin"] for row in rows),
        project_required=any(row["project_required"] for row in rows),
    )


def has_role(tx: Tx, user_id: int, role: str) -> bool:
    """True when the user holds ``role``."""
    found = tx.scalar(
        "SELECT 1 FROM user_roles WHERE user_id = :u AND role_name = :r", {"u": user_id, "r": role}
    )
    return bool(found)


# -- users ----------------------------------------------------------------------------------


def _validate_user(user: UserRecord) -> None:
    require(CODE, user.username, "username")
    text(user.full_name, "full name")
    text(user.email, "email")
    if user.billing not in BILLINGS:
        raise InvalidRequest(f"billing must be prepaid or department, not {user.billing!r}")
    if user.billing == "department" and not user.department:
        raise InvalidRequest("department billing needs a department")
    amount(user.credit_limit_cents, "a credit limit")


def create_user(tx: Tx, user: UserRecord, now_us: int, password_hash: str | None = None) -> int:
    """Create a user with their prepaid account; return the new id."""
    _validate_user(user)
    holder = tx.scalar(f"SELECT username FROM users WHERE {USERNAME_IS}", {"u": user.username})
    if holder is not None:
        raise AlreadyExists(_taken(user.username, str(holder)))
    department_id = ensure_group(tx, user.department, "department", now_us) if user.department else None
    row = tx.one(
        """INSERT INTO users (username, full_name, email, department_id, active, billing, password_hash,
               created_us)
           VALUES (:username, :full_name, :email, :dept, :active, :billing, :pw, :now) RETURNING id""",
        {
            "username": user.username,
            "full_name": user.full_name,
            "email": user.email,
            "dept": department_id,
            "active": int(user.active),
            "billing": user.billing,
            "pw": password_hash,
            "now": now_us,
        },
    )
    assert row is not None
    user_id = int(row["id"])
    _set_roles(tx, user_id, user.roles)
    for group in user.groups:
        ensure_group(tx, group, "group", now_us)
        set_membership(tx, group, user_id, True)
    ledger.create_account(
        tx,
        account_names.prepaid(user.username),
        "prepaid",
        now_us,
        owner_user_id=user_id,
        credit_limit_cents=user.credit_limit_cents,
    )
    return user_id


def update_user(tx: Tx, user_id: int, changes: UserRecord, fields_to_change: list[str], now_us: int) -> None:
    """Change the named fields of a user (username cannot change: accounts are named after it)."""
    unknown = set(fields_to_change) - set(UPDATABLE)
    if unknown:
        raise InvalidRequest(f"cannot update: {', '.join(sorted(unknown))}")
    current = get_user(tx, user_id)
    merged = UserRecord(**{**current.__dict__, **{f: getattr(changes, f) for f in fields_to_change}})
    _validate_user(merged)
    department_id = ensure_group(tx, merged.department, "department", now_us) if merged.department else None
    tx.execute(
        """UPDATE users SET full_name = :full_name, email = :email, department_id = :dept,
               active = :active, billing = :billing WHERE id = :id""",
        {
            "full_name": merged.full_name,
            "email": merged.email,
            "dept": department_id,
            "active": int(merged.active),
            "billing": merged.billing,
            "id": user_id,
        },
    )
    if "roles" in fields_to_change:
        _set_roles(tx, user_id, merged.roles)
    if "groups" in fields_to_change:
        tx.execute("DELETE FROM group_members WHERE user_id = :u", {"u": user_id})
        for group in merged.groups:
            ensure_group(tx, group, "group", now_us)
            set_membership(tx, group, user_id, True)


def _taken(username: str, holder: str) -> str:
    if holder == username:
        return f"user {username!r} already exists"
    return f"user {username!r} already exists as {holder!r} (usernames are unique regardless of case)"


def rename_user(tx: Tx, old: str, new: str) -> None:
    """Rename the user named exactly ``old`` (their accounts follow); ``new`` may differ from
    every other username by more than case only. For an operator resolving case twins before
    the hub opens a database (``printgate hub --rename-user``)."""
    require(CODE, new, "username")
    user_id = tx.scalar("SELECT id FROM users WHERE username = :u", {"u": old})
    if user_id is None:
        raise NotFound(f"no user named exactly {old!r}")
    holder = tx.scalar(
        f"SELECT username FROM users WHERE {USERNAME_IS} AND id <> :id", {"u": new, "id": user_id}
    )
    if holder is not None:
        raise AlreadyExists(_taken(new, str(holder)))
    for name in (account_names.prepaid, account_names.arrears):
        tx.execute(
            "UPDATE accounts SET name = :new WHERE name = :old AND owner_user_id = :u",
            {"new": name(new), "old": name(old), "u": user_id},
        )
    tx.execute("UPDATE users SET username = :new WHERE id = :id", {"new": new, "id": user_id})


def user_id_by_name(tx: Tx, username: str) -> int:
    """The id of a user by username (whatever its case)."""
    found = tx.scalar(f"SELECT id FROM users WHERE {USERNAME_IS}", {"u": username})
    if found is None:
        raise NotFound(f"no user named {username!r}")
    return int(found)


def username_of(tx: Tx, user_id: int) -> str:
    """A user's username."""
    found = tx.scalar("SELECT username FROM users WHERE id = :u", {"u": user_id})
    if found is None:
        raise NotFound(f"no user with id {user_id}")
    return str(found)


def get_user(tx: Tx, user_id: int) -> UserRecord:
    """A user with roles, groups and credit limit."""
    row = tx.one(
        """SELECT u.id, u.username, u.full_name, u.email, u.active, u.billing,
                  u.pin_hash IS NOT NULL AS has_pin, u.password_hash IS NOT NULL AS has_password,
                  g.name AS department, a.credit_limit_cents
           FROM users u
           LEFT JOIN user_groups g ON g.id = u.department_id
           LEFT JOIN accounts a ON a.owner_user_id = u.id AND a.kind = 'prepaid'
           WHERE u.id = :u""",
        {"u": user_id},
    )
    if row is None:
        raise NotFound(f"no user with id {user_id}")
    roles = [
        str(r["role_name"])
        for r in tx.execute("SELECT role_name FROM user_roles WHERE user_id = :u ORDER BY 1", {"u": user_id})
    ]
    groups = [
        str(r["name"])
        for r in tx.execute(
            "SELECT g.name FROM group_members m JOIN user_groups g ON g.id = m.group_id"
            " WHERE m.user_id = :u ORDER BY g.name",
            {"u": user_id},
        )
    ]
    return UserRecord(
        id=int(row["id"]),
        username=str(row["username"]),
        full_name=str(row["full_name"]),
        email=str(row["email"]),
        department=str(row["department"] or ""),
        roles=roles,
        active=bool(row["active"]),
        billing=str(row["billing"]),
        groups=groups,
        has_pin=bool(row["has_pin"]),
        has_password=bool(row["has_password"]),
        credit_limit_cents=int(row["credit_limit_cents"] or 0),
    )


def list_users(tx: Tx, query: str, limit: int, offset: int) -> tuple[list[UserRecord], int]:
    """Users whose username, name or email contains ``query``, and how many match in all."""
    pattern = f"%{text(query, 'query')}%"
    where = "WHERE username LIKE :q OR full_name LIKE :q OR email LIKE :q"
    total = int(tx.scalar(f"SELECT COUNT(*) AS n FROM users {where}", {"q": pattern}) or 0)
    ids = tx.execute(
        f"SELECT id FROM users {where} ORDER BY username LIMIT :limit OFFSET :offset",
        {"q": pattern, "limit": limit, "offset": offset},
    )
    return [get_user(tx, int(r["id"])) for r in ids], total


@dataclass(frozen=True)
class UserMatch:
    """One hit of a search as you type."""

    id: int
    username: str
    full_name: str
    email: str
    active: bool


SEARCH_LIMIT_MAX = 50
_SEARCH_COLUMNS = ("username", "full_name", "email")


def _successor(prefix: str) -> str:
    """The least string above every string that starts with ``prefix`` (byte order)."""
    return prefix[:-1] + chr(ord(prefix[-1]) + 1)


def find_users(tx: Tx, query: str, limit: int) -> list[UserMatch]:
    """Users whose username, full name or e-mail starts with ``query`` (any case), or who hold
    the card ``query``; by username, at most ``limit``. Each part is a range on its own index
    (core migrations 4 and 5) that stops after ``limit`` rows, so the cost does not grow with the
    directory; the ``LIKE`` keeps the answer exact under any collation."""
    prefix = text(query, "query").strip().lower()
    if not prefix:
        return []
    limit = max(1, min(limit, SEARCH_LIMIT_MAX))
    pattern = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    parts = [
        f"""SELECT id FROM (SELECT id FROM users
                WHERE LOWER({column}) >= :lo AND LOWER({column}) < :hi
                  AND LOWER({column}) LIKE :pattern ESCAPE '\\'
                ORDER BY LOWER({column}) LIMIT :n) AS {column}_hits"""
        for column in _SEARCH_COLUMNS
    ]
    parts.append("SELECT user_id AS id FROM cards WHERE number = :card")
    rows = tx.execute(
        f"""SELECT id, username, full_name, email, active FROM users WHERE id IN ({" UNION ".join(parts)})
            ORDER BY username LIMIT :n""",
        {
            "lo": prefix,
            "hi": _successor(prefix),
            "pattern": pattern,
            "n": limit,
            "card": query.strip().upper(),
        },
    )
    return [
        UserMatch(int(r["id"]), str(r["username"]), str(r["full_name"]), str(r["email"]), bool(r["active"]))
        for r in rows
    ]


# -- the domain object ------------------------------------------------------------------------


class Users:
    """Users, their cards, PINs and passwords, groups and roles, for admins."""

    def __init__(self, store: Store, config: HubConfig, clock: Clock, hasher: Hasher, secret: bytes) -> None:
        self._store = store
        self._config = config
        self._clock = clock
        self._hasher = hasher
        self._secret = secret

    def _now(self) -> int:
        return self._clock.now_us()

    async def create(self, user: UserRecord, initial_password: str = "") -> UserRecord:
        """A new user with their prepaid account (and a password, when one is given)."""
        password_hash = None
        if initial_password:
            password_hash = self._hasher.hash(credentials.check_password(initial_password))
        now_us = self._now()
        return await self._store.write(lambda tx: get_user(tx, create_user(tx, user, now_us, password_hash)))

    async def update(self, ref: UserRef, values: UserRecord, fields_to_change: list[str]) -> UserRecord:
        """Change the named fields of a user."""
        now_us = self._now()

        def update(tx: Tx) -> UserRecord:
            user_id = resolve_user(tx, ref)
            update_user(tx, user_id, values, fields_to_change, now_us)
            return get_user(tx, user_id)

        return await self._store.write(update)

    def get(self, ref: UserRef) -> UserRecord:
        """One user."""
        return self._store.read(lambda tx: get_user(tx, resolve_user(tx, ref)))

    def search(self, query: str, limit: int, offset: int) -> tuple[list[UserRecord], int]:
        """Matching users (``limit`` 0: 100, at most :data:`MAX_LIST`) and how many match in all."""
        limit = min(limit or 100, MAX_LIST)
        return self._store.read(lambda tx: list_users(tx, query, limit, offset))

    def find(self, query: str, limit: int = 20) -> list[UserMatch]:
        """Search as you type: prefixes of username, name or e-mail, or a card number."""
        return self._store.read(lambda tx: find_users(tx, query, limit))

    async def set_pin(self, ref: UserRef, pin: str) -> str:
        """Give a user ``pin``, or with ``pin`` empty a fresh random one; returns the new PIN
        (empty when the admin chose it). PINs are unique while a PIN alone may log in."""
        minimum = self._config.auth.min_pin_digits
        if pin:
            credentials.check_pin(pin, minimum)
        for _ in range(credentials.PIN_ATTEMPTS if not pin else 1):
            candidate = pin or credentials.random_pin(minimum)
            try:
                await self._store_pin(ref, candidate)
            except AlreadyExists:
                if pin:
                    raise AlreadyExists("that PIN is already in use; choose another") from None
                continue
            return "" if pin else candidate
        raise AlreadyExists("could not find a free PIN")

    async def _store_pin(self, ref: UserRef, pin: str) -> None:
        pin_hash = self._hasher.hash(pin)
        lookup = pin_lookup_key(self._secret, pin) if self._config.auth.pin_login else None
        await self._store.write(lambda tx: credentials.store_pin(tx, resolve_user(tx, ref), pin_hash, lookup))

    async def set_password(self, ref: UserRef, password: str) -> None:
        """Replace a user's password."""
        password_hash = self._hasher.hash(credentials.check_password(password))
        await self._store.write(
            lambda tx: credentials.store_password(tx, resolve_user(tx, ref), password_hash)
        )

    async def add_card(self, ref: UserRef, number: str, label: str) -> cards.CardRecord:
        """Link a card to a user."""
        now_us = self._now()

        def add(tx: Tx) -> cards.CardRecord:
            return cards.get_card(tx, cards.add_card(tx, resolve_user(tx, ref), number, label, now_us))

        return await self._store.write(add)

    async def remove_card(self, number: str) -> None:
        """Unlink a card."""
        await self._store.write(lambda tx: cards.remove_card(tx, number))

    def cards(self, ref: UserRef) -> list[cards.CardRecord]:
        """A user's cards."""
        return self._store.read(lambda tx: cards.cards_of(tx, resolve_user(tx, ref)))

    async def create_group(self, name: str, kind: str) -> GroupRecord:
        """A new group or department."""
        now_us = self._now()
        return await self._store.write(lambda tx: create_group(tx, name, kind, now_us))

    def groups(self) -> list[GroupRecord]:
        """Every group and department."""
        return self._store.read(list_groups)

    async def set_membership(self, group: str, ref: UserRef, member: bool) -> None:
        """Add a user to a group or take them out."""
        await self._store.write(lambda tx: set_membership(tx, group, resolve_user(tx, ref), member))

    async def upsert_role(self, role: RoleRecord) -> None:
        """Create or replace a role."""
        await self._store.write(lambda tx: upsert_role(tx, role))

    def roles(self) -> list[RoleRecord]:
        """Every role."""
        return self._store.read(list_roles)
