"""The terminal's screens: one builder per visible screen, from the engine's state to widgets.

:func:`build_screen` is the one function from a :class:`TerminalState` (plus what the user is
composing) to the widget tree shown. Buttons never change state: they call ``submit(intent)``,
or change the :class:`~terminal_app.terminal.ui.compose.Composer` and ask for a redraw.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from kivy.core.image import Image as CoreImage
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout
from kivy.uix.image import Image
from kivy.uix.scrollview import ScrollView
from kivy.uix.widget import Widget

from terminal_app.terminal.state import (
    Cancel,
    ChooseScanProfile,
    Intent,
    JobView,
    Logout,
    Screen,
    SelectProject,
    SetLanguage,
    StartCopy,
    TerminalState,
)
from terminal_app.terminal.ui.compose import Composer, visible_screen
from terminal_app.terminal.ui.i18n import printer_errors_text, tr
from terminal_app.ui.i18n import money
from terminal_app.ui.settings import Layout
from terminal_app.ui.widgets import SYMBOL_FONT, Panel, button, field, label, pin_pad, row

__all__ = ["Context", "build_screen"]

log = logging.getLogger(__name__)


@dataclass
class Context:
    """What a screen builder needs."""

    state: TerminalState
    composer: Composer
    layout: Layout
    submit: Callable[[Intent], None]
    redraw: Callable[[], None]  # after a change to the composer
    portrait: bool = False

    def t(self, key: str, **args: object) -> str:
        """A text in the state's language."""
        return tr(self.state.language, key, **args)

    def money(self, cents: int) -> str:
        """Cents in the state's language."""
        return money(cents, self.state.language)

    def send(self, intent: Intent | None) -> None:
        """Submit an intent (None: nothing to send yet)."""
        if intent is not None:
            self.submit(intent)

    def local(self, change: Callable[[], None]) -> Callable[[], None]:
        """A button action that changes the composer and redraws."""

        def run() -> None:
            change()
            self.redraw()

        return run


def _column(ctx: Context, *children: Widget, spacing: bool = True) -> BoxLayout:
    box = BoxLayout(orientation="vertical", spacing=ctx.layout.padding_px if spacing else 0)
    for child in children:
        box.add_widget(child)
    return box


def _title(ctx: Context, key: str, **args: object) -> Widget:
    return label("title", ctx.t(key, **args), ctx.layout, size="title")


def _centred(ctx: Context, key: str) -> Widget:
    return _column(ctx, Widget(), _title(ctx, key), Widget())


# ------------------------------------------------------------------------------ idle and login


def _printer_line(ctx: Context) -> Widget:
    errors = ctx.state.printer_errors
    text = ctx.t("printer_state", errors=printer_errors_text(errors, ctx.state.language))
    return label("printer_state", text if errors else ctx.t("printer_ready"), ctx.layout)


def _idle(ctx: Context) -> Widget:
    other = "de" if ctx.state.language == "en" else "en"
    children: list[Widget] = [Widget(), _title(ctx, "idle_title"), _printer_line(ctx)]
    if ctx.state.pending_reports:
        children.append(
            label(
                "pending", ctx.t("pending_reports", count=ctx.state.pending_reports), ctx.layout, size="small"
            )
        )
    children += [
        Widget(),
        row(
            ctx.layout,
            button("open_pin", ctx.t("enter_pin"), ctx.local(lambda: ctx.composer.idle("pin")), ctx.layout),
            button(
                "open_password",
                ctx.t("password_login"),
                ctx.local(lambda: ctx.composer.idle("password")),
                ctx.layout,
            ),
            button(
                "language",
                ctx.t("language"),
                lambda: ctx.submit(SetLanguage(other)),
                ctx.layout,
                role="quiet",
            ),
        ),
    ]
    return _column(ctx, *children)


def _pin_pad(ctx: Context) -> Widget:
    composer = ctx.composer
    return pin_pad(
        ctx.layout,
        (ctx.t("clear"), ctx.t("ok")),
        lambda digit: ctx.local(partial(composer.digit, digit)),
        ctx.local(composer.clear_pin),
        lambda: ctx.send(composer.pin_entered()),
    )


def _pin(ctx: Context) -> Widget:
    second_factor = ctx.state.screen is Screen.SECOND_FACTOR
    cancel: Callable[[], None] = (
        (lambda: ctx.submit(Cancel())) if second_factor else ctx.local(lambda: ctx.composer.idle(""))
    )
    mask = label("pin_mask", "● " * len(ctx.composer.pin), ctx.layout, size="title", font_name=SYMBOL_FONT)
    side = _column(
        ctx,
        Widget(),
        _title(ctx, "pin_second_factor" if second_factor else "pin_title"),
        mask,
        Widget(),
        button("cancel", ctx.t("cancel"), cancel, ctx.layout, role="quiet"),
    )
    box = BoxLayout(orientation="vertical" if ctx.portrait else "horizontal", spacing=ctx.layout.padding_px)
    box.add_widget(side)
    box.add_widget(_column(ctx, Widget(), _pin_pad(ctx)))
    return box


