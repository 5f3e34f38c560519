"""ReportUsage: price pages, pick the account, consume quotas and post the charge, exactly once.

The whole report is one write transaction. Its idempotency key (scoped to the reporting
terminal) is claimed first: a replay with the same payload gets the first answer back, a reuse
with another payload is refused, and a report that fails (no credit, quota) leaves nothing behind,
so it can be sent again later.

Usage the terminal has already made (``performed``, e.g. a metered copy session) is never
refused for money: what the user's credit cannot cover is posted to their arrears account, and
the user is blocked until it is paid. Usage asked for in advance is refused instead.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from hub_server.domain import account_names, ledger, quotas, validation
from hub_server.domain.accounts import arrears_cents, charge_account
from hub_server.domain.devices import printer_group_of_terminal
from hub_server.domain.pricing import PricedLine, UsageLine, price_lines
from hub_server.domain.users import permissions, username_of
from hub_server.errors import InsufficientFunds, InvalidRequest, PermissionDenied, UserBlocked
from hub_server.storage import Tx

MAX_DESCRIPTION_CHARS = 256


@dataclass(frozen=True)
class UsageReport:
    """One report from a terminal, already tied to its session's user."""

    user_id: int
    terminal_id: str
    idempotency_key: str
    lines: list[UsageLine]
    project_code: str = ""
    occurred_us: int | None = None
    performed: bool = False
    description: str = ""
    # the MFP's scan counter over a copy session: compared with the scans delivered, never charged;
    # sent_only: the counter counts only scans sent (copies are not in it)
    scan_counter_pages: int | None = None
    scan_counter_sent_only: bool = False

    def fingerprint(self) -> str:
        """Hash of everything that makes this report what it is."""
        payload: dict[str, Any] = {
            "user_id": self.user_id,
            "lines": [asdict(line) for line in self.lines],
            "project": self.project_code,
            "occurred_us": self.occurred_us,
            "performed": self.performed,
            "description": self.description,
        }
        if self.scan_counter_pages is not None:  # reports without it keep their fingerprint
            payload["scan_counter_pages"] = self.scan_counter_pages
            payload["scan_counter_sent_only"] = self.scan_counter_sent_only
        return ledger.request_fingerprint(payload)


@dataclass
class UsageResult:
    """The answer to a report; stored and returned unchanged to every replay."""

    transaction_id: int
    charged_cents: int
    priced_lines: list[PricedLine]
    account: str
    balance_cents: int
    arrears_cents: int
    recorded_us: int
    quota_warnings: list[str] = field(default_factory=list)
    already_applied: bool = False

    @property
    def blocked(self) -> bool:
        """True when the user now owes arrears."""
        return self.arrears_cents > 0

    def to_json(self) -> dict[str, Any]:
        """The stored form."""
        data = asdict(self)
        data.pop("already_applied")
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> UsageResult:
        """Rebuild a stored answer, marked as a replay."""
        lines = [PricedLine(**line) for line in data.pop("priced_lines")]
        return cls(**data, priced_lines=lines, already_applied=True)


def _validate(report: UsageReport) -> None:
    validation.idempotency_key(report.idempotency_key)
    if len(report.description) > MAX_DESCRIPTION_CHARS:
        raise InvalidRequest(f"description longer than {MAX_DESCRIPTION_CHARS} characters")


def _check_allowed(tx: Tx, report: UsageReport, lines: list[PricedLine]) -> None:
    allowed = permissions(tx, report.user_id)
    for line in lines:
        if line.pages and line.function not in allowed.allowed_functions:
            raise PermissionDenied(f"{line.function} is not allowed for this user")
        if line.pages and line.color == "color" and not allowed.color_allowed:
            raise PermissionDenied("colour is not allowed for this user")
    if allowed.project_required and not report.project_code:
        raise InvalidRequest("this user must choose a project")


