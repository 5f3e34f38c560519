"""Users, cards, groups, roles, projects, printers and terminals: the hub's directory.

Every function here runs inside a caller's transaction (:class:`~hub_server.storage.Tx`) and
validates its input; bounds are explicit so no field can grow without limit.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from hub_server import ledger
from hub_server.errors import AlreadyExists, InvalidRequest, NotFound
from hub_server.pricing import COLORS, FUNCTIONS
from hub_server.security import sha256_hex
from hub_server.storage.base import Tx

USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
NAME = re.compile(r"^[^\x00-\x1f]{1,128}$")
CARD_NUMBER = re.compile(r"^[0-9A-Za-z:_-]{1,64}$")
TERMINAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
MAX_TEXT = 256
DEFAULT_ROLE = "user"
TRANSPORTS = ("raw9100", "lpd", "ipp")


def _require(pattern: re.Pattern[str], value: str, what: str) -> str:
    if not pattern.fullmatch(value):
        raise InvalidRequest(f"invalid {what}: {value[:80]!r}")
    return value


def _text(value: str, what: str) -> str:
    if len(value) > MAX_TEXT or not value.isprintable():
        raise InvalidRequest(f"{what} must be at most {MAX_TEXT} printable characters")
    return value


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


def ensure_group(tx: Tx, name: str, kind: str, now_us: int) -> int:
    """The id of a group, created when new (a department also gets its post-paid account)."""
    _require(NAME, name, "group name")
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
            tx, ledger.department_account_name(name), "postpaid", now_us, owner_group_id=int(row["id"])
        )
    return int(row["id"])


def group_id(tx: Tx, name: str) -> int:
    """The id of an existing group."""
    found = tx.scalar("SELECT id FROM user_groups WHERE name = :n", {"n": name})
    if found is None:
        raise NotFound(f"no group named {name!r}")
    return int(found)


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


def upsert_role(
    tx: Tx,
    name: str,
    requires_card_pin: bool,
    allowed_functions: list[str],
    color_allowed: bool,
    project_required: bool,
) -> None:
    """Create or replace a role."""
    _require(USERNAME, name, "role name")
    unknown = set(allowed_functions) - set(FUNCTIONS)
    if unknown:
        raise InvalidRequest(f"unknown function(s): {', '.join(sorted(unknown))}")
    values = {
        "n": name,
        "p": int(requires_card_pin),
        "f": ",".join(f for f in FUNCTIONS if f in allowed_functions),
        "c": int(color_allowed),
        "r": int(project_required),
    }
    tx.execute(
        """INSERT INTO roles (name, requires_card_pin, allowed_functions, color_allowed, project_required)
           VALUES (:n, :p, :f, :c, :r)
           ON CONFLICT (name) DO UPDATE SET requires_card_pin = :p, allowed_functions = :f,
               color_allowed = :c, project_required = :r""",
        values,
    )


def _set_roles(tx: Tx, user_id: int, roles: list[str]) -> None:
    roles = roles or [DEFAULT_ROLE]
    for role in roles:
        if tx.scalar("SELECT name FROM roles WHERE name = :n", {"n": role}) is None:
            raise NotFound(f"no role named {role!r}")
    tx.execute("DELETE FROM user_roles WHERE user_id = :u", {"u": user_id})
    for role in sorted(set(roles)):
        tx.execute("INSERT INTO user_roles (user_id, role_name) VALUES (:u, :r)", {"u": user_id, "r": role})


# -- users ----------------------------------------------------------------------------------


def _validate_user(user: UserRecord) -> None:
    _require(USERNAME, user.username, "username")
    _text(user.full_name, "full name")
    _text(user.email, "email")
    if user.billing not in ("prepaid", "department"):
        raise InvalidRequest(f"billing must be prepaid or department, not {user.billing!r}")
    if user.billing == "department" and not user.department:
        raise InvalidRequest("department billing needs a department")
    if user.credit_limit_cents < 0:
        raise InvalidRequest("credit limit cannot be negative")


def create_user(tx: Tx, user: UserRecord, now_us: int, password_hash: str | None = None) -> int:
    """Create a user with their prepaid account; return the new id."""
    _validate_user(user)
    if tx.scalar("SELECT id FROM users WHERE username = :u", {"u": user.username}) is not None:
        raise AlreadyExists(f"user {user.username!r} already exists")
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
        ledger.prepaid_account_name(user.username),
        "prepaid",
        now_us,
        owner_user_id=user_id,
        credit_limit_cents=user.credit_limit_cents,
    )
    return user_id


def update_user(tx: Tx, user_id: int, changes: UserRecord, fields_to_change: list[str], now_us: int) -> None:
    """Change the named fields of a user (username cannot change: accounts are named after it)."""
    allowed = {"full_name", "email", "department", "roles", "active", "billing", "groups"}
    unknown = set(fields_to_change) - allowed
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


def user_id_by_name(tx: Tx, username: str) -> int:
    """The id of a user by username."""
    found = tx.scalar("SELECT id FROM users WHERE username = :u", {"u": username})
    if found is None:
        raise NotFound(f"no user named {username!r}")
    return int(found)


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
        r["role_name"]
        for r in tx.execute("SELECT role_name FROM user_roles WHERE user_id = :u ORDER BY 1", {"u": user_id})
    ]
    groups = [
        r["name"]
        for r in tx.execute(
            "SELECT g.name FROM group_members m JOIN user_groups g ON g.id = m.group_id"
            " WHERE m.user_id = :u ORDER BY g.name",
            {"u": user_id},
        )
    ]
    return UserRecord(
        id=int(row["id"]),
        username=row["username"],
        full_name=row["full_name"],
        email=row["email"],
        department=row["department"] or "",
        roles=roles,
        active=bool(row["active"]),
        billing=row["billing"],
        groups=groups,
        has_pin=bool(row["has_pin"]),
        has_password=bool(row["has_password"]),
        credit_limit_cents=int(row["credit_limit_cents"] or 0),
    )


def list_users(tx: Tx, query: str, limit: int, offset: int) -> tuple[list[UserRecord], int]:
    """Users whose username, name or email contains ``query``, and how many match in all."""
    pattern = f"%{_text(query, 'query')}%"
    where = "WHERE username LIKE :q OR full_name LIKE :q OR email LIKE :q"
    total = int(tx.scalar(f"SELECT COUNT(*) AS n FROM users {where}", {"q": pattern}) or 0)
    ids = tx.execute(
        f"SELECT id FROM users {where} ORDER BY username LIMIT :limit OFFSET :offset",
        {"q": pattern, "limit": limit, "offset": offset},
    )
    return [get_user(tx, int(r["id"])) for r in ids], total


def set_credit_limit(tx: Tx, user_id: int, credit_limit_cents: int) -> None:
    """Change how far below zero a user's credit may go (not below the current balance)."""
    if credit_limit_cents < 0:
        raise InvalidRequest("credit limit cannot be negative")
    row = tx.one(
        "UPDATE accounts SET credit_limit_cents = :l WHERE owner_user_id = :u AND kind = 'prepaid'"
        " AND balance_cents >= -:l RETURNING id",
        {"l": credit_limit_cents, "u": user_id},
    )
    if row is None:
        raise InvalidRequest("the balance is already below that limit")


