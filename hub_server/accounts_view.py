"""What a session shows a user: their account, money, quotas, and what they may do now."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub_server import ledger
from hub_server.errors import NotFound, PermissionDenied
from hub_server.quotas import QuotaState, quota_states
from hub_server.storage.base import Tx


@dataclass(frozen=True)
class Permissions:
    """The union of a user's roles."""

    allowed_functions: tuple[str, ...]
    color_allowed: bool
    requires_card_pin: bool
    project_required: bool


@dataclass(frozen=True)
class SessionView:
    """Everything GetSession answers."""

    user_id: int
    username: str
    full_name: str
    email: str
    department: str
    account: str
    postpaid: bool
    balance_cents: int
    credit_limit_cents: int
    arrears_cents: int
    permissions: Permissions
    quotas: list[QuotaState] = field(default_factory=list)
    projects: list[tuple[str, str]] = field(default_factory=list)

    @property
    def blocked(self) -> bool:
        """A user with arrears may log in (to see and pay them) but not use the device."""
        return self.arrears_cents > 0

    @property
    def available_cents(self) -> int:
        """What can still be spent (post-paid accounts have no ceiling: 0 here, see ``postpaid``)."""
        if self.postpaid:
            return 0
        return max(0, self.balance_cents + self.credit_limit_cents)


def permissions(tx: Tx, user_id: int) -> Permissions:
    """The union of the user's roles."""
    rows = tx.execute(
        """SELECT r.requires_card_pin, r.allowed_functions, r.color_allowed, r.project_required
           FROM user_roles ur JOIN roles r ON r.name = ur.role_name WHERE ur.user_id = :u""",
        {"u": user_id},
    )
    functions: set[str] = set()
    for row in rows:
        functions.update(f for f in row["allowed_functions"].split(",") if f)
    return Permissions(
        allowed_functions=tuple(sorted(functions)),
        color_allowed=any(row["color_allowed"] for row in rows),
        requires_card_pin=any(row["requires_card_pin"] for row in rows),
        project_required=any(row["project_required"] for row in rows),
    )


def projects_for(tx: Tx, user_id: int) -> list[tuple[str, str]]:
    """(code, name) of every active project the user may charge."""
    rows = tx.execute(
        """SELECT p.code, p.name FROM projects p
           WHERE p.active = 1 AND (p.all_users = 1 OR EXISTS (
               SELECT 1 FROM project_groups pg
               WHERE pg.project_id = p.id AND (
                   pg.group_id IN (SELECT group_id FROM group_members WHERE user_id = :u)
                   OR pg.group_id = (SELECT department_id FROM users WHERE id = :u))))
           ORDER BY p.code""",
        {"u": user_id},
    )
    return [(r["code"], r["name"]) for r in rows]


def charge_account(tx: Tx, user_id: int, project_code: str) -> tuple[int, str, int | None]:
    """(account id, account name, project id) that usage is posted against.

    A chosen project must be one the user may charge; otherwise the user's billing decides:
    their own prepaid credit, or their department's post-paid account.
    """
    if project_code:
        if project_code not in {code for code, _ in projects_for(tx, user_id)}:
            raise PermissionDenied(f"project {project_code!r} is not available to this user")
        row = tx.one(
            "SELECT p.id, a.id AS account_id, a.name FROM projects p JOIN accounts a ON a.id = p.account_id"
            " WHERE p.code = :c",
            {"c": project_code},
        )
        assert row is not None
        return int(row["account_id"]), row["name"], int(row["id"])
    user = tx.one(
        "SELECT u.username, u.billing, g.name AS department FROM users u"
        " LEFT JOIN user_groups g ON g.id = u.department_id WHERE u.id = :u",
        {"u": user_id},
    )
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    name = (
        ledger.department_account_name(user["department"])
        if user["billing"] == "department"
        else ledger.prepaid_account_name(user["username"])
    )
    return ledger.account_id(tx, name), name, None


def session_view(tx: Tx, user_id: int, now_us: int, timezone: str) -> SessionView:
    """Build the session answer for a user."""
    user = tx.one(
        "SELECT u.id, u.username, u.full_name, u.email, g.name AS department FROM users u"
        " LEFT JOIN user_groups g ON g.id = u.department_id WHERE u.id = :u",
        {"u": user_id},
    )
    if user is None:
        raise NotFound(f"no user with id {user_id}")
    account_id, account_name, _ = charge_account(tx, user_id, "")
    account = tx.one(
        "SELECT balance_cents, credit_limit_cents, kind FROM accounts WHERE id = :a", {"a": account_id}
    )
    assert account is not None
    arrears = tx.scalar(
        "SELECT balance_cents FROM accounts WHERE name = :n",
        {"n": ledger.arrears_account_name(user["username"])},
    )
    return SessionView(
        user_id=user_id,
        username=user["username"],
        full_name=user["full_name"],
        email=user["email"],
        department=user["department"] or "",
        account=account_name,
        postpaid=account["kind"] == "postpaid",
        balance_cents=int(account["balance_cents"]),
        credit_limit_cents=int(account["credit_limit_cents"]) if account["kind"] == "prepaid" else 0,
        arrears_cents=-int(arrears or 0),
        permissions=permissions(tx, user_id),
        quotas=quota_states(tx, user_id, now_us, timezone),
        projects=projects_for(tx, user_id),
    )