def apply_usage(tx: Tx, report: UsageReport, now_us: int, timezone: str) -> UsageResult:
    """Apply a report inside the caller's write transaction (see the module docstring)."""
    _validate(report)
    account_id, account_name, project_id = charge_account(tx, report.user_id, report.project_code)
    claim = ledger.open_transaction(
        tx,
        kind="usage",
        recorded_us=now_us,
        idempotency=(f"terminal:{report.terminal_id}", report.idempotency_key, report.fingerprint()),
        user_id=report.user_id,
        terminal_id=report.terminal_id,
        project_id=project_id,
        description=report.description,
        occurred_us=report.occurred_us,
    )
    if claim.stored_response is not None:
        return UsageResult.from_json(claim.stored_response)
    # a copy session that only scanned reports the MFP's scan counter and no lines: nothing to price
    counter_only = not report.lines and report.scan_counter_pages is not None
    lines = (
        []
        if counter_only
        else price_lines(tx, printer_group_of_terminal(tx, report.terminal_id), report.lines)
    )
    if not report.performed:
        _check_allowed(tx, report, lines)
        if arrears_cents(tx, report.user_id) > 0:
            raise UserBlocked("arrears from an earlier session must be paid first")
    warnings = quotas.consume(tx, report.user_id, lines, now_us, timezone, report.performed)
    charged = sum(line.amount_cents for line in lines)
    record_lines(tx, claim.transaction_id, lines)
    balances = post_charge(
        tx, claim.transaction_id, report.user_id, account_id, charged, now_us, performed=report.performed
    )
    result = UsageResult(
        transaction_id=claim.transaction_id,
        charged_cents=charged,
        priced_lines=lines,
        account=account_name,
        balance_cents=balances.get(account_id, ledger.balance(tx, account_id)),
        arrears_cents=arrears_cents(tx, report.user_id),
        recorded_us=now_us,
        quota_warnings=warnings,
    )
    ledger.store_response(tx, claim.transaction_id, result.to_json())
    return result


def record_lines(tx: Tx, transaction_id: int, lines: list[PricedLine]) -> None:
    """Keep a transaction's priced lines (what was used, at which unit price)."""
    for line in lines:
        tx.execute(
            """INSERT INTO usage_lines (transaction_id, function, color, paper_size, duplex, pages,
                   unit_price_cents, amount_cents)
               VALUES (:t, :f, :c, :s, :d, :p, :u, :a)""",
            {
                "t": transaction_id,
                "f": line.function,
                "c": line.color,
                "s": line.paper_size,
                "d": int(line.duplex),
                "p": line.pages,
                "u": line.unit_price_cents,
                "a": line.amount_cents,
            },
        )


def post_charge(
    tx: Tx, transaction_id: int, user_id: int, account_id: int, charged: int, now_us: int, *, performed: bool
) -> dict[int, int]:
    """Post ``charged`` cents from the account to revenue. Usage not yet ``performed`` needs the
    credit to cover it (:class:`InsufficientFunds`); performed usage takes what the credit
    covers and puts the rest into the user's arrears."""
    account = ledger.lock_account(tx, account_id)
    covered = charged
    if account["kind"] == "prepaid":
        covered = max(0, min(charged, int(account["balance_cents"]) + int(account["credit_limit_cents"])))
    if covered < charged and not performed:
        raise InsufficientFunds(f"{charged} cents needed, {covered} available")
    revenue = ledger.create_account(tx, account_names.REVENUE, "system", now_us)
    postings = [ledger.Posting(account_id, -covered), ledger.Posting(revenue, charged)]
    if covered < charged:
        # The pages exist: the credit covers what it can, the rest becomes arrears.
        arrears = ledger.create_account(
            tx,
            account_names.arrears(username_of(tx, user_id)),
            "arrears",
            now_us,
            owner_user_id=user_id,
        )
        postings.append(ledger.Posting(arrears, covered - charged))
    return ledger.post(tx, transaction_id, postings)
