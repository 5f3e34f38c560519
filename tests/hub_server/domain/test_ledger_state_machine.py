"""A hypothesis state machine over the ledger: credits, charges, refunds, replays, quota periods.

A plain-Python model predicts every balance; after every step the hub's own books must match it
and :func:`hub_server.domain.ledger.check_ledger` must find nothing wrong.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from hub_server.clock import FakeClock
from hub_server.domain import account_names, ledger, open_hub_database, users
from hub_server.domain.pricing import PriceRecord, UsageLine, set_price
from hub_server.domain.usage import UsageReport, UsageResult, apply_usage
from hub_server.errors import InsufficientFunds, QuotaExceeded, UserBlocked
from hub_server.storage import Tx
from tests.hub_server.conftest import BACKENDS

PRICES = {"mono": 10, "color": 50}
COLOR_PAGES_PER_DAY = 5
USERS = {"u0": 0, "u1": 30}  # username -> credit limit


@dataclass
class UserModel:
    user_id: int
    limit: int
    balance: int = 0
    arrears: int = 0
    color_used: dict[str, int] = field(default_factory=dict)


@dataclass
class ChargeModel:
    key: str
    report: UsageReport
    result: UsageResult
    covered: int
    owed: int
    username: str
    refunded: bool = False


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self, new_database_url: Callable[[], str]) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory()
        self.db = open_hub_database(new_database_url() or f"sqlite:///{Path(self.directory.name) / 'hub.db'}")
        self.clock = FakeClock()
        self.users: dict[str, UserModel] = {}
        self.charges: list[ChargeModel] = []
        self.credit_keys: dict[str, tuple[str, int]] = {}
        self.sequence = 0

    @initialize()
    def seed(self) -> None:
        now = self.clock.now_us()

        def setup(tx: Tx) -> None:
            for color, price in PRICES.items():
                set_price(tx, PriceRecord("copy", color, price))
            for username, limit in USERS.items():
                user_id = users.create_user(
                    tx, users.UserRecord(username=username, credit_limit_cents=limit), now
                )
                self.users[username] = UserModel(user_id=user_id, limit=limit)
            tx.execute(
                """INSERT INTO quota_rules (name, scope, period, unit, color_scope, limit_value, action)
                   VALUES ('colour', 'everyone', 'day', 'pages', 'color', :l, 'block')""",
                {"l": COLOR_PAGES_PER_DAY},
            )

        self.db.write_sync(setup)

    def teardown(self) -> None:
        self.db.close()
        self.directory.cleanup()

    def _day(self) -> str:
        return str(self.clock.now_us() // 86_400_000_000)

    def _key(self) -> str:
        self.sequence += 1
        return f"k{self.sequence}"

    @rule(username=st.sampled_from(sorted(USERS)), amount=st.integers(1, 400))
    def credit(self, username: str, amount: int) -> None:
        key = self._key()
        self._credit(username, amount, key)
        self.credit_keys[key] = (username, amount)
        model = self.users[username]
        model.balance += amount
        settle = max(0, min(model.arrears, model.balance))
        model.balance -= settle
        model.arrears -= settle

    def _credit(self, username: str, amount: int, key: str) -> bool:
        user = self.users[username]
        now = self.clock.now_us()

        def credit(tx: Tx) -> bool:
            claim = ledger.open_transaction(
                tx,
                kind="adjustment",
                recorded_us=now,
                idempotency=("admin", key, ledger.request_fingerprint({"u": username, "a": amount})),
                user_id=user.user_id,
            )
            if claim.stored_response is not None:
                return False
            source = ledger.create_account(tx, account_names.ADJUSTMENTS, "system", now)
            ledger.credit_prepaid(tx, claim.transaction_id, user.user_id, amount, source, now)
            ledger.store_response(tx, claim.transaction_id, {})
            return True

        return self.db.write_sync(credit)

    @precondition(lambda self: self.credit_keys)
    @rule(data=st.data())
    def replay_credit(self, data: st.DataObject) -> None:
        key = data.draw(st.sampled_from(sorted(self.credit_keys)))
        username, amount = self.credit_keys[key]
        assert self._credit(username, amount, key) is False

    @rule(
        username=st.sampled_from(sorted(USERS)),
        pages=st.integers(0, 12),
        color=st.sampled_from(["mono", "color"]),
        performed=st.booleans(),
    )
    def charge(self, username: str, pages: int, color: str, performed: bool) -> None:
        model = self.users[username]
        report = UsageReport(
            user_id=model.user_id,
            terminal_id="t1",
            idempotency_key=self._key(),
            lines=[UsageLine("copy", color, "A4", False, pages)],
            performed=performed,
        )
        cost = pages * PRICES[color]
        color_pages = pages if color == "color" else 0
        used = model.color_used.get(self._day(), 0)
        expected_error: type[Exception] | None = None
        if not performed:
            if model.arrears > 0:
                expected_error = UserBlocked
            elif color_pages and used + color_pages > COLOR_PAGES_PER_DAY:
                expected_error = QuotaExceeded
            elif model.balance - cost < -model.limit:
                expected_error = InsufficientFunds
        if expected_error:
            with pytest.raises(expected_error):
                self._apply(report)
            return
        result = self._apply(report)
        covered = max(0, min(cost, model.balance + model.limit))
        model.balance -= covered
        model.arrears += cost - covered
        if color_pages:
            model.color_used[self._day()] = used + color_pages
        assert result.charged_cents == cost
        assert result.arrears_cents == model.arrears
        self.charges.append(
            ChargeModel(report.idempotency_key, report, result, covered, cost - covered, username)
        )

    def _apply(self, report: UsageReport) -> UsageResult:
        now = self.clock.now_us()
        return self.db.write_sync(lambda tx: apply_usage(tx, report, now, "UTC"))

    @precondition(lambda self: self.charges)
    @rule(data=st.data())
    def replay_charge(self, data: st.DataObject) -> None:
        charge = data.draw(st.sampled_from(self.charges))
        replay = self._apply(charge.report)
        assert replay.already_applied
        assert replay.transaction_id == charge.result.transaction_id
        assert replay.charged_cents == charge.result.charged_cents
        assert replay.balance_cents == charge.result.balance_cents

    @precondition(lambda self: self.charges)
    @rule(data=st.data())
    def refund(self, data: st.DataObject) -> None:
        charge = data.draw(st.sampled_from(self.charges))
        now = self.clock.now_us()
        self.db.write_sync(lambda tx: ledger.reverse(tx, charge.result.transaction_id, now, "refund"))
        if charge.refunded:
            return
        charge.refunded = True
        model = self.users[charge.username]
        back_to_arrears = min(charge.owed, model.arrears)
        model.arrears -= back_to_arrears
        model.balance += charge.covered + (charge.owed - back_to_arrears)

    @rule(hours=st.integers(1, 30))
    def time_passes(self, hours: int) -> None:
        self.clock.advance(hours * 3600)

    @invariant()
    def books_match_the_model(self) -> None:
        if not self.users:
            return

        def read(tx: Tx) -> tuple[list[str], dict[str, tuple[int, int]]]:
            state = {}
            for username in USERS:
                prepaid = ledger.balance(tx, ledger.account_id(tx, account_names.prepaid(username)))
                arrears = tx.scalar(
                    "SELECT balance_cents FROM accounts WHERE name = :n",
                    {"n": account_names.arrears(username)},
                )
                state[username] = (prepaid, -int(arrears or 0))
            return ledger.check_ledger(tx), state

        problems, state = self.db.read(read)
        assert problems == []
        for username, model in self.users.items():
            assert state[username] == (model.balance, model.arrears)
            assert model.balance >= -model.limit


@pytest.mark.parametrize("backend", BACKENDS)
def test_ledger_state_machine(backend: str, request: pytest.FixtureRequest) -> None:
    new_url: Callable[[], str] = (
        (lambda: "") if backend == "sqlite" else request.getfixturevalue("postgres").new_database
    )
    run_state_machine_as_test(
        lambda: LedgerMachine(new_url),  # type: ignore[arg-type]
        settings=settings(
            max_examples=40 if backend == "sqlite" else 15,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
