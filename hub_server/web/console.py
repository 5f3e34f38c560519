"""The console: pages for admins (everything), helpdesk (users, money, refunds; reads the
rest) and auditors (reads everything, changes nothing). Every change is written to the audit
log after it succeeded. Each handler declares who may call it (:func:`allow`)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from hub_server.documents import (
    FORMATS,
    BarSeries,
    Table,
    VoucherCard,
    bar_chart_svg,
    cell_text,
    voucher_sheet_pdf,
)
from hub_server.domain.accounts import Adjustment
from hub_server.domain.console import CONSOLE_ROLES
from hub_server.domain.pricing import PriceRecord
from hub_server.domain.projects import ProjectRecord
from hub_server.domain.quotas import QuotaRule
from hub_server.domain.report_schedules import SCHEDULE_PERIODS
from hub_server.domain.reports import DIMENSIONS, REPORT_KINDS, Period
from hub_server.domain.users import UserRecord, UserRef
from hub_server.errors import HubError
from hub_server.web import i18n
from hub_server.web.context import CONTEXT, WebContext, blocking, render, session_of
from hub_server.web.errors import http_error, refusal
from hub_server.web.login import login_form, login_submit, logout
from hub_server.web.security import allow

__all__ = ["add_routes"]

EVERYONE = ("admin", "helpdesk", "auditor")
STAFF = ("admin", "helpdesk")
ADMIN = ("admin",)
LEDGER_ROWS = 50
VOUCHER_BATCH_MAX = 1000
_AMOUNT = re.compile(r"([+-]?)(\d{1,9})(?:[.,](\d{1,2}))?")


def _context(request: web.Request) -> WebContext:
    return request.config_dict[CONTEXT]


async def _audit(request: web.Request, action: str, target: str = "", detail: str = "") -> None:
    session = session_of(request)
    await _context(request).hub.console.audit(session.name, session.role, action, target, detail)


def _form_text(form: Any, name: str, limit: int = 256) -> str:
    return str(form.get(name, "")).strip()[:limit]


def _form_int(form: Any, name: str) -> int:
    text = _form_text(form, name, 20)
    try:
        return int(text)
    except ValueError:
        raise web.HTTPBadRequest(text=f"{name} must be a whole number") from None


def _cents(form: Any, name: str) -> int:
    """A money field typed as ``12.34`` / ``12,34`` / ``-5`` -> integer cents (no floats)."""
    match = _AMOUNT.fullmatch(_form_text(form, name, 20))
    if match is None:
        raise web.HTTPBadRequest(text=f"{name}: an amount like 12.50")
    sign, whole, fraction = match.groups()
    cents = int(whole) * 100 + int((fraction or "").ljust(2, "0"))
    return -cents if sign == "-" else cents


# -- dashboard ----------------------------------------------------------------------------------


@allow(*EVERYONE)
async def dashboard(request: web.Request) -> web.StreamResponse:
    """Pages today/week/month by function and colour, top users and departments, printers
    needing attention, the device registry, held jobs waiting."""
    context = _context(request)
    board = await context.dashboard()
    functions = sorted({p.function for p in board.pages})
    by_colour = {(p.function, p.color): p for p in board.pages}
    chart = bar_chart_svg(
        i18n.gettext("Pages this month"),
        [i18n.gettext(f) for f in functions],
        [
            BarSeries(
                i18n.gettext(colour.capitalize()),
                [by_colour[(f, colour)].month if (f, colour) in by_colour else 0 for f in functions],
            )
            for colour in ("mono", "color")
        ],
        i18n.number,
    )
    top_users = bar_chart_svg(
        i18n.gettext("Top users this month"),
        [r.name for r in board.top_users],
        [BarSeries(i18n.gettext("Pages"), [r.pages for r in board.top_users])],
        i18n.number,
    )
    top_departments = bar_chart_svg(
        i18n.gettext("Top departments this month"),
        [r.name for r in board.top_departments],
        [BarSeries(i18n.gettext("Pages"), [r.pages for r in board.top_departments])],
        i18n.number,
    )
    readings = context.printers.readings() if context.printers else {}
    return render(
        request,
        "console/dashboard.html",
        board=board,
        chart=chart,
        top_users_chart=top_users,
        top_departments_chart=top_departments,
        attention=[r for r in readings.values() if r.needs_attention],
        watched=len(readings),
    )


# -- users --------------------------------------------------------------------------------------


@allow(*EVERYONE)
async def users(request: web.Request) -> web.StreamResponse:
    """The user search page (works without JavaScript: the form submits ``q``)."""
    query = request.query.get("q", "")[:64]
    found = await blocking(_context(request).hub.users.find, query, 50) if query else []
    return render(request, "console/users.html", query=query, found=found)


@allow(*EVERYONE)
async def users_api(request: web.Request) -> web.StreamResponse:
    """Search as you type: JSON, at most 20 hits, prefix of username/name/e-mail or a card."""
    query = request.query.get("q", "")[:64]
    found = await blocking(_context(request).hub.users.find, query, 20) if query.strip() else []
    return web.json_response(
        [
            {"username": u.username, "full_name": u.full_name, "email": u.email, "active": u.active}
            for u in found
        ]
    )


@allow(*STAFF)
async def user_new(request: web.Request) -> web.StreamResponse:
    """The form for a new user."""
    return render(request, "console/user_new.html", error="", values={})


@allow(*STAFF)
async def user_create(request: web.Request) -> web.StreamResponse:
    """Create a user (and their prepaid account)."""
    form = await request.post()
    record = UserRecord(
        username=_form_text(form, "username", 64),
        full_name=_form_text(form, "full_name"),
        email=_form_text(form, "email"),
        department=_form_text(form, "department", 128),
    )
    try:
        created = await _context(request).hub.users.create(record, str(form.get("password", ""))[:128])
    except HubError as error:
        return render(
            request, "console/user_new.html", status=http_error(error), error=str(error), values=form
        )
    await _audit(request, "user.create", created.username)
    raise web.HTTPSeeOther(f"/console/users/{created.username}?done=created")


def _user_ref(request: web.Request) -> UserRef:
    return UserRef(username=request.match_info["username"])


@allow(*EVERYONE)
async def user_detail(request: web.Request) -> web.StreamResponse:
    """A user: details, cards, balance and arrears, ledger, print jobs and quotas."""
    hub = _context(request).hub
    ref = _user_ref(request)

    def read() -> dict[str, Any]:
        user = hub.users.get(ref)
        accounts = hub.accounts.all(ref)
        return {
            "user": user,
            "cards": hub.users.cards(ref),
            "accounts": accounts,
            "balance": next((a.balance_cents for a in accounts if a.kind == "prepaid"), 0),
            "arrears": -sum(a.balance_cents for a in accounts if a.kind == "arrears"),
            "ledger": hub.accounts.ledger(ref, "", 0, LEDGER_ROWS),
            "jobs": hub.jobs.all(ref, 50),
            "quotas": hub.quotas.states(ref, hub.clock.now_us(), hub.config.timezone),
        }

    try:
        values = await blocking(read)
    except HubError as error:
        raise refusal(error) from None
    return render(request, "console/user.html", done=request.query.get("done", ""), shown_pin="", **values)


async def _user_change(request: web.Request, action: str) -> web.StreamResponse:
    hub = _context(request).hub
    ref = _user_ref(request)
    form = await request.post()
    detail = ""
    shown_pin = ""
    try:
        if action == "pin":
            shown_pin = await hub.users.set_pin(ref, "")
        elif action == "unlock":
            await hub.auth.unlock_user(ref)
            await hub.vouchers.unlock_user(ref)
        elif action == "adjust":
            amount = _cents(form, "amount")
            reason = _form_text(form, "reason")
            adjusted = await hub.accounts.adjust(
                Adjustment(amount, reason, _form_text(form, "key", 80) or f"console-{uuid.uuid4()}", user=ref)
            )
            detail = f"{amount} cents: {reason} (transaction {adjusted.transaction_id})"
        elif action == "card-add":
            card = await hub.users.add_card(ref, _form_text(form, "number", 64), _form_text(form, "label"))
            detail = card.number
        elif action == "card-remove":
            number = _form_text(form, "number", 64)
            if number not in {c.number for c in hub.users.cards(ref)}:
                raise web.HTTPNotFound(text="this user has no such card")
            await hub.users.remove_card(number)
            detail = number
        elif action == "active":
            active = _form_text(form, "active") == "1"
            await hub.users.update(ref, UserRecord(username=ref.username, active=active), ["active"])
            detail = "active" if active else "disabled"
    except HubError as error:
        raise refusal(error) from None
    await _audit(request, f"user.{action}", ref.username, detail)
    if shown_pin:  # shown once, never stored in a URL
        user = hub.users.get(ref)
        return render(request, "console/pin.html", user=user, shown_pin=shown_pin)
    raise web.HTTPSeeOther(f"/console/users/{ref.username}?done={action}")


def _user_action(action: str) -> Any:
    @allow(*STAFF)
    async def handler(request: web.Request) -> web.StreamResponse:
        return await _user_change(request, action)

    handler.__name__ = f"user_{action.replace('-', '_')}"
    return handler


@allow(*STAFF)
async def refund(request: web.Request) -> web.StreamResponse:
    """Refund one usage charge (a printed job, a copy session) with a reason."""
    form = await request.post()
    transaction_id = _form_int(form, "transaction_id")
    reason = _form_text(form, "reason")
    try:
        refund_id = await _context(request).hub.accounts.refund(transaction_id, reason)
    except HubError as error:
        raise refusal(error) from None
    await _audit(request, "account.refund", f"transaction {transaction_id}", f"{reason} (refund {refund_id})")
    back = _form_text(form, "back", 200)
    raise web.HTTPSeeOther(back if back.startswith("/console/") else "/console/")


# -- groups, projects, prices, quotas --------------------------------------------------------------


@allow(*EVERYONE)
async def groups(request: web.Request) -> web.StreamResponse:
    """Groups, departments and projects."""
    hub = _context(request).hub
    return render(
        request,
        "console/groups.html",
        groups=await blocking(hub.users.groups),
        projects=await blocking(hub.projects.all),
    )


@allow(*ADMIN)
async def group_create(request: web.Request) -> web.StreamResponse:
    """A new group or department."""
    form = await request.post()
    name, kind = _form_text(form, "name", 128), _form_text(form, "kind", 16)
    try:
        await _context(request).hub.users.create_group(name, kind)
    except HubError as error:
        raise refusal(error) from None
    await _audit(request, "group.create", name, kind)
    raise web.HTTPSeeOther("/console/groups")


@allow(*ADMIN)
async def project_create(request: web.Request) -> web.StreamResponse:
    """A new project (cost centre) everyone or some groups may charge."""
    form = await request.post()
    project = ProjectRecord(
        code=_form_text(form, "code", 64),
        name=_form_text(form, "name"),
        all_users=_form_text(form, "all_users") == "1",
        groups=[g for g in _form_text(form, "groups").split(",") if g.strip()],
    )
    try:
        await _context(request).hub.projects.create(project)
    except HubError as error:
        raise refusal(error) from None
    await _audit(request, "project.create", project.code)
    raise web.HTTPSeeOther("/console/groups")


@allow(*EVERYONE)
async def prices(request: web.Request) -> web.StreamResponse:
    """The price list."""
    return render(request, "console/prices.html", prices=await blocking(_context(request).hub.prices.all, ""))


@allow(*ADMIN)
async def price_set(request: web.Request) -> web.StreamResponse:
    """Set one price (admins only: helpdesk and auditors are refused by the role check)."""
    form = await request.post()
    price = PriceRecord(
        function=_form_text(form, "function", 16),
        color=_form_text(form, "color", 16),
        price_cents_per_page=_cents(form, "price"),
        duplex=_form_text(form, "duplex") == "1",
        printer_group=_form_text(form, "printer_group", 128) or "default",
        paper_size=_form_text(form, "paper_size", 32) or "*",
    )
    try:
        await _context(request).hub.prices.set(price)
    except HubError as error:
        raise refusal(error) from None
    await _audit(
        request,
        "price.set",
        "/".join(
            (
                price.printer_group,
                price.function,
                price.color,
                price.paper_size,
                "duplex" * price.duplex or "simplex",
            )
        ),
        f"{price.price_cents_per_page} cents per page",
    )
    raise web.HTTPSeeOther("/console/prices")


@allow(*EVERYONE)
async def quotas(request: web.Request) -> web.StreamResponse:
    """Quota rules."""
    return render(request, "console/quotas.html", rules=await blocking(_context(request).hub.quotas.rules))


@allow(*ADMIN)
async def quota_create(request: web.Request) -> web.StreamResponse:
    """A new quota rule."""
    form = await request.post()
    scope = _form_text(form, "scope", 16) or "everyone"
    target = _form_text(form, "target", 128)
    rule = QuotaRule(
        name=_form_text(form, "name", 128) or "quota",
        period=_form_text(form, "period", 16),
        unit=_form_text(form, "unit", 16),
        limit=_form_int(form, "limit"),
        color_scope=_form_text(form, "color_scope", 16) or "any",
        action=_form_text(form, "action", 16) or "block",
        scope=scope,
        group=target if scope == "group" else "",
        user=UserRef(username=target) if scope == "user" else None,
    )
    try:
        await _context(request).hub.quotas.create_rule(rule)
    except HubError as error:
        raise refusal(error) from None
    await _audit(request, "quota.create", rule.name, f"{rule.limit} {rule.unit} per {rule.period}")
    raise web.HTTPSeeOther("/console/quotas")


@allow(*ADMIN)
async def quota_delete(request: web.Request) -> web.StreamResponse:
    """Delete a quota rule."""
    rule_id = int(request.match_info["rule_id"])
    try:
        await _context(request).hub.quotas.delete_rule(rule_id)
    except HubError as error:
        raise refusal(error) from None
    await _audit(request, "quota.delete", str(rule_id))
    raise web.HTTPSeeOther("/console/quotas")


# -- devices, cash, vouchers ------------------------------------------------------------------------


@allow(*EVERYONE)
async def printers(request: web.Request) -> web.StreamResponse:
    """Printers from the registry with their last SNMP reading (status, supplies, counters)."""
    context = _context(request)
    return render(
        request,
        "console/printers.html",
        printers=await blocking(context.hub.devices.printers),
        readings=context.printers.readings() if context.printers else {},
    )


@allow(*EVERYONE)
async def devices(request: web.Request) -> web.StreamResponse:
    """Terminals and kiosks (the registry), and each kiosk's cash box."""
    hub = _context(request).hub

    def read() -> dict[str, Any]:
        terminals = hub.devices.terminals()
        boxes = {t.id: hub.kiosks.cashbox(t.id) for t in terminals if t.kind == "kiosk"}
        return {"terminals": terminals, "boxes": boxes}

    return render(request, "console/devices.html", **await blocking(read))


