"""The terminal's texts in English and German, keyed by the engine's message keys and the UI's own keys.

The engine sends :class:`~terminal_app.terminal.state.MessageKey` values with arguments; the UI owns
every text. A missing key in any language is a bug that :func:`missing_keys` finds (a test runs it).
Money is formatted from integer cents, per language.
"""

from __future__ import annotations

from terminal_app.terminal.state import MessageKey, TerminalState
from terminal_app.ui.i18n import money

__all__ = [
    "CATALOGUE",
    "LANGUAGE_NAMES",
    "message_text",
    "missing_keys",
    "money",
    "printer_errors_text",
    "tr",
]

LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}

_MESSAGES: dict[str, dict[MessageKey, str]] = {
    "en": {
        MessageKey.CARD_NOT_RECOGNISED: "Card not recognised.",
        MessageKey.PIN_NOT_RECOGNISED: "PIN not recognised.",
        MessageKey.PASSWORD_NOT_RECOGNISED: "Username or password not recognised.",
        MessageKey.CARD_LINKED: "Your card is linked to your account: next time, just tap it.",
        MessageKey.CARD_LINK_REFUSED: "Card not linked here: please ask the help desk. You are logged in.",
        MessageKey.ACCOUNT_LOCKED: "This account is locked. Please ask the help desk.",
        MessageKey.ACCESS_DENIED: "Access denied.",
        MessageKey.USER_BLOCKED: "Your account is blocked until outstanding charges are paid.",
        MessageKey.NOT_ENOUGH_CREDIT: "Not enough credit. Please top up your account.",
        MessageKey.QUOTA_EXHAUSTED: "Your quota is used up.",
        MessageKey.CREDIT_USED_UP: "Your credit for this session is used up: the copier has stopped.",
        MessageKey.OFFLINE_MODE: "Offline mode: the server cannot be reached. Usage is charged later.",
        MessageKey.OFFLINE_REFUSED: "Offline mode: this card cannot be used until the server is back.",
        MessageKey.PRINTER_JAMMED: "The printer is jammed. Please ask for help.",
        MessageKey.PRINTER_ERROR: "Printer problem: {errors}",
        MessageKey.COPY_UNAVAILABLE: "Copying is not available right now.",
        MessageKey.PROJECT_REQUIRED: "Please choose a project first.",
        MessageKey.RELEASE_UNAVAILABLE: "Held jobs are not available right now.",
        MessageKey.RELEASE_DONE: "{printed} printed, {failed} failed.",
        MessageKey.RELEASE_PICK_UNVERIFIED: (
            "Jobs sent without a password are not printed by 'Print all': select them."
        ),
        MessageKey.JOBS_DELETED: "{deleted} job(s) deleted.",
        MessageKey.SCAN_UNAVAILABLE: "Scanning is not set up at this printer.",
        MessageKey.LOGGED_OUT: "You are logged out.",
        MessageKey.TIMED_OUT: "Logged out after inactivity.",
        MessageKey.PANEL_FAULT: "Out of order: the copier cannot be locked.",
        MessageKey.DEVICE_DISABLED: (
            "This terminal was disabled by the administrator. Please use another one."
        ),
        MessageKey.REENROLL_REQUIRED: (
            "This terminal must be enrolled again: its certificate has expired. "
            "Ask the administrator for a new enrollment token."
        ),
        MessageKey.FAVOURITE_ADDED: "Kept as a favourite ({count} of {maximum}): print it again any time.",
        MessageKey.FAVOURITE_REMOVED: "Taken off your favourites.",
        MessageKey.FAVOURITES_FULL: "Favourites are full: take the star off one first.",
        MessageKey.FAVOURITES_UNAVAILABLE: "This job cannot be kept as a favourite here.",
        MessageKey.JOB_PASSED_ON: "{colleague} can now print this job (charged to you).",
        MessageKey.JOB_TAKEN_BACK: "{colleague} can no longer print this job.",
        MessageKey.JOB_NOT_PASSED_ON: "This job cannot be passed on.",
        MessageKey.COLLEAGUE_NOT_FOUND: "No such colleague.",
        MessageKey.OPERATOR_NOTICE: "Notice: {text}",
    },
    "de": {
        MessageKey.CARD_NOT_RECOGNISED: "Karte nicht erkannt.",
        MessageKey.PIN_NOT_RECOGNISED: "PIN nicht erkannt.",
        MessageKey.PASSWORD_NOT_RECOGNISED: "Benutzername oder Passwort nicht erkannt.",
        MessageKey.CARD_LINKED: "Ihre Karte ist mit Ihrem Konto verknüpft: Künftig einfach auflegen.",
        MessageKey.CARD_LINK_REFUSED: (
            "Karte hier nicht verknüpft: Bitte den Support fragen. Sie sind angemeldet."
        ),
        MessageKey.ACCOUNT_LOCKED: "Dieses Konto ist gesperrt. Bitte wenden Sie sich an den Support.",
        MessageKey.ACCESS_DENIED: "Zugriff verweigert.",
        MessageKey.USER_BLOCKED: "Ihr Konto ist gesperrt, bis offene Beträge bezahlt sind.",
        MessageKey.NOT_ENOUGH_CREDIT: "Guthaben reicht nicht. Bitte laden Sie Ihr Konto auf.",
        MessageKey.QUOTA_EXHAUSTED: "Ihr Kontingent ist aufgebraucht.",
        MessageKey.CREDIT_USED_UP: (
            "Ihr Guthaben für diese Sitzung ist verbraucht: Der Kopierer hat angehalten."
        ),
        MessageKey.OFFLINE_MODE: (
            "Offline-Betrieb: Server nicht erreichbar. Die Nutzung wird später berechnet."
        ),
        MessageKey.OFFLINE_REFUSED: (
            "Offline-Betrieb: Diese Karte geht erst wieder, wenn der Server erreichbar ist."
        ),
        MessageKey.PRINTER_JAMMED: "Papierstau im Drucker. Bitte Hilfe holen.",
        MessageKey.PRINTER_ERROR: "Druckerproblem: {errors}",
        MessageKey.COPY_UNAVAILABLE: "Kopieren ist gerade nicht möglich.",
        MessageKey.PROJECT_REQUIRED: "Bitte wählen Sie zuerst ein Projekt.",
        MessageKey.RELEASE_UNAVAILABLE: "Gehaltene Aufträge sind gerade nicht verfügbar.",
        MessageKey.RELEASE_DONE: "{printed} gedruckt, {failed} fehlgeschlagen.",
        MessageKey.RELEASE_PICK_UNVERIFIED: (
            "Ohne Passwort gesendete Aufträge druckt 'Alle drucken' nicht: bitte einzeln auswählen."
        ),
        MessageKey.JOBS_DELETED: "{deleted} Auftrag/Aufträge gelöscht.",
        MessageKey.SCAN_UNAVAILABLE: "Scannen ist an diesem Drucker nicht eingerichtet.",
        MessageKey.LOGGED_OUT: "Sie sind abgemeldet.",
        MessageKey.TIMED_OUT: "Wegen Inaktivität abgemeldet.",
        MessageKey.PANEL_FAULT: "Außer Betrieb: Der Kopierer kann nicht gesperrt werden.",
        MessageKey.DEVICE_DISABLED: (
            "Dieses Terminal wurde vom Administrator gesperrt. Bitte ein anderes benutzen."
        ),
        MessageKey.REENROLL_REQUIRED: (
            "Dieses Terminal muss neu registriert werden: Sein Zertifikat ist abgelaufen. "
            "Bitte beim Administrator ein neues Registrierungs-Token anfordern."
        ),
        MessageKey.FAVOURITE_ADDED: "Als Favorit behalten ({count} von {maximum}): jederzeit neu drucken.",
        MessageKey.FAVOURITE_REMOVED: "Aus den Favoriten entfernt.",
        MessageKey.FAVOURITES_FULL: "Favoriten sind voll: Bitte zuerst einen Stern entfernen.",
        MessageKey.FAVOURITES_UNAVAILABLE: "Dieser Auftrag kann hier nicht als Favorit bleiben.",
        MessageKey.JOB_PASSED_ON: "{colleague} kann diesen Auftrag jetzt drucken (auf Ihre Kosten).",
        MessageKey.JOB_TAKEN_BACK: "{colleague} kann diesen Auftrag nicht mehr drucken.",
        MessageKey.JOB_NOT_PASSED_ON: "Dieser Auftrag kann nicht weitergegeben werden.",
        MessageKey.COLLEAGUE_NOT_FOUND: "Diese Person gibt es nicht.",
        MessageKey.OPERATOR_NOTICE: "Hinweis: {text}",
    },
}

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "idle_title": "Tap your card or enter your PIN",
        "enter_pin": "Enter PIN",
        "password_login": "Log in with username",
        "printer_ready": "Printer ready",
        "printer_state": "Printer: {errors}",
        "offline_banner": "Offline mode",
        "pending_reports": "{count} usage report(s) waiting to be sent",
        "identifying": "One moment, please …",
        "pin_title": "Enter your PIN",
        "pin_second_factor": "Card recognised: enter your PIN",
        "ok": "OK",
        "cancel": "Cancel",
        "clear": "Clear",
        "unknown_title": "Card not recognised",
        "unknown_body": "Enter your username and password to link this card to your account.",
        "link_card": "Link card",
        "username": "Username",
        "password": "Password",
        "login": "Log in",
        "welcome": "Hello, {name}",
        "balance": "Balance: {amount}",
        "available": "Available: {amount}",
        "postpaid": "Billed later (post-paid)",
        "offline_session": "Offline session: balance shown after reconnect",
        "quota_left": "Quota left: {pages} pages",
        "no_quota": "No page quota",
        "copier_unlocked": "The copier is unlocked: copy now",
        "copier_locked": "The copier is locked",
        "start_copy": "Unlock copier",
        "logout": "Logout",
        "jobs_button": "My print jobs ({count})",
        "no_jobs": "No held print jobs",
        "jobs_unavailable": "Held jobs are not available here",
        "scan_to": "Scans go to:",
        "jobs_title": "Held print jobs",
        "job_pages": "{pages} p. × {copies}",
        "job_colour": "colour",
        "job_mono": "mono",
        "job_printed": "printed before",
        "job_unverified": "sent without a password",
        "job_analysing": "being analysed",
        "job_may_have_printed": "may have printed",
        "job_estimated": "pages estimated ({note})",
        "job_rule": "print rule: {note}",
        "mono": "Mono",
        "duplex": "Duplex",
        "copies": "Copies",
        "print_selected": "Print selected",
        "print_all": "Print all",
        "delete": "Delete",
        "back": "Back",
        "releasing_title": "Printing …",
        "release_queued": "waiting",
        "release_sending": "sending",
        "release_printed": "printed",
        "release_failed": "failed",
        "release_refused": "refused",
        "copying_title": "Copying",
        "copy_pages": "{pages} pages ({mono} mono, {color} colour)",
        "copy_cost": "Cost so far: {amount}",
        "copy_cap": "Copier stops after {pages} pages",
        "project_title": "Choose a project to charge",
        "own_account": "My own account",
        "idle_warning": "Still there? Logging out in {seconds} s",
        "stay": "Continue",
        "countdown": "{seconds} s",
        "logging_out": "Logging out …",
        "starting": "Starting …",
        "out_of_order": "Out of order",
        "disabled": "Terminal disabled",
        "reenroll": "Enroll this terminal again",
        "dismiss": "OK",
        "language": "Deutsch",
        "touch_to_wake": "",
        "tile_jobs": "Print my jobs",
        "tile_jobs_count": "{count} waiting",
        "tile_jobs_none": "None waiting",
        "tile_favourites": "Favourites",
        "tile_scan": "Scan",
        "tile_favourites_count": "{count} kept",
        "tile_copy": "Copy",
        "copy_tap": "Tap to unlock",
        "copy_ready": "Unlocked: copy now",
        "copy_not_allowed": "Not allowed",
        "tile_credit": "Credit",
        "place": "{printer} · {location}",
        "paper_low": "Paper low: {trays}",
        "tray_low": "{name} ({media}) low",
        "tray_empty": "{name} ({media}) empty",
        "favourites_title": "Favourites: print them again any time",
        "no_favourites": "No favourites yet: star a job to keep it",
        "favourite": "Favourite",
        "pass_on": "Pass on",
        "pass_on_title": "Let a colleague print: {jobs}",
        "colleague_query": "Colleague's name",
        "search": "Search",
        "colleague_hint": "Type two letters or more of a name, then Search.",
        "no_colleagues": "Nobody found by that name.",
        "credit_offline": "Shown after reconnect",
        "take_back": "Take back from {name}",
    },
    "de": {
        "idle_title": "Karte auflegen oder PIN eingeben",
        "enter_pin": "PIN eingeben",
        "password_login": "Mit Benutzername anmelden",
        "printer_ready": "Drucker bereit",
        "printer_state": "Drucker: {errors}",
        "offline_banner": "Offline-Betrieb",
        "pending_reports": "{count} Nutzungsmeldung(en) warten auf Versand",
        "identifying": "Einen Moment bitte …",
        "pin_title": "Geben Sie Ihre PIN ein",
        "pin_second_factor": "Karte erkannt: Bitte PIN eingeben",
        "ok": "OK",
        "cancel": "Abbrechen",
        "clear": "Löschen",
        "unknown_title": "Karte nicht erkannt",
        "unknown_body": "Benutzername und Passwort eingeben, um die Karte mit Ihrem Konto zu verknüpfen.",
        "link_card": "Karte verknüpfen",
        "username": "Benutzername",
        "password": "Passwort",
        "login": "Anmelden",
        "welcome": "Hallo, {name}",
        "balance": "Guthaben: {amount}",
        "available": "Verfügbar: {amount}",
        "postpaid": "Abrechnung später (Rechnung)",
        "offline_session": "Offline-Sitzung: Guthaben nach Wiederverbindung",
        "quota_left": "Kontingent: noch {pages} Seiten",
        "no_quota": "Kein Seitenkontingent",
        "copier_unlocked": "Der Kopierer ist freigegeben: Jetzt kopieren",
        "copier_locked": "Der Kopierer ist gesperrt",
        "start_copy": "Kopierer freigeben",
        "logout": "Abmelden",
        "jobs_button": "Meine Druckaufträge ({count})",
        "no_jobs": "Keine gehaltenen Druckaufträge",
        "jobs_unavailable": "Gehaltene Aufträge sind hier nicht verfügbar",
        "scan_to": "Scans gehen an:",
        "jobs_title": "Gehaltene Druckaufträge",
        "job_pages": "{pages} S. × {copies}",
        "job_colour": "Farbe",
        "job_mono": "s/w",
        "job_printed": "schon gedruckt",
        "job_unverified": "ohne Passwort gesendet",
        "job_analysing": "wird analysiert",
        "job_may_have_printed": "evtl. gedruckt",
        "job_estimated": "Seiten geschätzt ({note})",
        "job_rule": "Druckregel: {note}",
        "mono": "S/W",
        "duplex": "Duplex",
        "copies": "Kopien",
        "print_selected": "Auswahl drucken",
        "print_all": "Alle drucken",
        "delete": "Löschen",
        "back": "Zurück",
        "releasing_title": "Drucken …",
        "release_queued": "wartet",
        "release_sending": "wird gesendet",
        "release_printed": "gedruckt",
        "release_failed": "fehlgeschlagen",
        "release_refused": "abgelehnt",
        "copying_title": "Kopieren",
        "copy_pages": "{pages} Seiten ({mono} s/w, {color} Farbe)",
        "copy_cost": "Kosten bisher: {amount}",
        "copy_cap": "Der Kopierer stoppt nach {pages} Seiten",
        "project_title": "Projekt für die Abrechnung wählen",
        "own_account": "Eigenes Konto",
        "idle_warning": "Noch da? Abmeldung in {seconds} s",
        "stay": "Weiter",
        "countdown": "{seconds} s",
        "logging_out": "Abmelden …",
        "starting": "Startet …",
        "out_of_order": "Außer Betrieb",
        "disabled": "Terminal gesperrt",
        "reenroll": "Terminal neu registrieren",
        "dismiss": "OK",
        "language": "English",
        "touch_to_wake": "",
        "tile_jobs": "Aufträge drucken",
        "tile_jobs_count": "{count} warten",
        "tile_jobs_none": "Keine wartend",
        "tile_favourites": "Favoriten",
        "tile_scan": "Scannen",
        "tile_favourites_count": "{count} behalten",
        "tile_copy": "Kopieren",
        "copy_tap": "Tippen zum Freigeben",
        "copy_ready": "Frei: jetzt kopieren",
        "copy_not_allowed": "Nicht erlaubt",
        "tile_credit": "Guthaben",
        "place": "{printer} · {location}",
        "paper_low": "Wenig Papier: {trays}",
        "tray_low": "{name} ({media}) fast leer",
        "tray_empty": "{name} ({media}) leer",
        "favourites_title": "Favoriten: jederzeit neu drucken",
        "no_favourites": "Noch keine Favoriten: Stern setzen, um einen Auftrag zu behalten",
        "favourite": "Favorit",
        "pass_on": "Weitergeben",
        "pass_on_title": "Von Kollegen drucken lassen: {jobs}",
        "colleague_query": "Name der Kollegin, des Kollegen",
        "search": "Suchen",
        "colleague_hint": "Mindestens zwei Buchstaben eines Namens eingeben, dann Suchen.",
        "no_colleagues": "Niemand mit diesem Namen gefunden.",
        "credit_offline": "Nach Wiederverbindung",
        "take_back": "{name} wieder entziehen",
    },
}

