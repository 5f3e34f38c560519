"""The recharge kiosk's screens: one builder per visible screen, from :class:`KioskState` to widgets.

:func:`build_kiosk_screen` is the one function from a kiosk state (plus what the user is typing,
kept in a :class:`KioskComposer`) to the widget tree shown. Buttons never change the engine's
state themselves: they call ``submit(intent)``, or change the composer and ask for a redraw.
The widgets, sizes and colours are the terminal's (:mod:`terminal_app.ui.widgets`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget
from printgate import voucher_code

from terminal_app.kiosk.state import (
    CheckPrinter,
    EmptyCashBox,
    FinishRecharge,
    KioskIntent,
    KioskMessage,
    KioskScreen,
    KioskState,
    PrintCashBoxReport,
    RedeemVoucher,
    RefreshCashBox,
    RunSelfTest,
    StartRecharge,
)
from terminal_app.kiosk.ui.i18n import amount, ktr
from terminal_app.session.intents import (
    Cancel,
    DismissMessage,
    Logout,
    PasswordEntered,
    PinEntered,
    SetLanguage,
)
from terminal_app.ui.settings import Layout
from terminal_app.ui.theme import TEXT_FONT
from terminal_app.ui.widgets import Panel, button, icon, label, pin_pad, row, tile
from terminal_app.ui.widgets import field as text_field

__all__ = ["KIOSK_SEVERITY", "SUMMARY_MESSAGES", "KioskComposer", "KioskContext", "build_kiosk_screen"]

MAX_PIN_DIGITS = 12
MAX_VOUCHER_CHARS = 32
DEVICE_KINDS = ("coin", "note")
SUMMARY_MESSAGES = frozenset({KioskMessage.RECHARGE_DONE, KioskMessage.VOUCHER_REDEEMED})

# How a message is shown ("error" red, "warning" amber, else "info" blue); the text says it too.
KIOSK_SEVERITY: dict[KioskMessage, str] = {
    KioskMessage.CARD_NOT_RECOGNISED: "error",
    KioskMessage.ACCOUNT_LOCKED: "error",
    KioskMessage.ACCESS_DENIED: "error",
    KioskMessage.PRINTER_NOT_READY: "error",
    KioskMessage.DEVICE_FAULT: "error",
    KioskMessage.PANEL_FAULT: "error",
    KioskMessage.DEVICE_DISABLED: "error",
    KioskMessage.REENROLL_REQUIRED: "error",
    KioskMessage.VOUCHER_LOCKED: "error",
    KioskMessage.OFFLINE_REFUSED: "warning",
    KioskMessage.RECHARGE_REFUSED: "warning",
    KioskMessage.RECEIPT_FAILED: "warning",
    KioskMessage.CREDIT_PENDING: "warning",
    KioskMessage.VOUCHER_INVALID: "warning",
    KioskMessage.VOUCHER_UNKNOWN: "warning",
    KioskMessage.VOUCHER_REFUSED: "warning",
}


@dataclass
class KioskComposer:
    """What the user is typing before it becomes an intent (never shared with the engine)."""

    mode: str = ""  # "", "pin", "password" (on IDLE), "voucher" (HOME), "count" (OPERATOR)
    pin: str = ""
    username: str = ""
    password: str = ""
    voucher: str = ""
    counted: dict[tuple[str, int], int] = field(default_factory=dict)
    _screen: KioskScreen | None = None

    def follow(self, state: KioskState) -> None:
        """A new engine screen drops whatever was typed for the old one (no PIN left behind)."""
        if state.screen is not self._screen:
            self._screen = state.screen
            self.reset()

    def reset(self, mode: str = "") -> None:
        """Back to ``mode`` with nothing typed."""
        self.mode, self.pin, self.username, self.password, self.voucher = mode, "", "", "", ""
        self.counted = {}

    def digit(self, digit: str) -> None:
        """One PIN digit."""
        if len(self.pin) < MAX_PIN_DIGITS:
            self.pin += digit

    def key(self, char: str) -> None:
        """One voucher character; groups of four are shown with hyphens."""
        if len(self.voucher) < MAX_VOUCHER_CHARS:
            self.voucher += char

    def count(self, kind: str, value_minor: int, step: int) -> None:
        """One more (or fewer) counted piece of a denomination; never below zero."""
        now = self.counted.get((kind, value_minor), 0)
        self.counted[(kind, value_minor)] = max(0, now + step)

    def take_pin(self) -> PinEntered | None:
        """The PIN intent (None while nothing is typed); the pad is cleared."""
        pin, self.pin = self.pin, ""
        return PinEntered(pin) if pin else None

    def take_password(self) -> PasswordEntered | None:
        """The login intent (None until both fields are filled)."""
        if not (self.username and self.password):
            return None
        intent = PasswordEntered(self.username, self.password)
        self.password = ""
        return intent

    def take_voucher(self) -> RedeemVoucher | None:
        """The voucher intent (None while nothing is typed); back to the account screen."""
        code = self.voucher
        if not code:
            return None
        self.reset()
        return RedeemVoucher(code)

    def take_counted(self) -> EmptyCashBox:
        """The emptying intent with every counted denomination (zeros included: counted, none found)."""
        counted = tuple(sorted((kind, value, count) for (kind, value), count in self.counted.items()))
        self.reset()
        return EmptyCashBox(counted)


def visible_kiosk_screen(state: KioskState, composer: KioskComposer) -> str:
    """The name of the screen shown for this state and composer."""
    screen = state.screen
    if screen is KioskScreen.IDLE:
        return composer.mode if composer.mode in ("pin", "password") else "idle"
    if screen is KioskScreen.SECOND_FACTOR:
        return "pin"
    if screen is KioskScreen.HOME:
        if state.message in SUMMARY_MESSAGES:
            return "summary"
        return "voucher" if composer.mode == "voucher" else "home"
    if screen is KioskScreen.OPERATOR:
        return "count" if composer.mode == "count" and state.cash_box is not None else "operator"
    return screen.value


@dataclass
class KioskContext:
    """What a kiosk screen builder needs."""

    state: KioskState
    composer: KioskComposer
    layout: Layout
    submit: Callable[[KioskIntent], None]
    redraw: Callable[[], None]  # after a change to the composer

    def t(self, key: str, **args: object) -> str:
        """A text in the state's language."""
        return ktr(self.state.language, key, **args)

    def money(self, value_minor: int) -> str:
        """Minor units in the state's currency and language."""
        return amount(value_minor, self.state.currency, self.state.language)

    def device(self, name: str) -> str:
        """An acceptor's configured name in words when it is a known kind (``coin``, ``note``)."""
        return self.t(name) if name in DEVICE_KINDS else name

    def send(self, intent: KioskIntent | None) -> None:
        """Submit an intent (None: nothing to send yet)."""
        if intent is not None:
            self.submit(intent)

    def intent(self, intent: KioskIntent) -> Callable[[], None]:
        """A button action that submits ``intent``."""
        return lambda: self.submit(intent)

    def local(self, change: Callable[[], None]) -> Callable[[], None]:
        """A button action that changes the composer and redraws."""

        def run() -> None:
            change()
            self.redraw()

        return run

    def then_redraw(self, make: Callable[[], KioskIntent | None]) -> Callable[[], None]:
        """A button action that takes an intent from the composer, sends it and redraws."""

        def run() -> None:
            self.send(make())
            self.redraw()

        return run