@allow(*EVERYONE)
async def vouchers(request: web.Request) -> web.StreamResponse:
    """Voucher batches."""
    return render(
        request, "console/vouchers.html", batches=await blocking(_context(request).hub.vouchers.batches)
    )


@allow(*ADMIN)
async def voucher_create(request: web.Request) -> web.StreamResponse:
    """Create a batch; the answer is its sheet (PDF) to print and cut: the codes are shown now."""
    form = await request.post()
    count = _form_int(form, "count")
    if not 1 <= count <= VOUCHER_BATCH_MAX:
        raise web.HTTPBadRequest(text=f"a batch has 1 to {VOUCHER_BATCH_MAX} vouchers")
    value = _cents(form, "value")
    days = _form_int(form, "valid_days")
    if not 1 <= days <= 3660:
        raise web.HTTPBadRequest(text="valid_days: 1 to 3660")
    hub = _context(request).hub
    expires_us = hub.clock.now_us() + days * 86_400_000_000
    label = _form_text(form, "label", 128)
    try:
        created = await hub.vouchers.create_batch(
            value_cents=value,
            count=count,
            expires_us=expires_us,
            prefix=_form_text(form, "prefix", 8),
            label=label,
        )
    except HubError as error:
        raise refusal(error) from None
    await _audit(request, "voucher.batch", str(created.batch.id), f"{count} x {value} cents")
    return _sheet(request, created.batch.id, label, value, expires_us, created.codes)


