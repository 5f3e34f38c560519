"""AdminService: the directory, prices, money and quotas, for admins holding an admin token."""

from __future__ import annotations

import secrets
from typing import Any

import grpc
from printgate.v1 import admin_pb2, admin_pb2_grpc, common_pb2

from hub_server import csv_import, directory, jobs, ledger
from hub_server.errors import AlreadyExists, InvalidRequest, NotFound
from hub_server.hub import Hub
from hub_server.pricing import ANY_SIZE, COLORS, DEFAULT_GROUP, FUNCTIONS
from hub_server.quotas import QuotaRuleRow
from hub_server.release import PrintJobs
from hub_server.security import pin_lookup_key
from hub_server.services.common import AdminCalls, timestamp_from_us, translate_errors
from hub_server.services.terminal import COLOR_ENUMS, COLOR_NAMES, FUNCTION_ENUMS, FUNCTION_NAMES
from hub_server.storage.base import Tx

BILLING_NAMES = {admin_pb2.BILLING_PREPAID: "prepaid", admin_pb2.BILLING_DEPARTMENT: "department"}
BILLING_ENUMS = {name: value for value, name in BILLING_NAMES.items()}
KIND_NAMES = {admin_pb2.TERMINAL_KIND_TERMINAL: "terminal", admin_pb2.TERMINAL_KIND_KIOSK: "kiosk"}
ACCOUNT_KINDS = {
    "prepaid": admin_pb2.ACCOUNT_KIND_PREPAID,
    "postpaid": admin_pb2.ACCOUNT_KIND_POSTPAID,
    "system": admin_pb2.ACCOUNT_KIND_SYSTEM,
    "arrears": admin_pb2.ACCOUNT_KIND_ARREARS,
}
PERIODS = {
    common_pb2.QUOTA_PERIOD_DAY: "day",
    common_pb2.QUOTA_PERIOD_WEEK: "week",
    common_pb2.QUOTA_PERIOD_MONTH: "month",
}
UNITS = {common_pb2.QUOTA_UNIT_PAGES: "pages", common_pb2.QUOTA_UNIT_CENTS: "cents"}
COLOR_SCOPES = {
    common_pb2.QUOTA_COLOR_SCOPE_ANY: "any",
    common_pb2.QUOTA_COLOR_SCOPE_MONO: "mono",
    common_pb2.QUOTA_COLOR_SCOPE_COLOR: "color",
}
ACTIONS = {common_pb2.QUOTA_ACTION_BLOCK: "block", common_pb2.QUOTA_ACTION_WARN: "warn"}
MAX_LIST = 1000
PIN_ATTEMPTS = 50


def _enum(table: dict[Any, str], value: Any, what: str) -> str:
    if value not in table:
        raise InvalidRequest(f"{what} must be set")
    return table[value]


def _reverse(table: dict[Any, str]) -> dict[str, Any]:
    return {name: value for value, name in table.items()}


class _DryRun(Exception):
    """Raised inside a write to roll it back, carrying what it would have done."""

    def __init__(self, report: csv_import.ImportReport) -> None:
        super().__init__("dry run")
        self.report = report


def user_ref_id(tx: Tx, ref: admin_pb2.UserRef) -> int:
    """The id a UserRef names."""
    which = ref.WhichOneof("ref")
    if which == "id":
        if tx.scalar("SELECT id FROM users WHERE id = :u", {"u": ref.id}) is None:
            raise NotFound(f"no user with id {ref.id}")
        return int(ref.id)
    if which == "username":
        return directory.user_id_by_name(tx, ref.username)
    raise InvalidRequest("a user id or username is needed")


def user_message(user: directory.UserRecord) -> admin_pb2.User:
    """The wire form of a user."""
    return admin_pb2.User(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        department=user.department,
        roles=user.roles,
        active=user.active,
        billing=BILLING_ENUMS[user.billing],
        groups=user.groups,
        has_pin=user.has_pin,
        has_password=user.has_password,
        credit_limit_cents=user.credit_limit_cents,
    )