def _password(ctx: Context) -> Widget:
    composer = ctx.composer
    unknown = ctx.state.unknown_card
    user = field("username", ctx.t("username"), composer.username, ctx.layout)
    secret = field("password", ctx.t("password"), composer.password, ctx.layout, password=True)
    user.bind(text=lambda _w, text: setattr(composer, "username", text))
    secret.bind(text=lambda _w, text: setattr(composer, "password", text))
    children: list[Widget] = [_title(ctx, "unknown_title" if unknown else "password_login")]
    if unknown:
        children.append(label("unknown_body", ctx.t("unknown_body"), ctx.layout))
        confirm = button(
            "link", ctx.t("link_card"), lambda: ctx.send(composer.link_card()), ctx.layout, role="primary"
        )
        cancel = button("cancel", ctx.t("cancel"), lambda: ctx.submit(Cancel()), ctx.layout, role="quiet")
    else:
        confirm = button(
            "login", ctx.t("login"), lambda: ctx.send(composer.password_entered()), ctx.layout, role="primary"
        )
        cancel = button(
            "cancel", ctx.t("cancel"), ctx.local(lambda: composer.idle("")), ctx.layout, role="quiet"
        )
    children += [user, secret, row(ctx.layout, confirm, cancel)]
    return _column(ctx, *children)


# ------------------------------------------------------------------------------ the session


def _account_lines(ctx: Context) -> list[Widget]:
    state = ctx.state
    lines: list[Widget] = []
    if state.offline_session:
        lines.append(label("balance", ctx.t("offline_session"), ctx.layout, size="small"))
    elif state.postpaid:
        lines.append(label("balance", ctx.t("postpaid"), ctx.layout, size="small"))
    elif state.balance_cents is not None:
        lines.append(label("balance", ctx.t("balance", amount=ctx.money(state.balance_cents)), ctx.layout))
    if state.quota_pages_left is not None:
        lines.append(
            label("quota", ctx.t("quota_left", pages=state.quota_pages_left), ctx.layout, size="small")
        )
    else:
        lines.append(label("quota", ctx.t("no_quota"), ctx.layout, size="small"))
    return lines