@allow(*ADMIN)
async def voucher_sheet(request: web.Request) -> web.StreamResponse:
    """The unredeemed codes of a batch again, as a sheet to print."""
    hub = _context(request).hub
    batch_id = int(request.match_info["batch_id"])
    try:
        batch, csv_text = await blocking(hub.vouchers.export, batch_id, False)
    except HubError as error:
        raise refusal(error) from None
    codes = [line.split(",")[0] for line in csv_text.splitlines()[1:] if line]
    await _audit(request, "voucher.sheet", str(batch_id), f"{len(codes)} codes shown")
    return _sheet(request, batch.id, batch.label, batch.value_cents, batch.expires_us, codes)


def _sheet(
    request: web.Request, batch_id: int, label: str, value: int, expires_us: int, codes: list[str]
) -> web.Response:
    context = _context(request)
    until = datetime.fromtimestamp(expires_us / 1_000_000, UTC).date().isoformat()
    cards = [
        VoucherCard(
            code, i18n.money(value, context.currency), f"{i18n.gettext('Valid until')} {until}", label
        )
        for code in codes
    ]
    body = voucher_sheet_pdf(f"Vouchers, batch {batch_id}", cards)
    return web.Response(
        body=body,
        content_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="vouchers-{batch_id}.pdf"'},
    )