CATALOGUE: dict[str, dict[str, str]] = {
    language: {**labels, **{key.value: text for key, text in _MESSAGES[language].items()}}
    for language, labels in _LABELS.items()
}
"""Every text by language and key (message keys are the engine's ``MessageKey`` values)."""


def tr(language: str, key: str, **args: object) -> str:
    """The text for ``key`` in ``language`` (English if the language is unknown), placeholders filled."""
    texts = CATALOGUE.get(language, CATALOGUE["en"])
    return texts[key].format(**args) if args else texts[key]


def message_text(state: TerminalState) -> str:
    """The state's message in its language, or ``""`` when there is none."""
    if state.message is None:
        return ""
    args = dict(state.message_args)
    if state.message is MessageKey.PRINTER_ERROR and "errors" in args:
        args["errors"] = printer_errors_text(args["errors"].split(", "), state.language)
    return tr(state.language, state.message.value, **args)


def missing_keys() -> dict[str, set[str]]:
    """Keys some language lacks (per language); empty when the catalogue is complete."""
    every = set().union(*(texts.keys() for texts in CATALOGUE.values()))
    every |= {key.value for key in MessageKey}
    return {language: missing for language, texts in CATALOGUE.items() if (missing := every - texts.keys())}


# The printer's error bits (RFC 3805 hrPrinterDetectedErrorState names) as people say them.
_PRINTER_ERRORS: dict[str, dict[str, str]] = {
    "en": {
        "jammed": "paper jam",
        "noPaper": "out of paper",
        "lowPaper": "paper low",
        "noToner": "out of toner",
        "lowToner": "toner low",
        "doorOpen": "door open",
        "offline": "offline",
        "serviceRequested": "service requested",
    },
    "de": {
        "jammed": "Papierstau",
        "noPaper": "kein Papier",
        "lowPaper": "wenig Papier",
        "noToner": "kein Toner",
        "lowToner": "wenig Toner",
        "doorOpen": "Klappe offen",
        "offline": "offline",
        "serviceRequested": "Wartung nötig",
    },
}


def printer_errors_text(errors: tuple[str, ...] | list[str], language: str) -> str:
    """The printer's error bits in words (unknown bits as they are)."""
    names = _PRINTER_ERRORS.get(language, _PRINTER_ERRORS["en"])
    return ", ".join(names.get(error, error) for error in errors)
