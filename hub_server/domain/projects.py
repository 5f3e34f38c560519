"""Projects (cost centres): usage charged to a project goes to its own post-paid account.

A project is open to every user or to the members of some groups (a department counts as a
group). The functions run inside a caller's transaction; :class:`Projects` is the domain object
the services call.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hub_server.clock import Clock
from hub_server.domain import account_names, ledger
from hub_server.domain.store import Store
from hub_server.domain.users import group_id
from hub_server.domain.validation import CODE, require, text
from hub_server.errors import PermissionDenied
from hub_server.storage import Tx

__all__ = ["ProjectRecord", "Projects", "create_project", "list_projects", "project_account", "projects_for"]


@dataclass(frozen=True)
class ProjectRecord:
    """A project, who may charge it, and its account's name."""

    code: str
    name: str = ""
    all_users: bool = False
    groups: list[str] = field(default_factory=list)
    active: bool = True
    account: str = ""
    id: int = 0


def create_project(tx: Tx, project: ProjectRecord, now_us: int) -> ProjectRecord:
    """A cost centre with its own post-paid account."""
    require(CODE, project.code, "project code")
    account_name = account_names.project(project.code)
    account = ledger.create_account(tx, account_name, "postpaid", now_us)
    row = tx.one(
        "INSERT INTO projects (code, name, all_users, account_id) VALUES (:c, :n, :a, :acc) RETURNING id",
        {
            "c": project.code,
            "n": text(project.name, "project name"),
            "a": int(project.all_users),
            "acc": account,
        },
    )
    assert row is not None
    for group in project.groups:
        tx.execute(
            "INSERT INTO project_groups (project_id, group_id) VALUES (:p, :g)",
            {"p": row["id"], "g": group_id(tx, group)},
        )
    return ProjectRecord(
        project.code,
        project.name,
        project.all_users,
        list(project.groups),
        True,
        account_name,
        int(row["id"]),
    )


def list_projects(tx: Tx) -> list[ProjectRecord]:
    """Every project by code, with the groups that may charge it."""
    rows = tx.execute(
        "SELECT p.id, p.code, p.name, p.all_users, p.active, a.name AS account"
        " FROM projects p JOIN accounts a ON a.id = p.account_id ORDER BY p.code"
    )
    return [
        ProjectRecord(
            id=int(r["id"]),
            code=str(r["code"]),
            name=str(r["name"]),
            all_users=bool(r["all_users"]),
            active=bool(r["active"]),
            account=str(r["account"]),
            groups=[
                str(g["name"])
                for g in tx.execute(
                    "SELECT g.name FROM project_groups pg JOIN user_groups g ON g.id = pg.group_id"
                    " WHERE pg.project_id = :p ORDER BY g.name",
                    {"p": r["id"]},
                )
            ],
        )
        for r in rows
    ]


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
    return [(str(r["code"]), str(r["name"])) for r in rows]


def project_account(tx: Tx, user_id: int, project_code: str) -> tuple[int, str, int]:
    """(account id, account name, project id) of a project the user may charge."""
    if project_code not in {code for code, _ in projects_for(tx, user_id)}:
        raise PermissionDenied(f"project {project_code!r} is not available to this user")
    row = tx.one(
        "SELECT p.id, a.id AS account_id, a.name FROM projects p JOIN accounts a ON a.id = p.account_id"
        " WHERE p.code = :c",
        {"c": project_code},
    )
    assert row is not None
    return int(row["account_id"]), str(row["name"]), int(row["id"])


class Projects:
    """Projects, for admins."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def create(self, project: ProjectRecord) -> ProjectRecord:
        """A new project with its account."""
        now_us = self._clock.now_us()
        return await self._store.write(lambda tx: create_project(tx, project, now_us))

    def all(self) -> list[ProjectRecord]:
        """Every project."""
        return self._store.read(list_projects)
