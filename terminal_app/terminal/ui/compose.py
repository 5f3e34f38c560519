"""What the user is composing before an intent is sent, and which screen a state shows.

No Kivy here. The engine's :class:`TerminalState` decides everything the terminal *is*; this
module only holds what the user is still typing or choosing (PIN digits, username and password,
the section of the home screen open, the job selection with per-job overrides, the jobs being
passed on and the colleague's name typed) and turns it into intents when confirmed. It also
picks the visible screen (:func:`visible_screen`), the single place where a state becomes a view.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from terminal_app.terminal.state import (
    DeleteJobs,
    JobOverrides,
    JobView,
    LinkCard,
    MessageKey,
    PassJobOn,
    PasswordEntered,
    PinEntered,
    ReleaseAll,
    ReleaseSelected,
    Screen,
    SearchColleagues,
    StarJob,
    TerminalState,
)

__all__ = ["MAX_PIN_DIGITS", "SECTIONS", "SEVERITY", "Composer", "JobChoice", "visible_screen"]

# What the home screen opens over itself (its tiles): all held jobs, the favourites, passing
# selected jobs on to a colleague.
SECTIONS = ("jobs", "favourites", "pass_on", "scan")

MAX_PIN_DIGITS = 12

# How a message is shown: "error" (red), "warning" (amber) or "info" (blue), never by colour alone
# (the text says it). Data, so a new key only needs a line here.
SEVERITY: dict[MessageKey, str] = {
    MessageKey.PRINTER_JAMMED: "error",
    MessageKey.PRINTER_ERROR: "error",
    MessageKey.NOT_ENOUGH_CREDIT: "error",
    MessageKey.CREDIT_USED_UP: "error",
    MessageKey.PANEL_FAULT: "error",
    MessageKey.DEVICE_DISABLED: "error",
    MessageKey.REENROLL_REQUIRED: "error",
    MessageKey.ACCESS_DENIED: "error",
    MessageKey.ACCOUNT_LOCKED: "error",
    MessageKey.USER_BLOCKED: "error",
    MessageKey.QUOTA_EXHAUSTED: "error",
    MessageKey.CARD_NOT_RECOGNISED: "error",
    MessageKey.PIN_NOT_RECOGNISED: "error",
    MessageKey.PASSWORD_NOT_RECOGNISED: "error",
    MessageKey.CARD_LINK_REFUSED: "warning",
    MessageKey.OFFLINE_MODE: "warning",
    MessageKey.OFFLINE_REFUSED: "warning",
    MessageKey.COPY_UNAVAILABLE: "warning",
    MessageKey.PROJECT_REQUIRED: "warning",
    MessageKey.RELEASE_UNAVAILABLE: "warning",
    MessageKey.FAVOURITES_FULL: "warning",
    MessageKey.FAVOURITES_UNAVAILABLE: "warning",
    MessageKey.JOB_NOT_PASSED_ON: "warning",
    MessageKey.COLLEAGUE_NOT_FOUND: "warning",
}


@dataclass
class JobChoice:
    """One job's selection and overrides while the user composes a release."""

    selected: bool = False
    mono: bool = False
    duplex: bool = False
    copies: int = 0  # 0: as submitted

    def overrides(self) -> JobOverrides:
        """The engine's override record."""
        return JobOverrides(mono=self.mono, duplex=self.duplex, copies=self.copies)