def _session_header(ctx: Context) -> Widget:
    state, layout = ctx.state, ctx.layout
    name = label("welcome", ctx.t("welcome", name=state.full_name or state.username), layout, halign="left")
    return row(layout, name, *_account_lines(ctx), height_px=layout.target_px * 2 // 3)


def _copier_row(ctx: Context) -> Widget:
    state, layout = ctx.state, ctx.layout
    key = "copier_unlocked" if state.panel_unlocked else "copier_locked"
    status = label("copier", ctx.t(key), layout, size="small", halign="left")
    if state.project:
        names = {project.code: project.name for project in state.projects}
        status.text += f" · {names.get(state.project, state.project)}"
    if state.copy_allowed and not state.panel_unlocked:
        start = button(
            "start_copy", ctx.t("start_copy"), lambda: ctx.submit(StartCopy()), layout, role="primary"
        )
        return row(layout, status, start)
    return row(layout, status, height_px=layout.target_px // 2)


def _scan_row(ctx: Context) -> Widget | None:
    """The Scan tile: the profile the MFP's scans get, one toggle per profile (none: no row)."""
    state = ctx.state
    if not state.scan_profiles:
        return None
    choices = []
    for profile in state.scan_profiles:
        choice = button(
            f"scan_{profile.profile_id}",
            profile.name(state.language),
            partial(ctx.submit, ChooseScanProfile(profile.profile_id)),
            ctx.layout,
            role="selected" if profile.profile_id == state.scan_profile else "quiet",
        )
        choice.font_size = ctx.layout.small_px
        choices.append(choice)
    return row(ctx.layout, label("scan_to", ctx.t("scan_to"), ctx.layout, size="small"), *choices)


def _home(ctx: Context) -> Widget:
    state = ctx.state
    jobs_text = ctx.t("no_jobs" if state.jobs_supported else "jobs_unavailable")
    scan = _scan_row(ctx)
    return _column(
        ctx,
        _session_header(ctx),
        _copier_row(ctx),
        *([scan] if scan is not None else []),
        label("jobs_status", jobs_text, ctx.layout),
        Widget(),
        row(ctx.layout, Widget(), _logout(ctx)),
    )


def _logout(ctx: Context) -> Widget:
    return button("logout", ctx.t("logout"), lambda: ctx.submit(Logout()), ctx.layout, role="danger")


def _toggle(ctx: Context, ident: str, text: str, on: bool, action: Callable[[], None]) -> Widget:
    mark = "☑" if on else "☐"
    widget = button(
        ident,
        f"{mark} {text}",
        ctx.local(action),
        ctx.layout,
        role="selected" if on else "quiet",
        width_px=ctx.layout.target_px * 3 // 2,
    )
    widget.font_name = SYMBOL_FONT
    widget.font_size = ctx.layout.small_px if text else ctx.layout.title_px
    return widget


def _thumbnail(ctx: Context, job: JobView) -> Widget:
    """The job's first page from the hub's PNG; a page sketch with a colour stripe without one."""
    size = ctx.layout.target_px - 16
    if job.thumbnail_png:
        try:
            texture = CoreImage(io.BytesIO(job.thumbnail_png), ext="png").texture
        except Exception as exc:  # a PNG Kivy cannot decode: the sketch instead
            log.info("ui: thumbnail of job %d not shown: %s", job.job_id, exc)
        else:
            image = Image(
                texture=texture, size_hint=(None, None), size=(size * 3 // 4, size), fit_mode="contain"
            )
            image.ident = f"job_{job.job_id}_thumbnail"
            return image
    page = Panel("text", orientation="vertical", size_hint=(None, None), size=(size * 3 // 4, size))
    stripe = Panel("primary" if job.color_pages else "quiet", size_hint_y=0.25)
    page.add_widget(Widget())
    page.add_widget(stripe)
    page.ident = f"job_{job.job_id}_thumbnail"
    return page


def _job_details(ctx: Context, job: JobView) -> str:
    colour = ctx.t("job_colour") if job.color_pages else ctx.t("job_mono")
    details = f"{ctx.t('job_pages', pages=job.pages, copies=ctx.composer.copies(job))} · {colour}"
    if job.delegated:
        details += f" · {job.owner}"
    if job.estimate_note:
        details += f" · {ctx.t('job_estimated', note=job.estimate_note)}"
    return f"{details} · {ctx.t('job_printed')}" if job.printed else details


def _job_row(ctx: Context, job: JobView) -> Widget:
    layout, composer, prefix = ctx.layout, ctx.composer, f"job_{job.job_id}"
    choice = composer.choice(job.job_id)
    select = _toggle(ctx, f"{prefix}_select", "", choice.selected, lambda: composer.toggle_selected(job))
    select.width = layout.target_px
    name = label(
        f"{prefix}_name", f"{job.name}\n{_job_details(ctx, job)}", layout, size="small", halign="left"
    )
    toggle_px, copies_px = layout.target_px * 3 // 2, layout.target_px * 5 // 2 + 2 * layout.padding_px
    children: list[Widget] = [select, _thumbnail(ctx, job), name]
    # A control the job does not allow leaves a gap of its width, so the columns stay aligned.
    if job.allowed_mono and job.color_pages:
        mono = _toggle(ctx, f"{prefix}_mono", ctx.t("mono"), choice.mono, lambda: composer.toggle_mono(job))
        children.append(mono)
    else:
        children.append(_gap(toggle_px))
    if job.allowed_duplex and not job.duplex:
        children.append(
            _toggle(
                ctx, f"{prefix}_duplex", ctx.t("duplex"), choice.duplex, lambda: composer.toggle_duplex(job)
            )
        )
    else:
        children.append(_gap(toggle_px))
    if job.allowed_fewer_copies and job.copies > 1:
        children += _copies_buttons(ctx, job)
    else:
        children.append(_gap(copies_px))
    price = ctx.money(composer.price(job))
    children.append(
        label(f"{prefix}_price", price, layout, size_hint_x=None, width=layout.target_px * 3 // 2)
    )
    return row(layout, *children)


def _gap(width_px: int) -> Widget:
    return Widget(size_hint_x=None, width=width_px)


def _copies_buttons(ctx: Context, job: JobView) -> list[Widget]:
    layout, composer, prefix = ctx.layout, ctx.composer, f"job_{job.job_id}"
    return [
        button(
            f"{prefix}_fewer", "−", ctx.local(lambda: composer.change_copies(job, -1)), layout, width_px=0
        ),
        label(
            f"{prefix}_copies",
            str(composer.copies(job)),
            layout,
            size_hint_x=None,
            width=layout.target_px // 2,
        ),
        button(f"{prefix}_more", "+", ctx.local(lambda: composer.change_copies(job, +1)), layout, width_px=0),
    ]


def _jobs(ctx: Context) -> Widget:
    state, layout, composer = ctx.state, ctx.layout, ctx.composer
    rows = GridLayout(cols=1, spacing=layout.padding_px // 2, size_hint_y=None)
    rows.bind(minimum_height=rows.setter("height"))
    for job in state.jobs:
        rows.add_widget(_job_row(ctx, job))
    scroller = ScrollView(do_scroll_x=False)
    scroller.add_widget(rows)
    actions = row(
        layout,
        button(
            "print_selected",
            ctx.t("print_selected"),
            ctx.local(lambda: ctx.send(composer.release_selected(state.jobs))),
            layout,
            role="primary",
        ),
        button(
            "print_all",
            ctx.t("print_all"),
            ctx.local(lambda: ctx.submit(composer.release_all())),
            layout,
            role="primary",
        ),
        button(
            "delete",
            ctx.t("delete"),
            ctx.local(lambda: ctx.send(composer.delete_selected(state.jobs))),
            layout,
            role="quiet",
        ),
        _logout(ctx),
    )
    return _column(ctx, _session_header(ctx), _copier_row(ctx), scroller, actions)


def _releasing(ctx: Context) -> Widget:
    names = {job.job_id: job.name for job in ctx.state.jobs}
    lines: list[Widget] = [_title(ctx, "releasing_title")]
    for view in ctx.state.release:
        text = f"{names.get(view.job_id, f'#{view.job_id}')}: {ctx.t('release_' + view.state)}"
        if view.pages_printed:
            text += f" · {view.pages_printed} · {ctx.money(view.charged_cents)}"
        lines.append(label(f"release_{view.job_id}", text, ctx.layout))
    lines.append(Widget())
    return _column(ctx, *lines)


def _copying(ctx: Context) -> Widget:
    state = ctx.state
    pages = ctx.t(
        "copy_pages", pages=state.copy_pages, mono=state.copy_pages_mono, color=state.copy_pages_color
    )
    lines: list[Widget] = [
        _session_header(ctx),
        _title(ctx, "copying_title"),
        label("copy_pages", pages, ctx.layout, size="title"),
        label(
            "copy_cost", ctx.t("copy_cost", amount=ctx.money(state.copy_cost_cents)), ctx.layout, size="title"
        ),
    ]
    if state.credit_pages is not None:
        lines.append(label("copy_cap", ctx.t("copy_cap", pages=state.credit_pages), ctx.layout, size="small"))
    lines += [Widget(), row(ctx.layout, Widget(), _logout(ctx))]
    return _column(ctx, *lines)


def _select_project(ctx: Context) -> Widget:
    state, layout = ctx.state, ctx.layout
    grid = GridLayout(cols=1 if ctx.portrait else 2, spacing=layout.padding_px, size_hint_y=None)
    grid.bind(minimum_height=grid.setter("height"))
    for project in state.projects:
        grid.add_widget(
            button(
                f"project_{project.code}",
                f"{project.name} ({project.code})",
                partial(ctx.submit, SelectProject(project.code)),
                layout,
            )
        )
    if not state.project_required:
        grid.add_widget(
            button("project_own", ctx.t("own_account"), lambda: ctx.submit(SelectProject("")), layout)
        )
    scroller = ScrollView(do_scroll_x=False)
    scroller.add_widget(grid)
    cancel = button("cancel", ctx.t("cancel"), lambda: ctx.submit(Cancel()), layout, role="quiet")
    return _column(ctx, _title(ctx, "project_title"), scroller, row(layout, Widget(), cancel))


def _out_of_order(ctx: Context) -> Widget:
    panel = Panel("error", orientation="vertical")
    panel.add_widget(Widget())
    panel.add_widget(_title(ctx, "out_of_order"))
    panel.add_widget(Widget())
    return panel


_BUILDERS: dict[str, Callable[[Context], Widget]] = {
    Screen.STARTING.value: lambda ctx: _centred(ctx, "starting"),
    Screen.IDLE.value: _idle,
    "pin": _pin,
    "password": _password,
    "unknown_card": _password,
    Screen.IDENTIFYING.value: lambda ctx: _centred(ctx, "identifying"),
    Screen.SECOND_FACTOR.value: _pin,
    Screen.SELECT_PROJECT.value: _select_project,
    Screen.HOME.value: _home,
    "jobs": _jobs,
    Screen.RELEASING.value: _releasing,
    Screen.COPYING.value: _copying,
    Screen.LOGGING_OUT.value: lambda ctx: _centred(ctx, "logging_out"),
    Screen.OUT_OF_ORDER.value: _out_of_order,
}


def build_screen(ctx: Context) -> tuple[str, Widget]:
    """The visible screen's name and its widget tree for ``ctx.state``."""
    name = visible_screen(ctx.state, ctx.composer)
    return name, _BUILDERS[name](ctx)
