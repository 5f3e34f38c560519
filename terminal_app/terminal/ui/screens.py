"""The terminal's screens: one builder per visible screen, from the engine's state to widgets.

:func:`build_screen` is the one function from a :class:`TerminalState` (plus what the user is
composing) to the widget tree shown. Buttons never change state: they call ``submit(intent)``,
or change the :class:`~terminal_app.terminal.ui.compose.Composer` and ask for a redraw.

The home screen is a row of large tiles (print my jobs, favourites, copy, credit); the job list,
the favourites and the colleague search open over it. Sizes, colours and icons come from the
layout (:mod:`terminal_app.ui.theme`).
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
from kivy.utils import escape_markup

from terminal_app.terminal.state import (
    SEARCH_QUERY_CHARS_MIN,
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
from terminal_app.ui.theme import TEXT_FONT, Layout
from terminal_app.ui.widgets import (
    Panel,
    button,
    field,
    icon,
    label,
    pin_pad,
    row,
    tile,
    with_icon,
)

__all__ = ["Context", "build_screen", "header_items"]

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

    def send_all(self, intents: list[Intent]) -> None:
        """Submit intents in order."""
        for intent in intents:
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
    if errors:
        text = ctx.t("printer_state", errors=printer_errors_text(errors, ctx.state.language))
        words = with_icon("warning", text, ctx.layout.font_px)
        return label(
            "printer_state", words, ctx.layout, markup=True, size_hint_y=None, height=ctx.layout.target_px
        )
    return label(
        "printer_state",
        ctx.t("printer_ready"),
        ctx.layout,
        tone="muted",
        size_hint_y=None,
        height=ctx.layout.target_px,
    )


def _idle(ctx: Context) -> Widget:
    layout = ctx.layout
    other = "de" if ctx.state.language == "en" else "en"
    hint = icon("idle_icon", "contactless", layout, size_px=layout.target_px * 5 // 4)
    hint.pos_hint = {"center_x": 0.5}
    title = label(
        "title", ctx.t("idle_title"), layout, size="display", size_hint_y=None, height=layout.target_px
    )
    children: list[Widget] = [Widget(), hint, title, _printer_line(ctx)]
    if ctx.state.pending_reports:
        children.append(
            label("pending", ctx.t("pending_reports", count=ctx.state.pending_reports), layout, size="small")
        )
    children += [
        Widget(),
        row(
            layout,
            button(
                "open_pin",
                ctx.t("enter_pin"),
                ctx.local(lambda: ctx.composer.idle("pin")),
                layout,
                icon="dialpad",
            ),
            button(
                "open_password",
                ctx.t("password_login"),
                ctx.local(lambda: ctx.composer.idle("password")),
                layout,
                icon="keyboard",
            ),
            button(
                "language",
                ctx.t("language"),
                lambda: ctx.submit(SetLanguage(other)),
                layout,
                role="quiet",
                icon="language",
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
    mask = label("pin_mask", "● " * len(ctx.composer.pin), ctx.layout, size="title", font_name=TEXT_FONT)
    mask.size_hint_y, mask.height = None, ctx.layout.target_px
    title = _title(ctx, "pin_second_factor" if second_factor else "pin_title")
    title.size_hint_y, title.height = None, ctx.layout.title_px * 3  # two lines and air
    side = _column(
        ctx,
        Widget(),
        title,
        mask,
        Widget(),
        button("cancel", ctx.t("cancel"), cancel, ctx.layout, role="quiet", icon="back"),
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


def _balance_text(ctx: Context) -> str:
    state = ctx.state
    if state.offline_session:
        return ctx.t("credit_offline")
    if state.postpaid:
        return ctx.t("postpaid")
    if state.balance_cents is not None:
        return ctx.t("balance", amount=ctx.money(state.balance_cents))
    return ""


def _quota_text(ctx: Context) -> str:
    pages = ctx.state.quota_pages_left
    return ctx.t("no_quota") if pages is None else ctx.t("quota_left", pages=pages)


def header_items(state: TerminalState, layout: Layout) -> list[Widget]:
    """The header's middle: who is logged in and their balance; the printer and where it is."""
    items: list[Widget] = []
    if state.session_live:
        items.append(_header_line("header_user", "person", state.full_name or state.username, layout))
        if state.balance_cents is not None and not state.postpaid:
            amount = money(state.balance_cents, state.language)
            items.append(_header_line("header_balance", "wallet", amount, layout))
    else:
        items.append(Widget())
    if state.printer_name:
        place = state.printer_name
        if state.printer_location:
            place = tr(state.language, "place", printer=state.printer_name, location=state.printer_location)
        items.append(_header_line("header_place", "place", place, layout, tone="muted"))
    return items