@dataclass
class Composer:
    """Input in progress on the terminal (see the module docstring)."""

    idle_mode: str = ""  # on the idle screen: "", "pin" or "password"
    pin: str = ""
    username: str = ""
    password: str = ""
    jobs: dict[int, JobChoice] = field(default_factory=dict)
    section: str = ""  # on the home screen: "" (its tiles) or one of SECTIONS
    passing: tuple[int, ...] = ()  # the jobs being passed on
    colleague_query: str = ""
    _screen: Screen | None = None
    _unknown_card: bool = False

    # ---------------------------------------------------------------- following the engine

    def follow(self, state: TerminalState) -> None:
        """Forget what no longer applies to this state (called on every new state)."""
        if state.screen is not self._screen:
            self.pin = ""
        if state.unknown_card and not self._unknown_card:
            # The engine offers the tapped card for linking: a fresh form, whatever was open.
            self.idle_mode, self.username, self.password = "", "", ""
        if state.screen not in (Screen.IDLE, Screen.IDENTIFYING):
            self.idle_mode, self.password = "", ""
        if not state.session_live:
            self.jobs.clear()
            self.section, self.passing, self.colleague_query = "", (), ""
        self._prune(state.jobs)
        self.passing = tuple(job_id for job_id in self.passing if any(j.job_id == job_id for j in state.jobs))
        if self.section == "pass_on" and not self.passing:
            self.section = "jobs"
        self._screen, self._unknown_card = state.screen, state.unknown_card

    def _prune(self, jobs: tuple[JobView, ...]) -> None:
        present = {job.job_id for job in jobs}
        for job_id in list(self.jobs):
            if job_id not in present:
                del self.jobs[job_id]

    def idle(self, mode: str) -> None:
        """Open ("pin", "password") or close ("") a form on the idle screen."""
        self.idle_mode, self.pin, self.password = mode, "", ""

    # ---------------------------------------------------------------- PIN and password

    def digit(self, digit: str) -> None:
        """A key of the PIN pad."""
        if digit.isdigit() and len(digit) == 1 and len(self.pin) < MAX_PIN_DIGITS:
            self.pin += digit

    def clear_pin(self) -> None:
        """The Clear key."""
        self.pin = ""

    def pin_entered(self) -> PinEntered | None:
        """The OK key: the intent, or None while nothing was typed."""
        if not self.pin:
            return None
        intent, self.pin = PinEntered(self.pin), ""
        return intent

    def password_entered(self) -> PasswordEntered | None:
        """The Log in button: the intent, or None while a field is empty."""
        if not self.username.strip() or not self.password:
            return None
        intent = PasswordEntered(self.username.strip(), self.password)
        self.password = ""
        return intent

    def link_card(self) -> LinkCard | None:
        """The Link card button (unknown-card form): the intent, or None while a field is empty."""
        if not self.username.strip() or not self.password:
            return None
        intent = LinkCard(self.username.strip(), self.password)
        self.password = ""
        return intent

    # ---------------------------------------------------------------- sections of the home screen

    def open(self, section: str) -> None:
        """A home tile (``"jobs"``, ``"favourites"``) or Back (``""``)."""
        if section in ("", *SECTIONS):
            self.section = section
        if section != "pass_on":
            self.passing, self.colleague_query = (), ""

    def listed(self, state: TerminalState) -> tuple[JobView, ...]:
        """The jobs the open section lists (the favourites only, in that section)."""
        return state.favourites if self.section == "favourites" else state.jobs

    def star_selected(self, jobs: tuple[JobView, ...], username: str) -> list[StarJob]:
        """The star button: star the selected own jobs, or take the star off when all have one."""
        own = [job for job in jobs if job.job_id in self.selected_ids(jobs) and job.owner == username]
        starring = not all(job.favourite for job in own)
        self._forget(tuple(job.job_id for job in own))
        return [StarJob(job.job_id, starring) for job in own if job.favourite is not starring]

    def pass_on_selected(self, jobs: tuple[JobView, ...], username: str) -> None:
        """The pass-on button: open the colleague search for the selected own jobs."""
        own = tuple(
            job.job_id for job in jobs if job.job_id in self.selected_ids(jobs) and job.owner == username
        )
        if own:
            self.passing, self.colleague_query, self.section = own, "", "pass_on"

    def search(self) -> SearchColleagues:
        """The Search button (the engine asks the hub from two characters on)."""
        return SearchColleagues(self.colleague_query.strip())

    def pass_to(self, username: str, *, withdraw: bool = False) -> list[PassJobOn]:
        """A colleague tapped (or taken back): one intent per job being passed on; back to the list."""
        intents = [PassJobOn(job_id, username, withdraw) for job_id in self.passing]
        self._forget(self.passing)
        self.open("jobs")
        return intents

    # ---------------------------------------------------------------- jobs

    def choice(self, job_id: int) -> JobChoice:
        """The user's choice for one job (created unselected)."""
        return self.jobs.setdefault(job_id, JobChoice())

    def toggle_selected(self, job: JobView) -> None:
        """Tap on a job's select box."""
        choice = self.choice(job.job_id)
        choice.selected = not choice.selected

    def toggle_mono(self, job: JobView) -> None:
        """Tap on Mono (only offered when the job allows it and has colour pages)."""
        if job.allowed_mono:
            choice = self.choice(job.job_id)
            choice.mono = not choice.mono

    def toggle_duplex(self, job: JobView) -> None:
        """Tap on Duplex (only offered when the job allows it and is not duplex already)."""
        if job.allowed_duplex and not job.duplex:
            choice = self.choice(job.job_id)
            choice.duplex = not choice.duplex

    def change_copies(self, job: JobView, delta: int) -> None:
        """Tap on - / +: between 1 and the submitted copies (fewer copies only)."""
        if not job.allowed_fewer_copies:
            return
        choice = self.choice(job.job_id)
        current = choice.copies or job.copies
        wanted = min(job.copies, max(1, current + delta))
        choice.copies = 0 if wanted == job.copies else wanted

    def copies(self, job: JobView) -> int:
        """The copies that would be printed."""
        return self.choice(job.job_id).copies or job.copies

    def selected_ids(self, jobs: tuple[JobView, ...]) -> tuple[int, ...]:
        """Selected jobs, in list order."""
        return tuple(job.job_id for job in jobs if job.job_id in self.jobs and self.jobs[job.job_id].selected)

    def release_selected(self, jobs: tuple[JobView, ...]) -> ReleaseSelected | None:
        """Print selected: the intent with the overrides that change something, or None."""
        ids = self.selected_ids(jobs)
        if not ids:
            return None
        overrides = tuple(
            (job_id, self.jobs[job_id].overrides())
            for job_id in ids
            if self.jobs[job_id].overrides() != JobOverrides()
        )
        self._forget(ids)  # sent: a printed job stays listed (for reprints), unselected
        return ReleaseSelected(job_ids=ids, overrides=overrides)

    def delete_selected(self, jobs: tuple[JobView, ...]) -> DeleteJobs | None:
        """Delete: the intent for the selected jobs, or None."""
        ids = self.selected_ids(jobs)
        if not ids:
            return None
        self._forget(ids)
        return DeleteJobs(job_ids=ids)

    def release_all(self) -> ReleaseAll:
        """Print all: the intent; every choice is forgotten."""
        self.jobs.clear()
        return ReleaseAll()

    def _forget(self, job_ids: tuple[int, ...]) -> None:
        for job_id in job_ids:
            self.jobs.pop(job_id, None)

    def price(self, job: JobView) -> int:
        """The exact price with the chosen overrides (the hub's per-copy price of each override)."""
        return job.price_for(self.choice(job.job_id).overrides())


def visible_screen(state: TerminalState, composer: Composer) -> str:
    """The name of the screen to show for this state (the screen builders are keyed by it)."""
    if state.screen is Screen.IDLE and state.unknown_card:
        return "unknown_card"
    if state.screen is Screen.IDLE and composer.idle_mode:
        return composer.idle_mode
    if state.screen is Screen.HOME and composer.section:
        return composer.section
    return state.screen.value
