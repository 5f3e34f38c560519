"""CSV user import: upsert by username, with a dry run that reports without changing anything.

Columns (header row required, only ``username`` mandatory): ``username, full_name, email,
department, roles, card_numbers, billing, active, credit_limit_cents``. Lists (roles, cards) are
separated by ``;``. Each row is applied on its own: a bad row is reported and skipped. For an
existing user only the columns present in the file change; an empty roles, billing, active or
credit limit cell keeps the current value, an empty name, email or department clears it.
:class:`CsvImport` is the domain object the services call.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from hub_server.clock import Clock
from hub_server.domain import cards, users
from hub_server.domain.accounts import set_credit_limit
from hub_server.domain.store import Store
from hub_server.errors import HubError, InvalidRequest
from hub_server.storage import IntegrityError, Tx

MAX_CSV_BYTES = 16 * 1024 * 1024
MAX_ROWS = 200_000
COLUMNS = (
    "username",
    "full_name",
    "email",
    "department",
    "roles",
    "card_numbers",
    "billing",
    "active",
    "credit_limit_cents",
)


@dataclass
class RowResult:
    """What happened to one row."""

    line: int
    username: str
    action: str  # created, updated, unchanged, error
    message: str = ""


@dataclass
class ImportReport:
    """What an import did (or, dry, would do)."""

    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)

    def count(self, action: str) -> int:
        """How many rows had this outcome."""
        return sum(1 for row in self.rows if row.action == action)


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(";") if item.strip()]


def _parse_bool(value: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("", "true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    raise InvalidRequest(f"active must be true or false, not {value!r}")


def _record(row: dict[str, str]) -> tuple[users.UserRecord, list[str]]:
    limit_text = (row.get("credit_limit_cents") or "0").strip()
    if not limit_text.lstrip("-").isdigit():
        raise InvalidRequest(f"credit_limit_cents must be an integer, not {limit_text!r}")
    user = users.UserRecord(
        username=(row.get("username") or "").strip(),
        full_name=(row.get("full_name") or "").strip(),
        email=(row.get("email") or "").strip(),
        department=(row.get("department") or "").strip(),
        roles=_split(row.get("roles") or "") or [users.DEFAULT_ROLE],
        billing=(row.get("billing") or "prepaid").strip() or "prepaid",
        active=_parse_bool(row.get("active") or ""),
        credit_limit_cents=int(limit_text),
    )
    return user, [cards.normalise_card_number(c) for c in _split(row.get("card_numbers") or "")]


# Columns where an empty cell means "keep what the hub has" rather than "clear it".
KEEP_WHEN_EMPTY = {"roles", "billing", "active", "credit_limit_cents"}


def _columns_to_update(row: dict[str, str]) -> list[str]:
    """Only the columns the CSV has, so a partial file never wipes what it does not mention."""
    return [
        column
        for column in ("full_name", "email", "department", "roles", "billing", "active", "credit_limit_cents")
        if column in row and not (column in KEEP_WHEN_EMPTY and not (row[column] or "").strip())
    ]


def _apply_row(tx: Tx, row: dict[str, str], user: users.UserRecord, numbers: list[str], now_us: int) -> str:
    existing = tx.scalar(f"SELECT id FROM users WHERE {users.USERNAME_IS}", {"u": user.username})
    if existing is None:
        user_id = users.create_user(tx, user, now_us)
        action = "created"
    else:
        user_id = int(existing)
        before = users.get_user(tx, user_id)
        columns = _columns_to_update(row)
        users.update_user(tx, user_id, user, [c for c in columns if c != "credit_limit_cents"], now_us)
        if "credit_limit_cents" in columns:
            set_credit_limit(tx, user_id, user.credit_limit_cents)
        action = "unchanged" if users.get_user(tx, user_id) == before else "updated"
    for number in numbers:
        owner = cards.holder(tx, number)
        if owner is None:
            cards.add_card(tx, user_id, number, "import", now_us)
            action = "updated" if action == "unchanged" else action
        elif owner != user_id:
            raise InvalidRequest(f"card {number} belongs to another user")
    return action


def import_users(tx: Tx, text: str, now_us: int, dry_run: bool) -> ImportReport:
    """Upsert every row; each row in its own savepoint so one bad row changes nothing."""
    if len(text.encode()) > MAX_CSV_BYTES:
        raise InvalidRequest(f"CSV larger than {MAX_CSV_BYTES} bytes")
    reader = csv.DictReader(io.StringIO(text))
    if not reader.fieldnames or "username" not in reader.fieldnames:
        raise InvalidRequest("CSV needs a header row with at least a username column")
    unknown = set(reader.fieldnames) - set(COLUMNS)
    if unknown:
        raise InvalidRequest(f"unknown column(s): {', '.join(sorted(unknown))}")
    report = ImportReport(dry_run=dry_run)
    for index, row in enumerate(reader):
        if index >= MAX_ROWS:
            raise InvalidRequest(f"more than {MAX_ROWS} rows")
        line = reader.line_num
        username = (row.get("username") or "").strip()
        tx.execute("SAVEPOINT import_row")
        try:
            user, numbers = _record(row)
            action = _apply_row(tx, row, user, numbers, now_us)
        except (HubError, IntegrityError) as error:
            tx.execute("ROLLBACK TO import_row")
            report.rows.append(RowResult(line, username, "error", str(error)))
        else:
            report.rows.append(RowResult(line, username, action))
        tx.execute("RELEASE import_row")
    return report


class _DryRun(Exception):
    """Raised inside a write to roll it back, carrying what it would have done."""

    def __init__(self, report: ImportReport) -> None:
        super().__init__("dry run")
        self.report = report


class CsvImport:
    """Users from a CSV file, for admins."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def run(self, text: str, dry_run: bool) -> ImportReport:
        """Import ``text``; a dry run reports what it would do and changes nothing."""
        now_us = self._clock.now_us()

        def run(tx: Tx) -> ImportReport:
            report = import_users(tx, text, now_us, dry_run)
            if dry_run:
                raise _DryRun(report)
            return report

        try:
            return await self._store.write(run)
        except _DryRun as dry:
            return dry.report