def _header_line(ident: str, icon_name: str, words: str, layout: Layout, tone: str = "text") -> Widget:
    """One line of the header: an icon and words, cut short with an ellipsis rather than wrapped."""
    text = with_icon(icon_name, words, layout.small_px * 5 // 4)
    return label(
        ident,
        text,
        layout,
        size="small",
        tone=tone,
        halign="left",
        markup=True,
        shorten=True,
        shorten_from="right",
        max_lines=1,
    )


def _paper_low(ctx: Context) -> list[Widget]:
    """The printer's low or empty trays, before anything is released."""
    trays = ctx.state.paper_low
    if not trays:
        return []
    names = ", ".join(ctx.t(f"tray_{tray.state}", name=tray.name, media=tray.media or "?") for tray in trays)
    strip = Panel("warning", ctx.layout, size_hint_y=None, height=ctx.layout.target_px * 2 // 3)
    strip.padding = (ctx.layout.padding_px, 0)
    text = with_icon("warning", ctx.t("paper_low", trays=names), ctx.layout.font_px)
    strip.add_widget(label("paper_low", text, ctx.layout, size="small", halign="left", markup=True))
    return [strip]


def _home(ctx: Context) -> Widget:
    state, layout, composer = ctx.state, ctx.layout, ctx.composer
    grid = GridLayout(cols=2 if ctx.portrait else 4, spacing=layout.padding_px * 2, size_hint_y=None)
    grid.bind(minimum_height=grid.setter("height"))
    if state.jobs_supported:
        waiting = sum(1 for job in state.jobs if not job.printed)
        grid.add_widget(
            tile(
                "tile_jobs",
                "print",
                ctx.t("tile_jobs"),
                ctx.local(lambda: composer.open("jobs")),
                layout,
                detail=ctx.t("tile_jobs_count", count=waiting) if waiting else ctx.t("tile_jobs_none"),
                role="primary" if waiting else "tile",
            )
        )
        grid.add_widget(
            tile(
                "tile_favourites",
                "star",
                ctx.t("tile_favourites"),
                ctx.local(lambda: composer.open("favourites")),
                layout,
                detail=ctx.t("tile_favourites_count", count=len(state.favourites)),
            )
        )
    grid.add_widget(_copy_tile(ctx))
    if state.scan_profiles:
        grid.add_widget(_scan_tile(ctx))
    credit = [_balance_text(ctx), _quota_text(ctx)]
    grid.add_widget(
        tile("tile_credit", "wallet", ctx.t("tile_credit"), lambda: None, layout, detail="\n".join(credit))
    )
    children: list[Widget] = [grid, *_paper_low(ctx)]
    if not state.jobs_supported:
        children.append(label("jobs_status", ctx.t("jobs_unavailable"), layout, size="small", tone="muted"))
    if state.project:
        names = {project.code: project.name for project in state.projects}
        children.append(label("project", names.get(state.project, state.project), layout, size="small"))
    children += [Widget(), row(layout, Widget(), _logout(ctx))]
    return _column(ctx, *children)


def _copy_tile(ctx: Context) -> Widget:
    state = ctx.state
    if state.panel_unlocked:
        detail, role, action = ctx.t("copy_ready"), "success", (lambda: None)
    elif state.copy_allowed:
        detail, role, action = ctx.t("copy_tap"), "tile", (lambda: ctx.submit(StartCopy()))
    else:
        detail, role, action = ctx.t("copy_not_allowed"), "quiet", (lambda: None)
    return tile("tile_copy", "copy", ctx.t("tile_copy"), action, ctx.layout, detail=detail, role=role)


def _scan_tile(ctx: Context) -> Widget:
    """Where the MFP's scans go this session: the chosen profile; a tap opens the choice."""
    state = ctx.state
    names = {profile.profile_id: profile.name(state.language) for profile in state.scan_profiles}
    return tile(
        "tile_scan",
        "scan",
        ctx.t("tile_scan"),
        ctx.local(lambda: ctx.composer.open("scan")),
        ctx.layout,
        detail=names.get(state.scan_profile, ""),
    )


def _scan(ctx: Context) -> Widget:
    """The scan profiles, one toggle each; the chosen one applies to the scans that arrive."""
    state, layout = ctx.state, ctx.layout
    choices = GridLayout(cols=1 if ctx.portrait else 2, spacing=layout.padding_px, size_hint_y=None)
    choices.bind(minimum_height=choices.setter("height"))
    for profile in state.scan_profiles:
        chosen = profile.profile_id == state.scan_profile
        choice = button(
            f"scan_{profile.profile_id}",
            f"{'☑' if chosen else '☐'} {profile.name(state.language)}",
            partial(ctx.submit, ChooseScanProfile(profile.profile_id)),
            layout,
            role="selected" if chosen else "quiet",
        )
        choice.font_name = TEXT_FONT  # the check boxes are in DejaVu Sans
        choices.add_widget(choice)
    caption = label(
        "scan_to", ctx.t("scan_to"), layout, halign="left", size_hint_y=None, height=layout.target_px
    )
    return _column(ctx, caption, choices, Widget(), row(layout, _back(ctx), Widget(), _logout(ctx)))


def _logout(ctx: Context) -> Widget:
    return button(
        "logout",
        ctx.t("logout"),
        lambda: ctx.submit(Logout()),
        ctx.layout,
        role="danger",
        icon="logout",
        width_px=ctx.layout.target_px * 3,
    )


def _back(ctx: Context) -> Widget:
    return button(
        "back", ctx.t("back"), ctx.local(lambda: ctx.composer.open("")), ctx.layout, role="quiet", icon="back"
    )


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
    widget.font_name = TEXT_FONT
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
    page = Panel(
        "text", ctx.layout, orientation="vertical", size_hint=(None, None), size=(size * 3 // 4, size)
    )
    stripe = Panel("primary" if job.color_pages else "quiet", ctx.layout, size_hint_y=0.25)
    page.add_widget(Widget())
    page.add_widget(stripe)
    page.ident = f"job_{job.job_id}_thumbnail"
    return page


def _job_details(ctx: Context, job: JobView) -> str:
    colour = ctx.t("job_colour") if job.color_pages else ctx.t("job_mono")
    details = f"{ctx.t('job_pages', pages=job.pages, copies=ctx.composer.copies(job))} · {colour}"
    if job.delegated:
        details += f" · {job.owner}"
    for shown, text in (
        (job.may_have_printed, "job_may_have_printed"),
        (job.printed and not job.may_have_printed, "job_printed"),
        (not job.owner_verified, "job_unverified"),
        (job.analysing, "job_analysing"),
    ):
        if shown:
            details += f" · {ctx.t(text)}"
    if job.estimate_note:
        details += f" · {ctx.t('job_estimated', note=job.estimate_note)}"
    if job.rule_note:
        details += f" · {ctx.t('job_rule', note=job.rule_note)}"
    return details


def _job_row(ctx: Context, job: JobView) -> Widget:
    layout, composer, prefix = ctx.layout, ctx.composer, f"job_{job.job_id}"
    choice = composer.choice(job.job_id)
    select = _toggle(ctx, f"{prefix}_select", "", choice.selected, lambda: composer.toggle_selected(job))
    select.width = layout.target_px
    title = with_icon("star", job.name, layout.small_px) if job.favourite else escape_markup(job.name)
    details = escape_markup(_job_details(ctx, job))
    if job.delegates:  # whom the owner passed it on to
        details += " · " + with_icon("send", ", ".join(c.label for c in job.delegates), layout.small_px)
    name = label(
        f"{prefix}_name",
        f"{title}\n{details}",
        layout,
        size="small",
        halign="left",
        markup=True,
    )
    toggle_px, copies_px = layout.target_px * 3 // 2, layout.target_px * 5 // 2 + 2 * layout.padding_px
    controls: list[Widget] = []
    # A control the job does not allow leaves a gap of its width, so the columns stay aligned.
    if job.allowed_mono and job.color_pages:
        mono = _toggle(ctx, f"{prefix}_mono", ctx.t("mono"), choice.mono, lambda: composer.toggle_mono(job))
        controls.append(mono)
    else:
        controls.append(_gap(toggle_px))
    if job.allowed_duplex and not job.duplex:
        controls.append(
            _toggle(
                ctx, f"{prefix}_duplex", ctx.t("duplex"), choice.duplex, lambda: composer.toggle_duplex(job)
            )
        )
    else:
        controls.append(_gap(toggle_px))
    if job.allowed_fewer_copies and job.copies > 1:
        controls += _copies_buttons(ctx, job)
    else:
        controls.append(_gap(copies_px))
    price = label(
        f"{prefix}_price",
        ctx.money(composer.price(job)),
        layout,
        size_hint_x=None,
        width=layout.target_px * 3 // 2,
    )
    height_px = layout.target_px * 5 // 4
    if not (layout.large or ctx.portrait):
        return row(layout, select, _thumbnail(ctx, job), name, *controls, price, height_px=height_px)
    # Large text or a portrait panel: the overrides go on a second line under the name.
    first = row(layout, select, _thumbnail(ctx, job), name, price, height_px=height_px)
    second = row(layout, _gap(layout.target_px * 3 // 2), *controls, Widget())
    box = BoxLayout(orientation="vertical", size_hint_y=None, spacing=layout.padding_px // 2)
    box.height = first.height + second.height + box.spacing
    box.add_widget(first)
    box.add_widget(second)
    return box


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
    listed = composer.listed(state)
    favourites = composer.section == "favourites"
    rows = GridLayout(cols=1, spacing=layout.padding_px // 2, size_hint_y=None)
    rows.bind(minimum_height=rows.setter("height"))
    for job in listed:
        rows.add_widget(_job_row(ctx, job))
    if not listed:
        empty = ctx.t("no_favourites" if favourites else "no_jobs")
        rows.add_widget(
            label("jobs_empty", empty, layout, tone="muted", size_hint_y=None, height=layout.target_px)
        )
    scroller = ScrollView(do_scroll_x=False)
    scroller.add_widget(rows)
    caption_key = "favourites_title" if favourites else "jobs_title"
    caption = with_icon("star" if favourites else "print", ctx.t(caption_key), layout.small_px)
    heading = label(
        "jobs_title",
        caption,
        layout,
        size="small",
        halign="left",
        markup=True,
        tone="muted",
        size_hint_y=None,
        height=layout.small_px * 2,
    )
    buttons = [
        button(
            "print_selected",
            ctx.t("print_selected"),
            ctx.local(lambda: ctx.send(composer.release_selected(listed))),
            layout,
            role="primary",
            icon="print",
        ),
        button(
            "print_all",
            ctx.t("print_all"),
            ctx.local(lambda: ctx.submit(composer.release_all())),
            layout,
            role="primary",
        ),
        button(
            "star",
            ctx.t("favourite"),
            ctx.local(lambda: ctx.send_all(list(composer.star_selected(listed, state.username)))),
            layout,
            icon="star",
        ),
        button(
            "pass_on",
            ctx.t("pass_on"),
            ctx.local(lambda: composer.pass_on_selected(listed, state.username)),
            layout,
            icon="send",
        ),
        button(
            "delete",
            ctx.t("delete"),
            ctx.local(lambda: ctx.send(composer.delete_selected(listed))),
            layout,
            role="quiet",
            icon="delete",
        ),
        _back(ctx),
    ]
    if favourites:
        del buttons[1]  # "Print all" prints every held job, not only these
    # Large text or a portrait panel: the actions in two rows of three.
    actions = GridLayout(cols=3 if layout.large or ctx.portrait else len(buttons), spacing=layout.padding_px)
    actions.size_hint_y = None
    rows_needed = -(-len(buttons) // actions.cols)
    actions.height = rows_needed * layout.target_px + (rows_needed - 1) * layout.padding_px
    for widget in buttons:
        actions.add_widget(widget)
    return _column(ctx, heading, *_paper_low(ctx), scroller, actions)


def _pass_on(ctx: Context) -> Widget:
    state, layout, composer = ctx.state, ctx.layout, ctx.composer
    jobs = [job for job in state.jobs if job.job_id in composer.passing]
    names = ", ".join(job.name for job in jobs)
    title = label(
        "title",
        ctx.t("pass_on_title", jobs=names),
        layout,
        halign="left",
        shorten=True,
        max_lines=2,
        size_hint_y=None,
        height=layout.target_px,
    )
    query = field("colleague_query", ctx.t("colleague_query"), composer.colleague_query, layout)
    query.bind(text=lambda _w, text: setattr(composer, "colleague_query", text))
    query.bind(on_text_validate=lambda _w: ctx.submit(composer.search()))
    search = button(
        "search",
        ctx.t("search"),
        lambda: ctx.submit(composer.search()),
        layout,
        role="primary",
        icon="search",
        width_px=layout.target_px * 3,
    )
    found = GridLayout(cols=1 if ctx.portrait else 2, spacing=layout.padding_px, size_hint_y=None)
    found.bind(minimum_height=found.setter("height"))
    for colleague in state.colleagues:
        text = colleague.label + (f" · {colleague.department}" if colleague.department else "")
        action = _passing_to(ctx, colleague.username, withdraw=False)
        found.add_widget(button(f"colleague_{colleague.username}", text, action, layout, icon="person_add"))
    given = {c.username: c for job in jobs for c in job.delegates}
    for colleague in given.values():
        action = _passing_to(ctx, colleague.username, withdraw=True)
        text = ctx.t("take_back", name=colleague.label)
        found.add_widget(
            button(f"take_back_{colleague.username}", text, action, layout, role="quiet", icon="close")
        )
    if not state.colleagues:
        typed = len(composer.colleague_query.strip()) >= SEARCH_QUERY_CHARS_MIN
        hint = ctx.t("no_colleagues" if typed else "colleague_hint")
        found.add_widget(
            label(
                "colleague_hint",
                hint,
                layout,
                size="small",
                tone="muted",
                size_hint_y=None,
                height=layout.target_px,
            )
        )
    scroller = ScrollView(do_scroll_x=False)
    scroller.add_widget(found)
    back = button(
        "back", ctx.t("back"), ctx.local(lambda: composer.open("jobs")), layout, role="quiet", icon="back"
    )
    return _column(ctx, title, row(layout, query, search), scroller, row(layout, Widget(), back))


def _passing_to(ctx: Context, username: str, *, withdraw: bool) -> Callable[[], None]:
    """The action of a colleague's button: pass the jobs on to them (or take them back)."""
    return ctx.local(lambda: ctx.send_all(list(ctx.composer.pass_to(username, withdraw=withdraw))))


def _releasing(ctx: Context) -> Widget:
    names = {job.job_id: job.name for job in ctx.state.jobs}
    lines: list[Widget] = [_title(ctx, "releasing_title"), *_paper_low(ctx)]
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
    cancel = button(
        "cancel", ctx.t("cancel"), lambda: ctx.submit(Cancel()), layout, role="quiet", icon="back"
    )
    return _column(ctx, _title(ctx, "project_title"), scroller, row(layout, Widget(), cancel))


def _out_of_order(ctx: Context, title: str = "out_of_order") -> Widget:
    panel = Panel("error", ctx.layout, orientation="vertical")
    panel.add_widget(Widget())
    sign = icon("out_of_order_icon", "blocked", ctx.layout, size_px=ctx.layout.target_px * 2)
    sign.pos_hint = {"center_x": 0.5}
    panel.add_widget(sign)
    panel.add_widget(_title(ctx, title))
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
    "favourites": _jobs,
    "pass_on": _pass_on,
    "scan": _scan,
    Screen.RELEASING.value: _releasing,
    Screen.COPYING.value: _copying,
    Screen.LOGGING_OUT.value: lambda ctx: _centred(ctx, "logging_out"),
    Screen.OUT_OF_ORDER.value: _out_of_order,
    # the state's message says why and what to do (the screens' look is being redesigned)
    Screen.DISABLED.value: lambda ctx: _out_of_order(ctx, "disabled"),
    Screen.REENROLL.value: lambda ctx: _out_of_order(ctx, "reenroll"),
}


def build_screen(ctx: Context) -> tuple[str, Widget]:
    """The visible screen's name and its widget tree for ``ctx.state``."""
    name = visible_screen(ctx.state, ctx.composer)
    return name, _BUILDERS[name](ctx)