# -- cards ----------------------------------------------------------------------------------


def normalise_card_number(number: str) -> str:
    """Card numbers compare without surrounding blanks and without case (hex from readers)."""
    return _require(CARD_NUMBER, number.strip().upper(), "card number")


def add_card(tx: Tx, user_id: int, number: str, label: str, now_us: int) -> int:
    """Link a card to a user; a number belongs to one user only."""
    normalised = normalise_card_number(number)
    owner = tx.scalar("SELECT user_id FROM cards WHERE number = :n", {"n": normalised})
    if owner is not None:
        raise AlreadyExists(f"card {normalised} is already linked to a user")
    row = tx.one(
        "INSERT INTO cards (user_id, number, label, created_us) VALUES (:u, :n, :l, :t) RETURNING id",
        {"u": user_id, "n": normalised, "l": _text(label, "card label"), "t": now_us},
    )
    assert row is not None
    return int(row["id"])


def remove_card(tx: Tx, number: str) -> None:
    """Unlink a card."""
    normalised = normalise_card_number(number)
    if not tx.execute("DELETE FROM cards WHERE number = :n RETURNING id", {"n": normalised}):
        raise NotFound(f"no card {normalised}")


# -- projects, printers, terminals ------------------------------------------------------------


def create_project(tx: Tx, code: str, name: str, all_users: bool, groups: list[str], now_us: int) -> int:
    """A cost centre with its own post-paid account."""
    _require(USERNAME, code, "project code")
    account = ledger.create_account(tx, ledger.project_account_name(code), "postpaid", now_us)
    row = tx.one(
        "INSERT INTO projects (code, name, all_users, account_id) VALUES (:c, :n, :a, :acc) RETURNING id",
        {"c": code, "n": _text(name, "project name"), "a": int(all_users), "acc": account},
    )
    assert row is not None
    for group in groups:
        tx.execute(
            "INSERT INTO project_groups (project_id, group_id) VALUES (:p, :g)",
            {"p": row["id"], "g": group_id(tx, group)},
        )
    return int(row["id"])