def user_record(message: admin_pb2.User) -> directory.UserRecord:
    """A domain user from its wire form (billing defaults to prepaid)."""
    return directory.UserRecord(
        username=message.username,
        full_name=message.full_name,
        email=message.email,
        department=message.department,
        roles=list(message.roles) or [directory.DEFAULT_ROLE],
        active=message.active if message.HasField("active") else True,
        billing=BILLING_NAMES.get(message.billing, "prepaid"),
        groups=list(message.groups),
        credit_limit_cents=message.credit_limit_cents,
    )


@translate_errors
class AdminServicer(AdminCalls, admin_pb2_grpc.AdminServiceServicer):
    """The hub side of AdminService; every call needs an admin token. ``print_jobs`` (None
    when print intake is off) shreds the documents of deleted print jobs."""

    def __init__(self, hub: Hub, print_jobs: PrintJobs | None = None) -> None:
        self.hub = hub
        self.print_jobs = print_jobs

    def _now(self) -> int:
        return self.hub.clock.now_us()

    # -- users ------------------------------------------------------------------------------

    async def CreateUser(self, request: admin_pb2.User, context: grpc.aio.ServicerContext) -> admin_pb2.User:
        self._authorise(context)
        record = user_record(request)
        password_hash = None
        if request.initial_password:
            password_hash = self.hub.hasher.hash(_password(request.initial_password))

        def create(tx: Tx) -> directory.UserRecord:
            return directory.get_user(tx, directory.create_user(tx, record, self._now(), password_hash))

        return user_message(await self.hub.db.write(create))

    async def UpdateUser(
        self, request: admin_pb2.UpdateUserRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.User:
        def update(tx: Tx) -> directory.UserRecord:
            user_id = user_ref_id(tx, request.user)
            directory.update_user(tx, user_id, user_record(request.values), list(request.fields), self._now())
            return directory.get_user(tx, user_id)

        return user_message(await self._write(context, update))

    async def GetUser(self, request: admin_pb2.UserRef, context: grpc.aio.ServicerContext) -> admin_pb2.User:
        return user_message(self._read(context, lambda tx: directory.get_user(tx, user_ref_id(tx, request))))

    async def ListUsers(
        self, request: admin_pb2.ListUsersRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListUsersResponse:
        limit = min(request.limit or 100, MAX_LIST)
        users, total = self._read(
            context, lambda tx: directory.list_users(tx, request.query, limit, request.offset)
        )
        return admin_pb2.ListUsersResponse(users=[user_message(u) for u in users], total=total)

    async def SetPin(
        self, request: admin_pb2.SetPinRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.SetPinResponse:
        self._authorise(context)
        minimum = self.hub.config.auth.min_pin_digits
        if request.pin and (not request.pin.isdigit() or not minimum <= len(request.pin) <= 12):
            raise InvalidRequest(f"a PIN is {minimum} to 12 digits")
        for _ in range(PIN_ATTEMPTS if not request.pin else 1):
            pin = request.pin or "".join(secrets.choice("0123456789") for _ in range(max(minimum, 6)))
            try:
                await self._store_pin(request.user, pin)
            except AlreadyExists:
                if request.pin:
                    raise AlreadyExists("that PIN is already in use; choose another") from None
                continue
            return admin_pb2.SetPinResponse(pin="" if request.pin else pin)
        raise AlreadyExists("could not find a free PIN")

    async def _store_pin(self, ref: admin_pb2.UserRef, pin: str) -> None:
        pin_hash = self.hub.hasher.hash(pin)
        lookup = pin_lookup_key(self.hub.secret, pin) if self.hub.config.auth.pin_login else None

        def store(tx: Tx) -> None:
            tx.execute(
                "UPDATE users SET pin_hash = :h, pin_lookup = :k WHERE id = :u",
                {"h": pin_hash, "k": lookup, "u": user_ref_id(tx, ref)},
            )

        await self.hub.db.write(store)

    async def SetPassword(
        self, request: admin_pb2.SetPasswordRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        self._authorise(context)
        password_hash = self.hub.hasher.hash(_password(request.password))
        await self.hub.db.write(
            lambda tx: tx.execute(
                "UPDATE users SET password_hash = :h WHERE id = :u",
                {"h": password_hash, "u": user_ref_id(tx, request.user)},
            )
        )
        return admin_pb2.Empty()

    async def UnlockIdentity(
        self, request: admin_pb2.UnlockIdentityRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        if request.WhichOneof("identity") == "terminal_id":
            terminal = request.terminal_id
            known = self._read(
                context, lambda tx: tx.scalar("SELECT id FROM terminals WHERE id = :t", {"t": terminal})
            )
            if known is None:
                raise NotFound(f"no terminal {terminal!r}")
            identity = f"terminal:{terminal}"
        else:
            identity = f"user:{self._read(context, lambda tx: user_ref_id(tx, request.user))}"
        self._authorise(context)
        await self.hub.unlock(identity)
        return admin_pb2.Empty()

    async def ImportUsers(
        self, request: admin_pb2.ImportUsersRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ImportUsersResponse:
        def run(tx: Tx) -> csv_import.ImportReport:
            report = csv_import.import_users(tx, request.csv, self._now(), request.dry_run)
            if request.dry_run:
                raise _DryRun(report)
            return report

        try:
            report = await self._write(context, run)
        except _DryRun as dry:
            report = dry.report
        return admin_pb2.ImportUsersResponse(
            dry_run=report.dry_run,
            created=report.count("created"),
            updated=report.count("updated"),
            unchanged=report.count("unchanged"),
            errors=report.count("error"),
            rows=[
                admin_pb2.ImportRowResult(
                    line=r.line, username=r.username, action=r.action, message=r.message
                )
                for r in report.rows
            ],
        )

    # -- cards, groups, roles, projects -------------------------------------------------------

    async def AddCard(self, request: admin_pb2.Card, context: grpc.aio.ServicerContext) -> admin_pb2.Card:
        def add(tx: Tx) -> admin_pb2.Card:
            user_id = user_ref_id(tx, request.user)
            card_id = directory.add_card(tx, user_id, request.number, request.label, self._now())
            return _card(tx, card_id)

        return await self._write(context, add)

    async def RemoveCard(
        self, request: admin_pb2.CardRef, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        await self._write(context, lambda tx: directory.remove_card(tx, request.number))
        return admin_pb2.Empty()

    async def ListCards(
        self, request: admin_pb2.UserRef, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListCardsResponse:
        def cards(tx: Tx) -> list[admin_pb2.Card]:
            user_id = user_ref_id(tx, request)
            ids = tx.execute("SELECT id FROM cards WHERE user_id = :u ORDER BY id", {"u": user_id})
            return [_card(tx, int(row["id"])) for row in ids]

        return admin_pb2.ListCardsResponse(cards=self._read(context, cards))

    async def CreateGroup(
        self, request: admin_pb2.Group, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Group:
        kind = "department" if request.kind == admin_pb2.GROUP_KIND_DEPARTMENT else "group"

        def create(tx: Tx) -> int:
            if tx.scalar("SELECT id FROM user_groups WHERE name = :n", {"n": request.name}) is not None:
                raise AlreadyExists(f"group {request.name!r} already exists")
            return directory.ensure_group(tx, request.name, kind, self._now())

        group_id = await self._write(context, create)
        return admin_pb2.Group(
            id=group_id, name=request.name, kind=request.kind or admin_pb2.GROUP_KIND_GROUP
        )

    async def ListGroups(
        self, request: admin_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListGroupsResponse:
        rows = self._read(
            context,
            lambda tx: tx.execute(
                """SELECT g.id, g.name, g.kind,
                       (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id)
                       + (SELECT COUNT(*) FROM users u WHERE u.department_id = g.id) AS members
                   FROM user_groups g ORDER BY g.name"""
            ),
        )
        kinds = {"group": admin_pb2.GROUP_KIND_GROUP, "department": admin_pb2.GROUP_KIND_DEPARTMENT}
        return admin_pb2.ListGroupsResponse(
            groups=[
                admin_pb2.Group(id=r["id"], name=r["name"], kind=kinds[r["kind"]], member_count=r["members"])
                for r in rows
            ]
        )

    async def SetGroupMembership(
        self, request: admin_pb2.GroupMembershipRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        await self._write(
            context,
            lambda tx: directory.set_membership(
                tx, request.group, user_ref_id(tx, request.user), request.member
            ),
        )
        return admin_pb2.Empty()

    async def UpsertRole(self, request: admin_pb2.Role, context: grpc.aio.ServicerContext) -> admin_pb2.Role:
        functions = [FUNCTION_NAMES[f] for f in request.allowed_functions if f in FUNCTION_NAMES]
        await self._write(
            context,
            lambda tx: directory.upsert_role(
                tx,
                request.name,
                request.requires_card_pin,
                functions,
                request.color_allowed,
                request.project_required,
            ),
        )
        return request

    async def ListRoles(
        self, request: admin_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListRolesResponse:
        rows = self._read(context, lambda tx: tx.execute("SELECT * FROM roles ORDER BY name"))
        return admin_pb2.ListRolesResponse(
            roles=[
                admin_pb2.Role(
                    name=r["name"],
                    requires_card_pin=bool(r["requires_card_pin"]),
                    allowed_functions=[FUNCTION_ENUMS[f] for f in r["allowed_functions"].split(",") if f],
                    color_allowed=bool(r["color_allowed"]),
                    project_required=bool(r["project_required"]),
                )
                for r in rows
            ]
        )

    async def CreateProject(
        self, request: admin_pb2.Project, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Project:
        project_id = await self._write(
            context,
            lambda tx: directory.create_project(
                tx, request.code, request.name, request.all_users, list(request.groups), self._now()
            ),
        )
        return admin_pb2.Project(
            id=project_id,
            code=request.code,
            name=request.name,
            all_users=request.all_users,
            groups=request.groups,
            active=True,
            account=ledger.project_account_name(request.code),
        )

    async def ListProjects(
        self, request: admin_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListProjectsResponse:
        def projects(tx: Tx) -> list[admin_pb2.Project]:
            rows = tx.execute(
                "SELECT p.id, p.code, p.name, p.all_users, p.active, a.name AS account"
                " FROM projects p JOIN accounts a ON a.id = p.account_id ORDER BY p.code"
            )
            return [
                admin_pb2.Project(
                    id=r["id"],
                    code=r["code"],
                    name=r["name"],
                    all_users=bool(r["all_users"]),
                    active=bool(r["active"]),
                    account=r["account"],
                    groups=[
                        g["name"]
                        for g in tx.execute(
                            "SELECT g.name FROM project_groups pg JOIN user_groups g ON g.id = pg.group_id"
                            " WHERE pg.project_id = :p ORDER BY g.name",
                            {"p": r["id"]},
                        )
                    ],
                )
                for r in rows
            ]

        return admin_pb2.ListProjectsResponse(projects=self._read(context, projects))

    # -- printers, terminals, prices ------------------------------------------------------------

    async def UpsertPrinter(
        self, request: admin_pb2.Printer, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Printer:
        printer_id = await self._write(
            context,
            lambda tx: directory.upsert_printer(
                tx,
                request.name,
                request.address,
                request.transport or "raw9100",
                request.vendor_profile,
                request.printer_group,
                request.location,
            ),
        )
        return self._read(context, lambda tx: _printers(tx, printer_id)[0])

    async def ListPrinters(
        self, request: admin_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListPrintersResponse:
        return admin_pb2.ListPrintersResponse(printers=self._read(context, lambda tx: _printers(tx, None)))

    async def CreateTerminal(
        self, request: admin_pb2.Terminal, context: grpc.aio.ServicerContext
    ) -> admin_pb2.CreateTerminalResponse:
        kind = KIND_NAMES.get(request.kind, "terminal")
        key = await self._write(
            context,
            lambda tx: directory.create_terminal(
                tx, request.id, kind, request.printer, request.location, self._now()
            ),
        )
        terminal = admin_pb2.Terminal(
            id=request.id,
            kind=request.kind or admin_pb2.TERMINAL_KIND_TERMINAL,
            printer=request.printer,
            location=request.location,
        )
        return admin_pb2.CreateTerminalResponse(terminal=terminal, key=key)

    async def ListTerminals(
        self, request: admin_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListTerminalsResponse:
        rows = self._read(
            context,
            lambda tx: tx.execute(
                "SELECT t.id, t.kind, t.location, p.name AS printer FROM terminals t"
                " LEFT JOIN printers p ON p.id = t.printer_id ORDER BY t.id"
            ),
        )
        kinds = _reverse(KIND_NAMES)
        return admin_pb2.ListTerminalsResponse(
            terminals=[
                admin_pb2.Terminal(
                    id=r["id"], kind=kinds[r["kind"]], printer=r["printer"] or "", location=r["location"]
                )
                for r in rows
            ]
        )

    async def SetPrice(self, request: admin_pb2.Price, context: grpc.aio.ServicerContext) -> admin_pb2.Price:
        function = _enum(FUNCTION_NAMES, request.function, "function")
        color = _enum(COLOR_NAMES, request.color, "colour mode")
        await self._write(
            context,
            lambda tx: directory.set_price(
                tx,
                request.printer_group,
                function,
                color,
                request.paper_size,
                request.duplex,
                request.price_cents_per_page,
            ),
        )
        stored = admin_pb2.Price()
        stored.CopyFrom(request)
        stored.printer_group = request.printer_group or DEFAULT_GROUP
        stored.paper_size = request.paper_size or ANY_SIZE
        return stored

    async def ListPrices(
        self, request: admin_pb2.ListPricesRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListPricesResponse:
        where = "WHERE printer_group = :g" if request.printer_group else ""
        rows = self._read(
            context,
            lambda tx: tx.execute(
                f"SELECT * FROM prices {where} ORDER BY printer_group, function, color, paper_size, duplex",
                {"g": request.printer_group},
            ),
        )
        return admin_pb2.ListPricesResponse(
            prices=[
                admin_pb2.Price(
                    printer_group=r["printer_group"],
                    function=FUNCTION_ENUMS[r["function"]],
                    color=COLOR_ENUMS[r["color"]],
                    paper_size=r["paper_size"],
                    duplex=bool(r["duplex"]),
                    price_cents_per_page=r["price_cents_per_page"],
                )
                for r in rows
                if r["function"] in FUNCTIONS and r["color"] in COLORS
            ]
        )

    # -- money --------------------------------------------------------------------------------

    async def ListAccounts(
        self, request: admin_pb2.ListAccountsRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListAccountsResponse:
        def accounts(tx: Tx) -> list[admin_pb2.Account]:
            where, params = "", {}
            if request.HasField("user"):
                where, params = "WHERE a.owner_user_id = :u", {"u": user_ref_id(tx, request.user)}
            rows = tx.execute(
                f"""SELECT a.*, COALESCE(u.username, g.name, '') AS owner FROM accounts a
                    LEFT JOIN users u ON u.id = a.owner_user_id
                    LEFT JOIN user_groups g ON g.id = a.owner_group_id {where} ORDER BY a.name""",
                params,
            )
            return [_account(r) for r in rows]

        return admin_pb2.ListAccountsResponse(accounts=self._read(context, accounts))

    async def AdjustCredit(
        self, request: admin_pb2.AdjustCreditRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.AdjustCreditResponse:
        if not request.reason.strip():
            raise InvalidRequest("a credit adjustment needs a reason")
        if not request.idempotency_key:
            raise InvalidRequest("a credit adjustment needs an idempotency key")
        if request.amount_cents == 0:
            raise InvalidRequest("amount must not be zero")
        now_us = self._now()

        def adjust(tx: Tx) -> admin_pb2.AdjustCreditResponse:
            which = request.WhichOneof("target")
            user_id = user_ref_id(tx, request.user) if which == "user" else None
            target = ledger.account_id(tx, request.account) if which == "account" else None
            if user_id is None and target is None:
                raise InvalidRequest("a user or an account is needed")
            fingerprint = ledger.request_fingerprint(
                {"user": user_id, "account": target, "amount": request.amount_cents, "reason": request.reason}
            )
            claim = ledger.open_transaction(
                tx,
                kind="adjustment",
                recorded_us=now_us,
                idempotency=("admin", request.idempotency_key, fingerprint),
                user_id=user_id,
                description=request.reason[:256],
            )
            if claim.stored_response is not None:
                return admin_pb2.AdjustCreditResponse(
                    transaction_id=claim.transaction_id,
                    balance_cents=claim.stored_response["balance_cents"],
                    already_applied=True,
                )
            source = ledger.create_account(tx, ledger.ADJUSTMENTS, "system", now_us)
            if user_id is not None:
                balances = ledger.credit_prepaid(
                    tx, claim.transaction_id, user_id, request.amount_cents, source, now_us
                )
                username = tx.scalar("SELECT username FROM users WHERE id = :u", {"u": user_id})
                target = ledger.account_id(tx, ledger.prepaid_account_name(username))
            else:
                assert target is not None
                balances = ledger.post(
                    tx,
                    claim.transaction_id,
                    [
                        ledger.Posting(target, request.amount_cents),
                        ledger.Posting(source, -request.amount_cents),
                    ],
                )
            balance = balances.get(target, ledger.balance(tx, target))
            ledger.store_response(tx, claim.transaction_id, {"balance_cents": balance})
            return admin_pb2.AdjustCreditResponse(transaction_id=claim.transaction_id, balance_cents=balance)

        return await self._write(context, adjust)

    async def SetCreditLimit(
        self, request: admin_pb2.SetCreditLimitRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Account:
        def set_limit(tx: Tx) -> admin_pb2.Account:
            user_id = user_ref_id(tx, request.user)
            directory.set_credit_limit(tx, user_id, request.credit_limit_cents)
            row = tx.one(
                "SELECT a.*, u.username AS owner FROM accounts a JOIN users u ON u.id = a.owner_user_id"
                " WHERE a.owner_user_id = :u AND a.kind = 'prepaid'",
                {"u": user_id},
            )
            assert row is not None
            return _account(row)

        return await self._write(context, set_limit)

    async def GetLedger(
        self, request: admin_pb2.GetLedgerRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.GetLedgerResponse:
        limit = min(request.limit or 100, MAX_LIST)

        def entries(tx: Tx) -> list[admin_pb2.LedgerEntry]:
            if request.WhichOneof("target") == "user":
                user_id = user_ref_id(tx, request.user)
                accounts = "(SELECT id FROM accounts WHERE owner_user_id = :u)"
                params: dict[str, Any] = {"u": user_id}
            elif request.WhichOneof("target") == "account":
                accounts = "(:a)"
                params = {"a": ledger.account_id(tx, request.account)}
            else:
                raise InvalidRequest("a user or an account is needed")
            params.update({"before": request.before_transaction_id or 2**62, "limit": limit})
            rows = tx.execute(
                f"""SELECT e.transaction_id, e.amount_cents, e.balance_after_cents, a.name AS account,
                           t.kind, t.recorded_us, t.description, t.terminal_id, t.idempotency_key
                    FROM entries e JOIN transactions t ON t.id = e.transaction_id
                    JOIN accounts a ON a.id = e.account_id
                    WHERE e.account_id IN {accounts} AND e.transaction_id < :before
                    ORDER BY e.id DESC LIMIT :limit""",
                params,
            )
            return [
                admin_pb2.LedgerEntry(
                    transaction_id=r["transaction_id"],
                    recorded_at=timestamp_from_us(r["recorded_us"]),
                    kind=r["kind"],
                    account=r["account"],
                    amount_cents=r["amount_cents"],
                    balance_after_cents=r["balance_after_cents"],
                    description=r["description"],
                    terminal_id=r["terminal_id"] or "",
                    idempotency_key=r["idempotency_key"] or "",
                )
                for r in rows
            ]

        return admin_pb2.GetLedgerResponse(entries=self._read(context, entries))

    async def CheckLedger(
        self, request: admin_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> admin_pb2.CheckLedgerResponse:
        def check(tx: Tx) -> admin_pb2.CheckLedgerResponse:
            problems = ledger.check_ledger(tx)
            return admin_pb2.CheckLedgerResponse(
                ok=not problems,
                transactions=int(tx.scalar("SELECT COUNT(*) AS n FROM transactions") or 0),
                accounts=int(tx.scalar("SELECT COUNT(*) AS n FROM accounts") or 0),
                problems=problems,
            )

        return self._read(context, check)

    # -- quotas -------------------------------------------------------------------------------

    async def CreateQuotaRule(
        self, request: admin_pb2.QuotaRule, context: grpc.aio.ServicerContext
    ) -> admin_pb2.QuotaRule:
        rule = QuotaRuleRow(
            id=0,
            name=request.name or "quota",
            period=_enum(PERIODS, request.period, "period"),
            unit=_enum(UNITS, request.unit, "unit"),
            color_scope=COLOR_SCOPES.get(request.color_scope, "any"),
            limit=request.limit,
            action=ACTIONS.get(request.action, "block"),
        )
        if rule.limit < 0:
            raise InvalidRequest("a quota limit cannot be negative")

        def create(tx: Tx) -> int:
            scope = request.WhichOneof("scope") or "everyone"
            group_id = directory.group_id(tx, request.group) if scope == "group" else None
            user_id = user_ref_id(tx, request.user) if scope == "user" else None
            row = tx.one(
                """INSERT INTO quota_rules (name, scope, group_id, user_id, period, unit, color_scope,
                       limit_value, action)
                   VALUES (:n, :s, :g, :u, :p, :un, :c, :l, :a) RETURNING id""",
                {
                    "n": rule.name[:128],
                    "s": scope,
                    "g": group_id,
                    "u": user_id,
                    "p": rule.period,
                    "un": rule.unit,
                    "c": rule.color_scope,
                    "l": rule.limit,
                    "a": rule.action,
                },
            )
            assert row is not None
            return int(row["id"])

        rule_id = await self._write(context, create)
        created = admin_pb2.QuotaRule()
        created.CopyFrom(request)
        created.id = rule_id
        return created

    async def ListQuotaRules(
        self, request: admin_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListQuotaRulesResponse:
        def rules(tx: Tx) -> list[admin_pb2.QuotaRule]:
            rows = tx.execute(
                """SELECT q.*, g.name AS group_name, u.username FROM quota_rules q
                   LEFT JOIN user_groups g ON g.id = q.group_id LEFT JOIN users u ON u.id = q.user_id
                   ORDER BY q.id"""
            )
            return [_quota_rule(r) for r in rows]

        return admin_pb2.ListQuotaRulesResponse(rules=self._read(context, rules))

    async def DeleteQuotaRule(
        self, request: admin_pb2.QuotaRuleRef, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        def delete(tx: Tx) -> None:
            tx.execute("DELETE FROM quota_usage WHERE rule_id = :r", {"r": request.id})
            if not tx.execute("DELETE FROM quota_rules WHERE id = :r RETURNING id", {"r": request.id}):
                raise NotFound(f"no quota rule {request.id}")

        await self._write(context, delete)
        return admin_pb2.Empty()

    # -- print jobs and delegation -----------------------------------------------------------

    async def DelegateJobs(
        self, request: admin_pb2.Delegation, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        now_us = self.hub.clock.now_us()

        def add(tx: Tx) -> None:
            jobs.delegate(tx, *_delegate_ids(tx, request), now_us)

        await self._write(context, add)
        return admin_pb2.Empty()

    async def UndelegateJobs(
        self, request: admin_pb2.Delegation, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        def remove(tx: Tx) -> None:
            if not jobs.undelegate(tx, *_delegate_ids(tx, request)):
                raise NotFound("no such delegation")

        await self._write(context, remove)
        return admin_pb2.Empty()

    async def ListDelegations(
        self, request: admin_pb2.ListDelegationsRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListDelegationsResponse:
        def read(tx: Tx) -> list[tuple[str, str, str]]:
            owner = user_ref_id(tx, request.owner) if request.HasField("owner") else None
            return jobs.list_delegations(tx, owner)

        rows = self._read(context, read)
        delegations = []
        for owner, kind, name in rows:
            delegation = admin_pb2.Delegation(owner=admin_pb2.UserRef(username=owner))
            if kind == "user":
                delegation.delegate_user.username = name
            else:
                delegation.delegate_group = name
            delegations.append(delegation)
        return admin_pb2.ListDelegationsResponse(delegations=delegations)

    async def ListPrintJobs(
        self, request: admin_pb2.ListPrintJobsRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListPrintJobsResponse:
        limit = min(request.limit or MAX_LIST, MAX_LIST)

        def read(tx: Tx) -> list[Any]:
            owner = user_ref_id(tx, request.owner) if request.HasField("owner") else None
            return list(jobs.list_print_jobs(tx, owner, limit))

        return admin_pb2.ListPrintJobsResponse(jobs=[_print_job(row) for row in self._read(context, read)])

    async def AssignPrintJob(
        self, request: admin_pb2.AssignPrintJobRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.PrintJob:
        row = await self._write(
            context, lambda tx: jobs.assign_owner(tx, request.job_id, user_ref_id(tx, request.owner))
        )
        return _print_job(row)

    async def DeletePrintJobs(
        self, request: admin_pb2.DeletePrintJobsRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.DeletePrintJobsResponse:
        self._authorise(context)
        if self.print_jobs is None:
            raise InvalidRequest("print intake is not enabled on this hub")
        return admin_pb2.DeletePrintJobsResponse(
            deleted=await self.print_jobs.delete(None, list(request.job_ids))
        )


def _password(password: str) -> str:
    if not 8 <= len(password) <= 128:
        raise InvalidRequest("a password is 8 to 128 characters")
    return password


def _card(tx: Tx, card_id: int) -> admin_pb2.Card:
    row = tx.one(
        "SELECT c.id, c.number, c.label, u.id AS user_id, u.username"
        " FROM cards c JOIN users u ON u.id = c.user_id WHERE c.id = :c",
        {"c": card_id},
    )
    assert row is not None
    return admin_pb2.Card(
        id=row["id"],
        user=admin_pb2.UserRef(id=row["user_id"]),
        number=row["number"],
        label=row["label"],
        username=row["username"],
    )


def _printers(tx: Tx, printer_id: int | None) -> list[admin_pb2.Printer]:
    where = "WHERE id = :p" if printer_id is not None else ""
    rows = tx.execute(f"SELECT * FROM printers {where} ORDER BY name", {"p": printer_id})
    return [
        admin_pb2.Printer(
            id=r["id"],
            name=r["name"],
            address=r["address"],
            transport=r["transport"],
            vendor_profile=r["vendor_profile"],
            printer_group=r["printer_group"],
            location=r["location"],
        )
        for r in rows
    ]


def _account(row: Any) -> admin_pb2.Account:
    return admin_pb2.Account(
        id=row["id"],
        name=row["name"],
        kind=ACCOUNT_KINDS[row["kind"]],
        balance_cents=row["balance_cents"],
        credit_limit_cents=row["credit_limit_cents"],
        owner=row["owner"] or "",
    )


def _quota_rule(row: Any) -> admin_pb2.QuotaRule:
    rule = admin_pb2.QuotaRule(
        id=row["id"],
        name=row["name"],
        period=_reverse(PERIODS)[row["period"]],
        unit=_reverse(UNITS)[row["unit"]],
        color_scope=_reverse(COLOR_SCOPES)[row["color_scope"]],
        limit=row["limit_value"],
        action=_reverse(ACTIONS)[row["action"]],
    )
    if row["scope"] == "group":
        rule.group = row["group_name"]
    elif row["scope"] == "user":
        rule.user.username = row["username"]
    else:
        rule.everyone = True
    return rule


def _delegate_ids(tx: Tx, request: admin_pb2.Delegation) -> tuple[int, int | None, int | None]:
    owner = user_ref_id(tx, request.owner)
    which = request.WhichOneof("delegate")
    if which == "delegate_user":
        return owner, user_ref_id(tx, request.delegate_user), None
    if which == "delegate_group":
        return owner, None, directory.group_id(tx, request.delegate_group)
    raise InvalidRequest("a delegate user or group is needed")


def _print_job(row: Any) -> admin_pb2.PrintJob:
    return admin_pb2.PrintJob(
        id=row["id"],
        owner=row["owner"] or "",
        submitted_by=row["submitted_by"],
        name=row["job_name"],
        state=row["state"],
        pages=-1 if row["page_count"] is None else row["page_count"],
        color_pages=row["color_pages"] or 0,
        copies=row["copies"],
        size_bytes=row["size_bytes"],
        source=row["source"],
        submitted_at=timestamp_from_us(row["created_us"]),
        expires_at=timestamp_from_us(row["expires_us"]),
    )