# -- reports ----------------------------------------------------------------------------------------


def _report_request(request: web.Request) -> tuple[str, str, Period]:
    hub = _context(request).hub
    kind = request.query.get("kind", "usage")
    by = request.query.get("by", "department")
    if kind not in REPORT_KINDS or by not in DIMENSIONS:
        raise web.HTTPBadRequest(text="unknown report")
    today = datetime.fromtimestamp(hub.clock.now_us() / 1_000_000, UTC).date()
    first = request.query.get("first", today.replace(day=1).isoformat())[:10]
    last = request.query.get("last", (today.replace(day=28) + timedelta(days=4)).replace(day=1).isoformat())[
        :10
    ]
    if "last" not in request.query:
        last = (date.fromisoformat(last) - timedelta(days=1)).isoformat()
    try:
        return kind, by, hub.reports.period(first, last)
    except HubError as error:
        raise refusal(error) from None


def translated(table: Table) -> Table:
    """The table with its headings in the reader's language."""
    return Table(
        title=i18n.gettext(table.title),
        subtitle=table.subtitle,
        columns=[type(c)(c.key, i18n.gettext(c.heading), c.kind) for c in table.columns],
        rows=table.rows,
        totals=[i18n.gettext(str(table.totals[0])), *table.totals[1:]] if table.totals is not None else None,
        chart_columns=table.chart_columns,
        label_column=table.label_column,
        notes=[i18n.gettext(n) for n in table.notes],
        chart_rows_max=table.chart_rows_max,
    )


