"""What the user is composing before an intent is sent, and which screen a state shows.

No Kivy here. The engine's :class:`TerminalState` decides everything the terminal *is*; this
module only holds what the user is still typing or choosing (PIN digits, username and password,
the job selection with per-job overrides) and turns it into intents when confirmed. It also
picks the visible screen (:func:`visible_screen`), the single place where a state becomes a view.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from terminal_app.core.state import (
    DeleteJobs,
    JobOverrides,
    JobView,
    MessageKey,
    PasswordEntered,
    PinEntered,
    ReleaseAll,
    ReleaseSelected,
    Screen,
    TerminalState,
)

__all__ = ["MAX_PIN_DIGITS", "SEVERITY", "Composer", "JobChoice", "visible_screen"]

MAX_PIN_DIGITS = 12

# How a message is shown: "error" (red), "warning" (amber) or "info" (blue), never by colour alone
# (the text says it). Data, so a new key only needs a line here.
SEVERITY: dict[MessageKey, str] = {
    MessageKey.PRINTER_JAMMED: "error",
    MessageKey.PRINTER_ERROR: "error",
    MessageKey.NOT_ENOUGH_CREDIT: "error",
    MessageKey.CREDIT_USED_UP: "error",
    MessageKey.PANEL_FAULT: "error",
    MessageKey.ACCESS_DENIED: "error",
    MessageKey.ACCOUNT_LOCKED: "error",
    MessageKey.USER_BLOCKED: "error",
    MessageKey.QUOTA_EXHAUSTED: "error",
    MessageKey.CARD_NOT_RECOGNISED: "error",
    MessageKey.OFFLINE_MODE: "warning",
    MessageKey.OFFLINE_REFUSED: "warning",
    MessageKey.COPY_UNAVAILABLE: "warning",
    MessageKey.PROJECT_REQUIRED: "warning",
    MessageKey.RELEASE_UNAVAILABLE: "warning",
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

    idle_mode: str = ""  # on the idle screen: "", "pin", "password" or "unknown_card"
    pin: str = ""
    username: str = ""
    password: str = ""
    jobs: dict[int, JobChoice] = field(default_factory=dict)
    _typed: bool = False  # the last identification came from the keypad or the password form
    _screen: Screen | None = None
    _message: MessageKey | None = None

    # ---------------------------------------------------------------- following the engine

    def follow(self, state: TerminalState) -> None:
        """Forget what no longer applies to this state (called on every new state)."""
        if state.screen is not self._screen:
            self.pin = ""
        if state.screen is Screen.IDLE and state.message is not self._message:
            self._on_idle_message(state.message)
        if state.screen not in (Screen.IDLE, Screen.IDENTIFYING):
            self.idle_mode, self.password = "", ""
        if not state.session_live:
            self.jobs.clear()
        self._prune(state.jobs)
        self._screen, self._message = state.screen, state.message

    def _on_idle_message(self, message: MessageKey | None) -> None:
        if message is MessageKey.CARD_NOT_RECOGNISED:
            # A tapped card the hub does not know: offer the password login. A wrong typed PIN or
            # password only shows the message.
            if not self._typed:
                self.idle_mode = "unknown_card"
            self.password = ""
        self._typed = False

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
        intent, self.pin, self._typed = PinEntered(self.pin), "", True
        return intent

    def password_entered(self) -> PasswordEntered | None:
        """The Log in button: the intent, or None while a field is empty."""
        if not self.username.strip() or not self.password:
            return None
        intent = PasswordEntered(self.username.strip(), self.password)
        self.password, self._typed = "", True
        return intent

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

    def price(self, job: JobView) -> tuple[int, bool]:
        """The price with the chosen overrides: (cents, is_upper_bound).

        The engine gives only the price as submitted. Fewer copies scale it exactly; mono and
        duplex can only make it cheaper, by an amount the terminal is not told, so the price as
        submitted (scaled for copies) is shown as an upper bound.
        """
        choice = self.choice(job.job_id)
        cents = job.price_cents * self.copies(job) // job.copies if job.copies else job.price_cents
        return cents, choice.mono or choice.duplex


def visible_screen(state: TerminalState, composer: Composer) -> str:
    """The name of the screen to show for this state (the screen builders are keyed by it)."""
    if state.screen is Screen.IDLE and composer.idle_mode:
        return composer.idle_mode
    if state.screen is Screen.HOME and state.jobs:
        return "jobs"
    return state.screen.value
