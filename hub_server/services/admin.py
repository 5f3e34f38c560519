"""AdminService: the directory, prices, money and quotas, for admins holding an admin token."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import grpc
from printgate.v1 import admin_pb2, admin_pb2_grpc

from hub_server.domain import Hub
from hub_server.domain.accounts import AccountRecord, Adjustment, LedgerEntry
from hub_server.domain.cards import CardRecord
from hub_server.domain.console import ConsoleAccount
from hub_server.domain.devices import PrinterRecord, TerminalRecord
from hub_server.domain.enrollment import TokenRecord
from hub_server.domain.jobs import Delegation, PrintJobSummary
from hub_server.domain.pricing import PriceRecord
from hub_server.domain.projects import ProjectRecord
from hub_server.domain.quotas import QuotaRule
from hub_server.domain.reports import EXPORT_FORMATS
from hub_server.domain.users import DEFAULT_ROLE, GroupRecord, RoleRecord, UserRecord
from hub_server.errors import HubError
from hub_server.services.common import bearer_token, grpc_status_for, requires_admin, translate_errors
from hub_server.services.convert import (
    ACCOUNT_KIND,
    BILLING,
    COLOR,
    FUNCTION,
    GROUP_KIND,
    QUOTA_ACTION,
    QUOTA_COLOR_SCOPE,
    QUOTA_PERIOD,
    QUOTA_UNIT,
    TERMINAL_KIND,
    timestamp_from_us,
    user_ref,
)


def user_message(user: UserRecord) -> admin_pb2.User:
    """The wire form of a user."""
    return admin_pb2.User(
        id=user.id,
        username=user.username,
        full_name=user.full_name,
        email=user.email,
        department=user.department,
        roles=user.roles,
        active=user.active,
        billing=BILLING.value(user.billing),
        groups=user.groups,
        has_pin=user.has_pin,
        has_password=user.has_password,
        credit_limit_cents=user.credit_limit_cents,
    )


def user_record(message: admin_pb2.User) -> UserRecord:
    """A domain user from its wire form (billing defaults to prepaid)."""
    return UserRecord(
        username=message.username,
        full_name=message.full_name,
        email=message.email,
        department=message.department,
        roles=list(message.roles) or [DEFAULT_ROLE],
        active=message.active if message.HasField("active") else True,
        billing=BILLING.word_or(message.billing, "prepaid"),
        groups=list(message.groups),
        credit_limit_cents=message.credit_limit_cents,
    )


def _card(card: CardRecord) -> admin_pb2.Card:
    return admin_pb2.Card(
        id=card.id,
        user=admin_pb2.UserRef(id=card.user_id),
        number=card.number,
        label=card.label,
        username=card.username,
    )


def _group(group: GroupRecord) -> admin_pb2.Group:
    return admin_pb2.Group(
        id=group.id, name=group.name, kind=GROUP_KIND.value(group.kind), member_count=group.member_count
    )


def _role(role: RoleRecord) -> admin_pb2.Role:
    return admin_pb2.Role(
        name=role.name,
        requires_card_pin=role.requires_card_pin,
        allowed_functions=[FUNCTION.value(f) for f in role.allowed_functions],
        color_allowed=role.color_allowed,
        project_required=role.project_required,
    )


def _project(project: ProjectRecord) -> admin_pb2.Project:
    return admin_pb2.Project(
        id=project.id,
        code=project.code,
        name=project.name,
        all_users=project.all_users,
        groups=project.groups,
        active=project.active,
        account=project.account,
    )


def _printer(printer: PrinterRecord) -> admin_pb2.Printer:
    return admin_pb2.Printer(
        id=printer.id,
        name=printer.name,
        address=printer.address,
        transport=printer.transport,
        vendor_profile=printer.vendor_profile,
        printer_group=printer.printer_group,
        location=printer.location,
    )


def _enrollment_token(record: TokenRecord, state: str) -> admin_pb2.EnrollmentToken:
    message = admin_pb2.EnrollmentToken(
        token_id=record.token_id,
        kind=TERMINAL_KIND.value(record.kind),
        terminal_id=record.device_id or "",
        printer=record.printer,
        uses_max=record.uses_max,
        uses_count=record.uses_count,
        created_at=timestamp_from_us(record.created_us),
        expires_at=timestamp_from_us(record.expires_us),
        state=state,
        note=record.note,
    )
    if record.revoked_us is not None:
        message.revoked_at.CopyFrom(timestamp_from_us(record.revoked_us))
    return message


def _terminal(terminal: TerminalRecord) -> admin_pb2.Terminal:
    return admin_pb2.Terminal(
        id=terminal.id,
        kind=TERMINAL_KIND.value(terminal.kind),
        printer=terminal.printer,
        location=terminal.location,
    )


def _price(price: PriceRecord) -> admin_pb2.Price:
    return admin_pb2.Price(
        printer_group=price.printer_group,
        function=FUNCTION.value(price.function),
        color=COLOR.value(price.color),
        paper_size=price.paper_size,
        duplex=price.duplex,
        price_cents_per_page=price.price_cents_per_page,
    )


def _account(account: AccountRecord) -> admin_pb2.Account:
    return admin_pb2.Account(
        id=account.id,
        name=account.name,
        kind=ACCOUNT_KIND.value(account.kind),
        balance_cents=account.balance_cents,
        credit_limit_cents=account.credit_limit_cents,
        owner=account.owner,
    )


def _entry(entry: LedgerEntry) -> admin_pb2.LedgerEntry:
    return admin_pb2.LedgerEntry(
        transaction_id=entry.transaction_id,
        recorded_at=timestamp_from_us(entry.recorded_us),
        kind=entry.kind,
        account=entry.account,
        amount_cents=entry.amount_cents,
        balance_after_cents=entry.balance_after_cents,
        description=entry.description,
        terminal_id=entry.terminal_id,
        idempotency_key=entry.idempotency_key,
    )


def quota_rule(message: admin_pb2.QuotaRule) -> QuotaRule:
    """A domain quota rule from its wire form (period and unit required)."""
    scope = message.WhichOneof("scope") or "everyone"
    return QuotaRule(
        name=message.name or "quota",
        period=QUOTA_PERIOD.word(message.period, "period"),
        unit=QUOTA_UNIT.word(message.unit, "unit"),
        limit=message.limit,
        color_scope=QUOTA_COLOR_SCOPE.word_or(message.color_scope, "any"),
        action=QUOTA_ACTION.word_or(message.action, "block"),
        scope=scope,
        group=message.group if scope == "group" else "",
        user=user_ref(message.user) if scope == "user" else None,
    )


def _quota_rule(rule: QuotaRule) -> admin_pb2.QuotaRule:
    message = admin_pb2.QuotaRule(
        id=rule.id,
        name=rule.name,
        period=QUOTA_PERIOD.value(rule.period),
        unit=QUOTA_UNIT.value(rule.unit),
        color_scope=QUOTA_COLOR_SCOPE.value(rule.color_scope),
        limit=rule.limit,
        action=QUOTA_ACTION.value(rule.action),
    )
    if rule.scope == "group":
        message.group = rule.group
    elif rule.scope == "user" and rule.user is not None:
        message.user.username = rule.user.username
    else:
        message.everyone = True
    return message


def delegation(message: admin_pb2.Delegation) -> Delegation:
    """A domain delegation from its wire form."""
    which = message.WhichOneof("delegate")
    return Delegation(
        owner=user_ref(message.owner),
        user=user_ref(message.delegate_user) if which == "delegate_user" else None,
        group=message.delegate_group if which == "delegate_group" else "",
    )


def _delegation(item: Delegation) -> admin_pb2.Delegation:
    message = admin_pb2.Delegation(owner=admin_pb2.UserRef(username=item.owner.username))
    if item.user is not None:
        message.delegate_user.username = item.user.username
    else:
        message.delegate_group = item.group
    return message


def _print_job(job: PrintJobSummary) -> admin_pb2.PrintJob:
    return admin_pb2.PrintJob(
        id=job.id,
        owner=job.owner,
        submitted_by=job.submitted_by,
        name=job.name,
        state=job.state,
        pages=job.pages,
        color_pages=job.color_pages,
        copies=job.copies,
        size_bytes=job.size_bytes,
        source=job.source,
        submitted_at=timestamp_from_us(job.created_us),
        expires_at=timestamp_from_us(job.expires_us),
    )


REPORT_CHUNK_BYTES = 64 * 1024


def _console_user(account: ConsoleAccount) -> admin_pb2.ConsoleUser:
    return admin_pb2.ConsoleUser(
        id=account.id, username=account.username, role=account.role, active=account.active
    )


@translate_errors
@requires_admin
class AdminServicer(admin_pb2_grpc.AdminServiceServicer):
    """The hub side of AdminService; every call needs an admin token."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    # -- users ------------------------------------------------------------------------------

    async def CreateUser(self, request: admin_pb2.User, context: grpc.aio.ServicerContext) -> admin_pb2.User:
        return user_message(await self.hub.users.create(user_record(request), request.initial_password))

    async def UpdateUser(
        self, request: admin_pb2.UpdateUserRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.User:
        updated = await self.hub.users.update(
            user_ref(request.user), user_record(request.values), list(request.fields)
        )
        return user_message(updated)

    async def GetUser(self, request: admin_pb2.UserRef, context: grpc.aio.ServicerContext) -> admin_pb2.User:
        return user_message(self.hub.users.get(user_ref(request)))

    async def ListUsers(
        self, request: admin_pb2.ListUsersRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListUsersResponse:
        users, total = self.hub.users.search(request.query, request.limit, request.offset)
        return admin_pb2.ListUsersResponse(users=[user_message(u) for u in users], total=total)

    async def SetPin(
        self, request: admin_pb2.SetPinRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.SetPinResponse:
        return admin_pb2.SetPinResponse(pin=await self.hub.users.set_pin(user_ref(request.user), request.pin))

    async def SetPassword(
        self, request: admin_pb2.SetPasswordRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        await self.hub.users.set_password(user_ref(request.user), request.password)
        return admin_pb2.Empty()

    async def UnlockIdentity(
        self, request: admin_pb2.UnlockIdentityRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        if request.WhichOneof("identity") == "terminal_id":
            await self.hub.auth.unlock_terminal(request.terminal_id)
        else:
            await self.hub.auth.unlock_user(user_ref(request.user))
        return admin_pb2.Empty()

    async def ImportUsers(
        self, request: admin_pb2.ImportUsersRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ImportUsersResponse:
        report = await self.hub.csv_import.run(request.csv, request.dry_run)
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
        return _card(await self.hub.users.add_card(user_ref(request.user), request.number, request.label))

    async def RemoveCard(
        self, request: admin_pb2.CardRef, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        await self.hub.users.remove_card(request.number)
        return admin_pb2.Empty()

    async def ListCards(
        self, request: admin_pb2.UserRef, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListCardsResponse:
        return admin_pb2.ListCardsResponse(cards=[_card(c) for c in self.hub.users.cards(user_ref(request))])

    async def CreateGroup(
        self, request: admin_pb2.Group, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Group:
        return _group(
            await self.hub.users.create_group(request.name, GROUP_KIND.word_or(request.kind, "group"))
        )

    async def ListGroups(
        self, request: admin_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListGroupsResponse:
        return admin_pb2.ListGroupsResponse(groups=[_group(g) for g in self.hub.users.groups()])

    async def SetGroupMembership(
        self, request: admin_pb2.GroupMembershipRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        await self.hub.users.set_membership(request.group, user_ref(request.user), request.member)
        return admin_pb2.Empty()

    async def UpsertRole(self, request: admin_pb2.Role, context: grpc.aio.ServicerContext) -> admin_pb2.Role:
        role = RoleRecord(
            name=request.name,
            requires_card_pin=request.requires_card_pin,
            allowed_functions=tuple(
                FUNCTION.word(f, "function") for f in request.allowed_functions if f in FUNCTION
            ),
            color_allowed=request.color_allowed,
            project_required=request.project_required,
        )
        await self.hub.users.upsert_role(role)
        return request

    async def ListRoles(
        self, request: admin_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListRolesResponse:
        return admin_pb2.ListRolesResponse(roles=[_role(r) for r in self.hub.users.roles()])

    async def CreateProject(
        self, request: admin_pb2.Project, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Project:
        project = ProjectRecord(
            code=request.code, name=request.name, all_users=request.all_users, groups=list(request.groups)
        )
        return _project(await self.hub.projects.create(project))

    async def ListProjects(
        self, request: admin_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListProjectsResponse:
        return admin_pb2.ListProjectsResponse(projects=[_project(p) for p in self.hub.projects.all()])

    # -- printers, terminals, prices ------------------------------------------------------------

    async def UpsertPrinter(
        self, request: admin_pb2.Printer, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Printer:
        printer = PrinterRecord(
            name=request.name,
            address=request.address,
            transport=request.transport or "raw9100",
            vendor_profile=request.vendor_profile,
            printer_group=request.printer_group,
            location=request.location,
        )
        return _printer(await self.hub.devices.upsert_printer(printer))

    async def ListPrinters(
        self, request: admin_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListPrintersResponse:
        return admin_pb2.ListPrintersResponse(printers=[_printer(p) for p in self.hub.devices.printers()])

    async def CreateTerminal(
        self, request: admin_pb2.Terminal, context: grpc.aio.ServicerContext
    ) -> admin_pb2.CreateTerminalResponse:
        terminal = TerminalRecord(
            id=request.id,
            kind=TERMINAL_KIND.word_or(request.kind, "terminal"),
            printer=request.printer,
            location=request.location,
        )
        key = await self.hub.devices.create_terminal(terminal)
        # The key names a device only to a hub in development plaintext mode; on TLS the
        # device's certificate does, and the key is never shown.
        shown = key if self.hub.config.dev_plaintext else ""
        return admin_pb2.CreateTerminalResponse(terminal=_terminal(terminal), key=shown)

    async def ListTerminals(
        self, request: admin_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListTerminalsResponse:
        return admin_pb2.ListTerminalsResponse(terminals=[_terminal(t) for t in self.hub.devices.terminals()])

    async def CreateEnrollmentToken(
        self, request: admin_pb2.CreateEnrollmentTokenRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.CreateEnrollmentTokenResponse:
        enrollment = self.hub.enrollment
        made = await enrollment.create_token(
            TERMINAL_KIND.word_or(request.kind, "terminal"),
            printer=request.printer,
            terminal_id=request.terminal_id,
            expires_s=request.expires_s or 86_400,
            uses=request.uses or 1,
            note=request.note,
        )
        info = _enrollment_token(made.record, enrollment.token_state(made.record))
        return admin_pb2.CreateEnrollmentTokenResponse(token=made.text, info=info)

    async def ListEnrollmentTokens(
        self, request: admin_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListEnrollmentTokensResponse:
        enrollment = self.hub.enrollment
        return admin_pb2.ListEnrollmentTokensResponse(
            tokens=[_enrollment_token(t, enrollment.token_state(t)) for t in enrollment.tokens()]
        )

    async def RevokeEnrollmentToken(
        self, request: admin_pb2.EnrollmentTokenRef, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        await self.hub.enrollment.revoke_token(request.token_id)
        return admin_pb2.Empty()

    async def RevokeTerminal(
        self, request: admin_pb2.RevokeTerminalRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.RevokeTerminalResponse:
        count = await self.hub.enrollment.revoke_terminal(request.terminal_id, request.reason)
        return admin_pb2.RevokeTerminalResponse(revoked_certificates=count)

    async def SetPrice(self, request: admin_pb2.Price, context: grpc.aio.ServicerContext) -> admin_pb2.Price:
        price = PriceRecord(
            function=FUNCTION.word(request.function, "function"),
            color=COLOR.word(request.color, "colour mode"),
            price_cents_per_page=request.price_cents_per_page,
            duplex=request.duplex,
            printer_group=request.printer_group,
            paper_size=request.paper_size,
        )
        return _price(await self.hub.prices.set(price))

    async def ListPrices(
        self, request: admin_pb2.ListPricesRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListPricesResponse:
        return admin_pb2.ListPricesResponse(
            prices=[_price(p) for p in self.hub.prices.all(request.printer_group)]
        )

    # -- money --------------------------------------------------------------------------------

    async def ListAccounts(
        self, request: admin_pb2.ListAccountsRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListAccountsResponse:
        owner = user_ref(request.user) if request.HasField("user") else None
        return admin_pb2.ListAccountsResponse(accounts=[_account(a) for a in self.hub.accounts.all(owner)])

    async def AdjustCredit(
        self, request: admin_pb2.AdjustCreditRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.AdjustCreditResponse:
        which = request.WhichOneof("target")
        adjusted = await self.hub.accounts.adjust(
            Adjustment(
                amount_cents=request.amount_cents,
                reason=request.reason,
                idempotency_key=request.idempotency_key,
                user=user_ref(request.user) if which == "user" else None,
                account=request.account if which == "account" else "",
            )
        )
        return admin_pb2.AdjustCreditResponse(
            transaction_id=adjusted.transaction_id,
            balance_cents=adjusted.balance_cents,
            already_applied=adjusted.already_applied,
        )

    async def SetCreditLimit(
        self, request: admin_pb2.SetCreditLimitRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Account:
        return _account(
            await self.hub.accounts.set_credit_limit(user_ref(request.user), request.credit_limit_cents)
        )

    async def GetLedger(
        self, request: admin_pb2.GetLedgerRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.GetLedgerResponse:
        which = request.WhichOneof("target")
        entries = self.hub.accounts.ledger(
            user_ref(request.user) if which == "user" else None,
            request.account if which == "account" else "",
            request.before_transaction_id,
            request.limit,
        )
        return admin_pb2.GetLedgerResponse(entries=[_entry(e) for e in entries])

    async def CheckLedger(
        self, request: admin_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> admin_pb2.CheckLedgerResponse:
        checked = self.hub.accounts.check()
        return admin_pb2.CheckLedgerResponse(
            ok=checked.ok,
            transactions=checked.transactions,
            accounts=checked.accounts,
            problems=checked.problems,
        )

    # -- quotas -------------------------------------------------------------------------------

    async def CreateQuotaRule(
        self, request: admin_pb2.QuotaRule, context: grpc.aio.ServicerContext
    ) -> admin_pb2.QuotaRule:
        rule_id = await self.hub.quotas.create_rule(quota_rule(request))
        created = admin_pb2.QuotaRule()
        created.CopyFrom(request)
        created.id = rule_id
        return created

    async def ListQuotaRules(
        self, request: admin_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListQuotaRulesResponse:
        return admin_pb2.ListQuotaRulesResponse(rules=[_quota_rule(r) for r in self.hub.quotas.rules()])

    async def DeleteQuotaRule(
        self, request: admin_pb2.QuotaRuleRef, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        await self.hub.quotas.delete_rule(request.id)
        return admin_pb2.Empty()

    # -- print jobs and delegation -----------------------------------------------------------

    async def DelegateJobs(
        self, request: admin_pb2.Delegation, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        await self.hub.jobs.delegate(delegation(request))
        return admin_pb2.Empty()

    async def UndelegateJobs(
        self, request: admin_pb2.Delegation, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        await self.hub.jobs.undelegate(delegation(request))
        return admin_pb2.Empty()

    async def ListDelegations(
        self, request: admin_pb2.ListDelegationsRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListDelegationsResponse:
        owner = user_ref(request.owner) if request.HasField("owner") else None
        return admin_pb2.ListDelegationsResponse(
            delegations=[_delegation(d) for d in self.hub.jobs.delegations(owner)]
        )

    async def ListPrintJobs(
        self, request: admin_pb2.ListPrintJobsRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListPrintJobsResponse:
        owner = user_ref(request.owner) if request.HasField("owner") else None
        return admin_pb2.ListPrintJobsResponse(
            jobs=[_print_job(j) for j in self.hub.jobs.all(owner, request.limit)]
        )

    async def AssignPrintJob(
        self, request: admin_pb2.AssignPrintJobRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.PrintJob:
        return _print_job(await self.hub.jobs.assign(request.job_id, user_ref(request.owner)))

    async def DeletePrintJobs(
        self, request: admin_pb2.DeletePrintJobsRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.DeletePrintJobsResponse:
        deleted = await self.hub.printing.delete(None, list(request.job_ids))
        return admin_pb2.DeletePrintJobsResponse(deleted=deleted)

    # -- web console accounts and reports -------------------------------------------------------

    async def CreateConsoleUser(
        self, request: admin_pb2.CreateConsoleUserRequest, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ConsoleUser:
        return _console_user(
            await self.hub.console.create_account(request.username, request.role, request.password)
        )

    async def ListConsoleUsers(
        self, request: admin_pb2.Empty, context: grpc.aio.ServicerContext
    ) -> admin_pb2.ListConsoleUsersResponse:
        return admin_pb2.ListConsoleUsersResponse(
            users=[_console_user(a) for a in self.hub.console.accounts()]
        )

    async def UnlockConsoleUser(
        self, request: admin_pb2.ConsoleUserRef, context: grpc.aio.ServicerContext
    ) -> admin_pb2.Empty:
        await self.hub.console.unlock(request.username)
        return admin_pb2.Empty()

    async def ExportReport(
        self, request: admin_pb2.ExportReportRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[admin_pb2.ReportChunk]:
        # A server stream is an async generator: neither decorator wraps it.
        try:
            self.hub.auth.check_admin(bearer_token(context))
            reports = self.hub.reports
            period = reports.period(request.first_day, request.last_day)
            dimension = request.dimension or "user"
            body = await asyncio.to_thread(reports.export, request.kind, period, dimension, request.format)
        except HubError as error:
            await context.abort(grpc_status_for(error), str(error))
        name = f"{request.kind}-{dimension}-{request.first_day}-{request.last_day}.{request.format}"
        for offset in range(0, max(len(body), 1), REPORT_CHUNK_BYTES):
            first = offset == 0
            yield admin_pb2.ReportChunk(
                file_name=name if first else "",
                content_type=EXPORT_FORMATS[request.format][0] if first else "",
                data=body[offset : offset + REPORT_CHUNK_BYTES],
            )