@allow(*EVERYONE)
async def reports(request: web.Request) -> web.StreamResponse:
    """A report as a page: chart, table (first rows), totals, and how it matches the ledger."""
    hub = _context(request).hub
    kind, by, period = _report_request(request)
    table = translated(await blocking(hub.reports.table, kind, period, by))
    totals = await blocking(hub.reports.ledger_totals, period)
    rows = table.chart_rows()
    money = {c.key for c in table.columns if c.kind == "cents"}
    chart = bar_chart_svg(
        table.title,
        [str(r[table.label_column]) for r in rows],
        [BarSeries(table.columns[i].heading, [float(r[i] or 0) for r in rows]) for i in table.chart_columns],
        i18n.number,
    )
    query = {"kind": kind, "by": by, "first": period.first.isoformat(), "last": period.last.isoformat()}
    return render(
        request,
        "console/reports.html",
        table=table,
        shown=table.rows[:200],
        chart=chart,
        money_columns=money,
        cell_text=cell_text,
        kind=kind,
        by=by,
        period=period,
        kinds=REPORT_KINDS,
        dimensions=DIMENSIONS,
        ledger=totals,
        exports={fmt: "/console/reports/export?" + urlencode({**query, "format": fmt}) for fmt in FORMATS},
    )


@allow(*EVERYONE)
async def report_export(request: web.Request) -> web.StreamResponse:
    """A report as CSV, XLSX or PDF (with its chart)."""
    hub = _context(request).hub
    kind, by, period = _report_request(request)
    fmt = request.query.get("format", "csv")
    if fmt not in FORMATS:
        raise web.HTTPBadRequest(text="format: csv, xlsx or pdf")
    body = await blocking(hub.reports.export, kind, period, by, fmt)
    content_type, extension = FORMATS[fmt]
    name = f"{kind}-{by}-{period.first.isoformat()}-{period.last.isoformat()}.{extension}"
    return web.Response(
        body=body,
        headers={"Content-Type": content_type, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@allow(*EVERYONE)
async def schedules(request: web.Request) -> web.StreamResponse:
    """Scheduled reports and, for admins, a form for a new one."""
    context = _context(request)
    return render(
        request,
        "console/schedules.html",
        schedules=await blocking(context.hub.report_schedules.schedules),
        kinds=REPORT_KINDS,
        dimensions=DIMENSIONS,
        periods=SCHEDULE_PERIODS,
        formats=FORMATS,
        mail_on=bool(context.config.smtp_host),
    )


@allow(*ADMIN)
async def schedule_create(request: web.Request) -> web.StreamResponse:
    """A new scheduled report."""
    form = await request.post()
    session = session_of(request)
    try:
        created = await _context(request).hub.report_schedules.create(
            _form_text(form, "kind", 20),
            _form_text(form, "by", 20),
            _form_text(form, "period", 10),
            _form_text(form, "format", 10),
            _form_text(form, "recipients", 1024),
            session.name,
        )
    except HubError as error:
        raise refusal(error) from None
    detail = f"{created.report} by {created.dimension}, {created.period}ly {created.format}"
    await _audit(
        request, "report.schedule", str(created.schedule_id), f"{detail} to {','.join(created.recipients)}"
    )
    raise web.HTTPSeeOther("/console/schedules")


@allow(*ADMIN)
async def schedule_delete(request: web.Request) -> web.StreamResponse:
    """Remove a scheduled report."""
    schedule_id = int(request.match_info["schedule_id"])
    try:
        await _context(request).hub.report_schedules.delete(schedule_id)
    except HubError as error:
        raise refusal(error) from None
    await _audit(request, "report.unschedule", str(schedule_id))
    raise web.HTTPSeeOther("/console/schedules")


# -- the console itself --------------------------------------------------------------------------------


@allow("admin", "auditor")
async def audit_log(request: web.Request) -> web.StreamResponse:
    """The newest changes made in the console."""
    before = int(request.query.get("before", "0") or 0) if request.query.get("before", "0").isdigit() else 0
    entries = await blocking(_context(request).hub.console.audit_log, 100, before)
    return render(request, "console/audit.html", entries=entries)


@allow(*ADMIN)
async def accounts(request: web.Request) -> web.StreamResponse:
    """Console accounts."""
    return render(
        request,
        "console/accounts.html",
        accounts=await blocking(_context(request).hub.console.accounts),
        roles=CONSOLE_ROLES,
        error="",
    )


@allow(*ADMIN)
async def account_create(request: web.Request) -> web.StreamResponse:
    """A new console account."""
    form = await request.post()
    name, role = _form_text(form, "username", 64), _form_text(form, "role", 16)
    hub = _context(request).hub
    try:
        await hub.console.create_account(name, role, str(form.get("password", ""))[:128])
    except HubError as error:
        return render(
            request,
            "console/accounts.html",
            status=http_error(error),
            accounts=hub.console.accounts(),
            roles=CONSOLE_ROLES,
            error=str(error),
        )
    await _audit(request, "console-user.create", name, role)
    raise web.HTTPSeeOther("/console/accounts")


@allow(*EVERYONE)
async def language(request: web.Request) -> web.StreamResponse:
    """Switch the session's language."""
    form = await request.post()
    chosen = _form_text(form, "language", 2)
    if chosen not in i18n.LANGUAGES:
        raise web.HTTPBadRequest(text="unknown language")
    await _context(request).hub.console.set_language(request.cookies.get("pg_console", ""), chosen)
    back = _form_text(form, "back", 200)
    raise web.HTTPSeeOther(back if back.startswith("/console/") else "/console/")


def add_routes(app: web.Application) -> None:
    """Every console route (each handler declares its roles)."""
    app.router.add_get("/login", login_form("console"))
    app.router.add_post("/login", login_submit("console"))
    app.router.add_post("/logout", logout("console"))
    app.router.add_get("/", dashboard)
    app.router.add_get("/users", users)
    app.router.add_get("/api/users", users_api)
    app.router.add_get("/users/new", user_new)
    app.router.add_post("/users", user_create)
    app.router.add_get("/users/{username}", user_detail)
    for action in ("pin", "unlock", "adjust", "card-add", "card-remove", "active"):
        app.router.add_post(f"/users/{{username}}/{action}", _user_action(action))
    app.router.add_post("/refund", refund)
    app.router.add_get("/groups", groups)
    app.router.add_post("/groups", group_create)
    app.router.add_post("/projects", project_create)
    app.router.add_get("/prices", prices)
    app.router.add_post("/prices", price_set)
    app.router.add_get("/quotas", quotas)
    app.router.add_post("/quotas", quota_create)
    app.router.add_post("/quotas/{rule_id:\\d+}/delete", quota_delete)
    app.router.add_get("/printers", printers)
    app.router.add_get("/devices", devices)
    app.router.add_get("/vouchers", vouchers)
    app.router.add_post("/vouchers", voucher_create)
    app.router.add_get("/vouchers/{batch_id:\\d+}/sheet.pdf", voucher_sheet)
    app.router.add_get("/reports", reports)
    app.router.add_get("/reports/export", report_export)
    app.router.add_get("/schedules", schedules)
    app.router.add_post("/schedules", schedule_create)
    app.router.add_post("/schedules/{schedule_id:\\d+}/delete", schedule_delete)
    app.router.add_get("/audit", audit_log)
    app.router.add_get("/accounts", accounts)
    app.router.add_post("/accounts", account_create)
    app.router.add_post("/language", language)