def _column(ctx: KioskContext, *children: Widget, **kwargs: object) -> BoxLayout:
    box = BoxLayout(orientation="vertical", spacing=ctx.layout.padding_px, **kwargs)
    for child in children:
        box.add_widget(child)
    return box


def _title(ctx: KioskContext, text: str) -> Widget:
    return label("title", text, ctx.layout, size="title")


def _small(ctx: KioskContext, ident: str, text: str) -> Widget:
    widget = label(ident, text, ctx.layout, size="small", halign="left", size_hint_y=None)
    widget.height = ctx.layout.small_px * 3 // 2
    return widget


def _centred(ctx: KioskContext, title: str, body: str = "") -> Widget:
    children = [Widget(), _title(ctx, title)]
    if body:
        children.append(label("body", body, ctx.layout))
    return _column(ctx, *children, Widget())


# ------------------------------------------------------------------------------ identification


def _idle(ctx: KioskContext) -> Widget:
    other = "de" if ctx.state.language == "en" else "en"
    composer = ctx.composer
    layout = ctx.layout
    hint = icon("idle_icon", "contactless", layout, size_px=layout.target_px * 5 // 4)
    hint.pos_hint = {"center_x": 0.5}
    return _column(
        ctx,
        Widget(),
        hint,
        _title(ctx, ctx.t("idle_title")),
        label("idle_body", ctx.t("idle_body"), layout, tone="muted"),
        Widget(),
        row(
            layout,
            button(
                "open_pin",
                ctx.t("enter_pin"),
                ctx.local(lambda: composer.reset("pin")),
                layout,
                icon="dialpad",
            ),
            button(
                "open_password",
                ctx.t("password_login"),
                ctx.local(lambda: composer.reset("password")),
                layout,
                icon="keyboard",
            ),
            button(
                "language",
                ctx.t("language"),
                ctx.intent(SetLanguage(other)),
                layout,
                role="quiet",
                icon="language",
            ),
        ),
    )


def _pin_pad(ctx: KioskContext) -> Widget:
    composer = ctx.composer
    return pin_pad(
        ctx.layout,
        (ctx.t("clear"), ctx.t("ok")),
        lambda digit: ctx.local(partial(composer.digit, digit)),
        ctx.local(lambda: setattr(composer, "pin", "")),
        ctx.then_redraw(composer.take_pin),
    )


def _pin(ctx: KioskContext) -> Widget:
    second_factor = ctx.state.screen is KioskScreen.SECOND_FACTOR
    cancel = ctx.intent(Cancel()) if second_factor else ctx.local(ctx.composer.reset)
    mask = label("pin_mask", "● " * len(ctx.composer.pin), ctx.layout, size="title", font_name=TEXT_FONT)
    side = _column(
        ctx,
        Widget(),
        _title(ctx, ctx.t("pin_second_factor" if second_factor else "pin_title")),
        mask,
        Widget(),
        button("cancel", ctx.t("cancel"), cancel, ctx.layout, role="quiet"),
    )
    box = BoxLayout(orientation="horizontal", spacing=ctx.layout.padding_px)
    box.add_widget(side)
    box.add_widget(_column(ctx, Widget(), _pin_pad(ctx)))
    return box


def _password(ctx: KioskContext) -> Widget:
    composer = ctx.composer
    user = text_field("username", ctx.t("username"), composer.username, ctx.layout)
    secret = text_field("password", ctx.t("password"), composer.password, ctx.layout, password=True)
    user.bind(text=lambda _w, text: setattr(composer, "username", text))
    secret.bind(text=lambda _w, text: setattr(composer, "password", text))
    login = button(
        "login", ctx.t("login"), ctx.then_redraw(composer.take_password), ctx.layout, role="primary"
    )
    cancel = button("cancel", ctx.t("cancel"), ctx.local(composer.reset), ctx.layout, role="quiet")
    return _column(
        ctx, _title(ctx, ctx.t("password_login")), user, secret, row(ctx.layout, login, cancel), Widget()
    )


# ------------------------------------------------------------------------------ the account


def _account_lines(ctx: KioskContext) -> list[Widget]:
    state = ctx.state
    name = state.full_name or state.username
    lines: list[Widget] = [
        _title(ctx, ctx.t("hello", name=name)),
        label(
            "balance", ctx.t("balance", amount=ctx.money(state.balance_minor or 0)), ctx.layout, size="title"
        ),
    ]
    for line in lines:  # one line each: they keep their height beside the tiles
        line.size_hint_y, line.height = None, ctx.layout.title_px * 3 // 2
    if state.arrears_minor:
        lines.append(
            label("arrears", ctx.t("arrears", amount=ctx.money(abs(state.arrears_minor))), ctx.layout)
        )
    return lines


def _home(ctx: KioskContext) -> Widget:
    layout = ctx.layout
    tiles = row(
        layout,
        tile(
            "insert_money",
            "payments",
            ctx.t("insert_money"),
            ctx.intent(StartRecharge()),
            layout,
            role="primary",
        ),
        tile(
            "redeem_voucher",
            "voucher",
            ctx.t("redeem_voucher"),
            ctx.local(lambda: ctx.composer.reset("voucher")),
            layout,
        ),
        height_px=layout.target_px * 2,  # the account lines and a message need the rest at 800x480
    )
    for widget in tiles.children:
        widget.height = tiles.height
    logout = button(
        "logout",
        ctx.t("logout"),
        ctx.intent(Logout()),
        layout,
        role="danger",
        icon="logout",
        width_px=layout.target_px * 3,
    )
    return _column(ctx, *_account_lines(ctx), tiles, Widget(), row(layout, Widget(), logout))


def _summary(ctx: KioskContext) -> Widget:
    state = ctx.state
    args = dict(state.message_args)
    title = "summary_recharge" if state.message is KioskMessage.RECHARGE_DONE else "summary_voucher"
    paid_minor = int(args.get("amount", "0"))
    paid = ctx.money(paid_minor)
    balance = ctx.money(int(args.get("balance", str(state.balance_minor or 0))))
    children: list[Widget] = [
        Widget(),
        _title(ctx, ctx.t(title)),
        label("summary_amount", ctx.t("summary_amount", amount=paid), ctx.layout, size="title"),
        label("summary_balance", ctx.t("summary_balance", balance=balance), ctx.layout),
    ]
    if paid_minor > 0 and state.printer_ready is not False:  # nothing paid: no receipt printed
        children.append(label("summary_receipt", ctx.t("summary_receipt"), ctx.layout))
    buttons = row(
        ctx.layout,
        button("done", ctx.t("done"), ctx.intent(DismissMessage()), ctx.layout, role="primary"),
        button("logout", ctx.t("logout"), ctx.intent(Logout()), ctx.layout, role="danger"),
    )
    return _column(ctx, *children, Widget(), buttons)


def _voucher(ctx: KioskContext) -> Widget:
    composer, layout = ctx.composer, ctx.layout
    key_px = max(48, layout.target_px * 3 // 4)
    code = voucher_code.format_code(composer.voucher)
    top = row(
        layout,
        label("voucher_code", code, layout, size="title", font_name=TEXT_FONT),
        button(
            "voucher_ok",
            ctx.t("redeem"),
            ctx.then_redraw(composer.take_voucher),
            layout,
            role="primary",
            width_px=layout.target_px * 2,
        ),
        button(
            "cancel",
            ctx.t("cancel"),
            ctx.local(composer.reset),
            layout,
            role="quiet",
            width_px=layout.target_px * 2,
        ),
    )
    keyboard = BoxLayout(orientation="vertical", spacing=layout.padding_px // 2, size_hint_y=None)
    keyboard.height = len(voucher_code.KEYBOARD_ROWS) * (key_px + layout.padding_px // 2)
    for index, keys in enumerate(voucher_code.KEYBOARD_ROWS):
        line = BoxLayout(orientation="horizontal", spacing=layout.padding_px // 2)
        for char in keys:
            line.add_widget(_key(ctx, f"key_{char}", char, ctx.local(partial(composer.key, char)), key_px))
        if index == 0:
            back = ctx.local(lambda: setattr(composer, "voucher", composer.voucher[:-1]))
            line.add_widget(_wide(_key(ctx, "key_back", ctx.t("backspace"), back, key_px, role="quiet")))
        if index == 1:
            clear = ctx.local(lambda: setattr(composer, "voucher", ""))
            line.add_widget(_wide(_key(ctx, "key_clear", ctx.t("clear"), clear, key_px, role="quiet")))
        keyboard.add_widget(line)
    return _column(ctx, _title(ctx, ctx.t("voucher_title")), top, keyboard)


def _wide(key: Widget) -> Widget:
    """A command key one and a half letters wide (its word fits on one line)."""
    key.size_hint_x = 1.6
    return key


def _key(
    ctx: KioskContext, ident: str, text: str, action: Callable[[], None], key_px: int, role: str = "normal"
) -> Widget:
    widget = button(ident, text, action, ctx.layout, role=role)
    widget.height = key_px
    widget.font_name = TEXT_FONT
    return widget


# ------------------------------------------------------------------------------ money


def _recharging(ctx: KioskContext) -> Widget:
    state = ctx.state
    title = "insert_title" if state.accepting else ("opening" if state.coins_in_recharge == 0 else "paused")
    coin = state.last_coin
    if coin is None:
        last = ctx.t("no_coin_yet")
    else:
        status = ctx.t("status_credited" if coin.credited else "status_pending")
        last = ctx.t(
            "last_coin", amount=ctx.money(coin.value_minor), kind=ctx.t(coin.device_kind), status=status
        )
    total = label(
        "total", ctx.t("total", amount=ctx.money(state.shown_total_minor)), ctx.layout, size="title"
    )
    split = ctx.t(
        "credited_pending",
        credited=ctx.money(state.recharge_total_minor),
        pending=ctx.money(state.pending_minor),
    )
    finish = button("finish", ctx.t("finish"), ctx.intent(FinishRecharge()), ctx.layout, role="primary")
    coin_panel = Panel(
        "selected" if coin is not None and not coin.credited else "panel", ctx.layout, size_hint_y=None
    )
    coin_panel.height = ctx.layout.target_px
    coin_panel.add_widget(label("last_coin", last, ctx.layout))
    return _column(
        ctx,
        _title(ctx, ctx.t(title)),
        total,
        coin_panel,
        label("credited_pending", split, ctx.layout),
        row(ctx.layout, label("pieces", ctx.t("pieces", count=state.coins_in_recharge), ctx.layout), finish),
    )


def _closing(ctx: KioskContext) -> Widget:
    state = ctx.state
    return _column(
        ctx,
        Widget(),
        _title(ctx, ctx.t("closing_title")),
        label("total", ctx.t("total", amount=ctx.money(state.shown_total_minor)), ctx.layout, size="title"),
        label("body", ctx.t("closing_body"), ctx.layout),
        Widget(),
    )


# ------------------------------------------------------------------------------ operator


def _operator_info(ctx: KioskContext) -> list[Widget]:
    state = ctx.state
    box = state.cash_box
    lines: list[Widget] = [_title(ctx, ctx.t("operator_title", name=state.full_name or state.username))]
    if box is None:
        lines.append(_small(ctx, "cash_box", ctx.t("cash_box_unknown")))
    else:
        lines.append(
            _small(ctx, "cash_box", ctx.t("cash_box_expected", amount=ctx.money(box.expected_minor)))
        )
        for line in box.lines:
            # after an emptying the lines are what was taken out: expected against counted
            text = ctx.t(
                "cash_box_line" if box.difference_minor is None else "cash_box_line_counted",
                kind=ctx.t(line.device_kind),
                value=ctx.money(line.value_minor),
                count=line.expected_count,
                counted=line.counted_count,
            )
            lines.append(_small(ctx, f"box_{line.device_kind}_{line.value_minor}", text))
        if box.difference_minor is not None:
            lines.append(
                _small(
                    ctx, "difference", ctx.t("cash_box_difference", amount=ctx.money(box.difference_minor))
                )
            )
    lines.append(_small(ctx, "printer", ctx.t("printer_line", status=_printer_status(ctx))))
    for test in state.self_tests:
        lines.append(
            _small(
                ctx,
                f"self_test_{test.device}",
                ctx.t(
                    "self_test_line",
                    device=ctx.device(test.device),
                    result=_self_test(ctx, test.ok, test.code, test.name),
                ),
            )
        )
    if state.pending_events:
        lines.append(_small(ctx, "pending_events", ctx.t("pending_events", count=state.pending_events)))
    if state.device_alarms:
        alarms = ctx.t("alarms", count=len(state.device_alarms), last=state.device_alarms[-1])
        lines.append(_small(ctx, "alarms", alarms))
    return lines


def _printer_status(ctx: KioskContext) -> str:
    state = ctx.state
    if state.printer_ready is None:
        return ctx.t("printer_unknown")
    paper = ctx.t(f"paper_{state.printer_paper}")
    return ctx.t("printer_ready" if state.printer_ready else "printer_not_ready", paper=paper)


def _self_test(ctx: KioskContext, ok: bool | None, code: int, name: str) -> str:
    if ok is None:
        return ctx.t("self_test_unknown")
    return ctx.t("self_test_ok") if ok else ctx.t("self_test_failed", code=code, name=name)


def _operator(ctx: KioskContext) -> Widget:
    layout = ctx.layout
    info = _column(ctx, *_operator_info(ctx), Widget())
    actions = GridLayout(cols=2, spacing=layout.padding_px, size_hint=(None, None))
    actions.width = layout.target_px * 6
    actions.height = 3 * layout.target_px + 2 * layout.padding_px
    for ident, key, action, role in (
        ("refresh", "refresh", ctx.intent(RefreshCashBox()), "normal"),
        ("empty_box", "empty_box", ctx.local(lambda: ctx.composer.reset("count")), "normal"),
        ("self_test", "self_test", ctx.intent(RunSelfTest()), "normal"),
        ("check_printer", "check_printer", ctx.intent(CheckPrinter()), "normal"),
        ("print_report", "print_report", ctx.intent(PrintCashBoxReport()), "normal"),
        ("logout", "logout", ctx.intent(Logout()), "danger"),
    ):
        actions.add_widget(button(ident, ctx.t(key), action, layout, role=role))
    box = BoxLayout(orientation="horizontal", spacing=layout.padding_px)
    box.add_widget(info)
    box.add_widget(_column(ctx, Widget(), actions, size_hint_x=None, width=actions.width))
    return box


def _count(ctx: KioskContext) -> Widget:
    composer, layout, state = ctx.composer, ctx.layout, ctx.state
    assert state.cash_box is not None
    key_px = max(48, layout.target_px * 3 // 4)
    lines = GridLayout(cols=1, spacing=layout.padding_px // 2, size_hint_y=None)
    lines.bind(minimum_height=lines.setter("height"))
    counted_minor = 0
    for line in state.cash_box.lines:
        kind, value = line.device_kind, line.value_minor
        count = composer.counted.get((kind, value), 0)
        counted_minor += count * value
        ident = f"{kind}_{value}"
        name = label(f"name_{ident}", f"{ctx.t(kind)} {ctx.money(value)}", layout, halign="left")
        shown = label(f"count_{ident}", str(count), layout, size_hint_x=None, width=layout.target_px * 2)
        less = _key(
            ctx, f"less_{ident}", "−", ctx.local(partial(composer.count, kind, value, -1)), key_px, "quiet"
        )
        more = _key(ctx, f"more_{ident}", "+", ctx.local(partial(composer.count, kind, value, 1)), key_px)
        for widget in (less, more):
            widget.size_hint_x, widget.width = None, key_px * 3 // 2
        lines.add_widget(row(layout, name, less, shown, more, height_px=key_px))
    scroll = ScrollView(do_scroll_x=False)
    scroll.add_widget(lines)
    total = label("count_total", ctx.t("count_total", amount=ctx.money(counted_minor)), layout)
    confirm = button(
        "confirm_empty",
        ctx.t("confirm_empty"),
        ctx.then_redraw(composer.take_counted),
        layout,
        role="primary",
    )
    cancel = button("cancel", ctx.t("cancel"), ctx.local(composer.reset), layout, role="quiet")
    return _column(ctx, _title(ctx, ctx.t("count_title")), scroll, row(layout, total, confirm, cancel))


# ------------------------------------------------------------------------------ dispatch

_BUILDERS: dict[str, Callable[[KioskContext], Widget]] = {
    "idle": _idle,
    "pin": _pin,
    "password": _password,
    "home": _home,
    "summary": _summary,
    "voucher": _voucher,
    "recharging": _recharging,
    "closing": _closing,
    "operator": _operator,
    "count": _count,
    "starting": lambda ctx: _centred(ctx, ctx.t("starting")),
    "identifying": lambda ctx: _centred(ctx, ctx.t("identifying")),
    "out_of_order": lambda ctx: _centred(ctx, ctx.t("out_of_order"), ctx.t("out_of_order_body")),
    # the state's message says why and what to do (the screens' look is being redesigned)
    "disabled": lambda ctx: _centred(ctx, ctx.t("disabled"), ctx.t("out_of_order_body")),
    "reenroll": lambda ctx: _centred(ctx, ctx.t("reenroll"), ctx.t("out_of_order_body")),
}


def build_kiosk_screen(ctx: KioskContext) -> tuple[str, Widget]:
    """The visible screen's name and its widget tree."""
    name = visible_kiosk_screen(ctx.state, ctx.composer)
    return name, _BUILDERS[name](ctx)