def upsert_printer(
    tx: Tx, name: str, address: str, transport: str, vendor_profile: str, printer_group: str, location: str
) -> int:
    """Create or update a printer by name."""
    _require(NAME, name, "printer name")
    if transport not in TRANSPORTS:
        raise InvalidRequest(f"transport must be one of {', '.join(TRANSPORTS)}")
    values = {
        "n": name,
        "a": _text(address, "address"),
        "t": transport,
        "v": _text(vendor_profile or "generic", "vendor profile"),
        "g": _require(NAME, printer_group or "default", "printer group"),
        "l": _text(location, "location"),
    }
    row = tx.one(
        """INSERT INTO printers (name, address, transport, vendor_profile, printer_group, location)
           VALUES (:n, :a, :t, :v, :g, :l)
           ON CONFLICT (name) DO UPDATE SET address = :a, transport = :t, vendor_profile = :v,
               printer_group = :g, location = :l
           RETURNING id""",
        values,
    )
    assert row is not None
    return int(row["id"])


def create_terminal(tx: Tx, terminal_id: str, kind: str, printer: str, location: str, now_us: int) -> str:
    """Register a terminal or kiosk; return its key (shown once, only its hash is kept)."""
    _require(TERMINAL_ID, terminal_id, "terminal id")
    if kind not in ("terminal", "kiosk"):
        raise InvalidRequest("kind must be terminal or kiosk")
    printer_id = None
    if printer:
        printer_id = tx.scalar("SELECT id FROM printers WHERE name = :n", {"n": printer})
        if printer_id is None:
            raise NotFound(f"no printer named {printer!r}")
    if tx.scalar("SELECT id FROM terminals WHERE id = :t", {"t": terminal_id}) is not None:
        raise AlreadyExists(f"terminal {terminal_id!r} already exists")
    key = secrets.token_urlsafe(32)
    tx.execute(
        """INSERT INTO terminals (id, kind, printer_id, location, key_sha256, created_us)
           VALUES (:id, :k, :p, :l, :h, :t)""",
        {
            "id": terminal_id,
            "k": kind,
            "p": printer_id,
            "l": _text(location, "location"),
            "h": sha256_hex(key),
            "t": now_us,
        },
    )
    return key


def set_price(
    tx: Tx, printer_group: str, function: str, color: str, paper_size: str, duplex: bool, price_cents: int
) -> None:
    """Set the price per page of one combination in a printer group."""
    if function not in FUNCTIONS or color not in COLORS:
        raise InvalidRequest("price needs a known function and colour mode")
    if price_cents < 0:
        raise InvalidRequest("a price cannot be negative")
    _require(NAME, printer_group or "default", "printer group")
    _require(NAME, paper_size or "*", "paper size")
    tx.execute(
        """INSERT INTO prices (printer_group, function, color, paper_size, duplex, price_cents_per_page)
           VALUES (:g, :f, :c, :s, :d, :p)
           ON CONFLICT (printer_group, function, color, paper_size, duplex)
           DO UPDATE SET price_cents_per_page = :p""",
        {
            "g": printer_group or "default",
            "f": function,
            "c": color,
            "s": paper_size or "*",
            "d": int(duplex),
            "p": price_cents,
        },
    )


def create_admin_token(tx: Tx, label: str, now_us: int) -> str:
    """A new admin credential; only its hash is stored."""
    token = secrets.token_urlsafe(32)
    tx.execute(
        "INSERT INTO admin_tokens (token_sha256, label, created_us) VALUES (:h, :l, :t)",
        {"h": sha256_hex(token), "l": _text(label, "label"), "t": now_us},
    )
    return token
