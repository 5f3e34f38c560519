"""The recharge kiosk's texts in English and German: every :class:`KioskMessage` and every label.

The kiosk engine sends :class:`~terminal_app.kiosk.state.KioskMessage` values with string
arguments (amounts in minor units, a device fault as its kind and code); the UI owns the texts.
:func:`kiosk_missing_keys` finds a key some language lacks (a test runs it). No Kivy import: the
catalogue is testable without a window.
"""

from __future__ import annotations

from terminal_app.kiosk.state import KioskMessage, KioskState
from terminal_app.ui.i18n import money

__all__ = [
    "KIOSK_CATALOGUE",
    "amount",
    "kiosk_message_text",
    "kiosk_missing_keys",
    "ktr",
]

# Message arguments that are amounts in minor units (formatted in the state's currency).
_AMOUNT_ARGS = ("amount", "balance", "difference")

_MESSAGES: dict[str, dict[KioskMessage, str]] = {
    "en": {
        KioskMessage.CARD_NOT_RECOGNISED: "Card, PIN or login not recognised.",
        KioskMessage.ACCOUNT_LOCKED: "This account is locked. Please ask the help desk.",
        KioskMessage.ACCESS_DENIED: "Access denied.",
        KioskMessage.OFFLINE_REFUSED: "The server cannot be reached: no recharge now. Please try later.",
        KioskMessage.LOGGED_OUT: "You are logged out.",
        KioskMessage.TIMED_OUT: "Logged out after inactivity.",
        KioskMessage.RECHARGE_REFUSED: "The recharge could not be opened ({reason}).",
        KioskMessage.PRINTER_NOT_READY: "The receipt printer is not ready ({paper}): no money is taken.",
        KioskMessage.RECHARGE_DONE: "Recharged {amount}. New balance: {balance}.",
        KioskMessage.RECEIPT_FAILED: "Your money is credited, but the receipt could not be printed.",
        KioskMessage.RECEIPT_ON_SCREEN: "Receipt {reference}: recharged {amount}, new balance {balance}.",
        KioskMessage.CREDIT_PENDING: "The server is unreachable: {amount} is recorded and credited later.",
        KioskMessage.VOUCHER_REDEEMED: "Voucher redeemed: {amount}. New balance: {balance}.",
        KioskMessage.VOUCHER_INVALID: "This is not a valid voucher code: please check it.",
        KioskMessage.VOUCHER_UNKNOWN: "Voucher not recognised.",
        KioskMessage.VOUCHER_LOCKED: "Too many wrong codes: vouchers are locked for a while.",
        KioskMessage.VOUCHER_REFUSED: "This voucher has expired or was already used.",
        KioskMessage.DEVICE_FAULT: (
            "The {device} acceptor reports {fault} (code {code}). Please ask for help."
        ),
        KioskMessage.CASH_BOX_EMPTIED: "Cash box emptied. Difference: {difference}.",
        KioskMessage.PANEL_FAULT: "Out of order: the money acceptors cannot be locked.",
        KioskMessage.DEVICE_DISABLED: (
            "This kiosk was disabled by the administrator. Please use another one."
        ),
        KioskMessage.REENROLL_REQUIRED: (
            "This kiosk must be enrolled again: its certificate has expired. "
            "Ask the administrator for a new enrollment token."
        ),
    },
    "de": {
        KioskMessage.CARD_NOT_RECOGNISED: "Karte, PIN oder Anmeldung nicht erkannt.",
        KioskMessage.ACCOUNT_LOCKED: "Dieses Konto ist gesperrt. Bitte wenden Sie sich an den Support.",
        KioskMessage.ACCESS_DENIED: "Zugriff verweigert.",
        KioskMessage.OFFLINE_REFUSED: (
            "Der Server ist nicht erreichbar: Aufladen gerade nicht möglich. Bitte später versuchen."
        ),
        KioskMessage.LOGGED_OUT: "Sie sind abgemeldet.",
        KioskMessage.TIMED_OUT: "Wegen Inaktivität abgemeldet.",
        KioskMessage.RECHARGE_REFUSED: "Die Aufladung konnte nicht gestartet werden ({reason}).",
        KioskMessage.PRINTER_NOT_READY: (
            "Der Belegdrucker ist nicht bereit ({paper}): Es wird kein Geld angenommen."
        ),
        KioskMessage.RECHARGE_DONE: "{amount} aufgeladen. Neues Guthaben: {balance}.",
        KioskMessage.RECEIPT_FAILED: (
            "Ihr Geld ist gutgeschrieben, aber der Beleg konnte nicht gedruckt werden."
        ),
        KioskMessage.RECEIPT_ON_SCREEN: "Beleg {reference}: {amount} aufgeladen, neues Guthaben {balance}.",
        KioskMessage.CREDIT_PENDING: (
            "Der Server ist nicht erreichbar: {amount} ist erfasst und wird später gutgeschrieben."
        ),
        KioskMessage.VOUCHER_REDEEMED: "Gutschein eingelöst: {amount}. Neues Guthaben: {balance}.",
        KioskMessage.VOUCHER_INVALID: "Das ist kein gültiger Gutscheincode: Bitte prüfen.",
        KioskMessage.VOUCHER_UNKNOWN: "Gutschein nicht erkannt.",
        KioskMessage.VOUCHER_LOCKED: "Zu viele falsche Codes: Gutscheine sind vorübergehend gesperrt.",
        KioskMessage.VOUCHER_REFUSED: "Dieser Gutschein ist abgelaufen oder schon eingelöst.",
        KioskMessage.DEVICE_FAULT: "Das Gerät „{device}“ meldet {fault} (Code {code}). Bitte Hilfe holen.",
        KioskMessage.CASH_BOX_EMPTIED: "Kasse geleert. Differenz: {difference}.",
        KioskMessage.PANEL_FAULT: "Außer Betrieb: Die Geldprüfer lassen sich nicht sperren.",
        KioskMessage.DEVICE_DISABLED: (
            "Dieses Gerät wurde vom Administrator gesperrt. Bitte ein anderes benutzen."
        ),
        KioskMessage.REENROLL_REQUIRED: (
            "Dieses Gerät muss neu registriert werden: Sein Zertifikat ist abgelaufen. "
            "Bitte beim Administrator ein neues Registrierungs-Token anfordern."
        ),
    },
}

_LABELS: dict[str, dict[str, str]] = {
    "en": {
        "starting": "Starting…",
        "idle_title": "Tap your card, enter your PIN or log in",
        "idle_body": "Top up your print credit with coins, notes or a voucher.",
        "enter_pin": "Enter PIN",
        "password_login": "Log in",
        "language": "Deutsch",
        "pin_title": "Enter your PIN",
        "pin_second_factor": "Card recognised: enter your PIN",
        "clear": "Clear",
        "ok": "OK",
        "cancel": "Cancel",
        "username": "Username",
        "password": "Password",
        "login": "Log in",
        "identifying": "One moment…",
        "hello": "Hello, {name}",
        "balance": "Balance: {amount}",
        "arrears": "Outstanding: {amount}",
        "insert_money": "Insert money",
        "redeem_voucher": "Redeem voucher",
        "logout": "Log out",
        "insert_title": "Insert coins or notes",
        "opening": "Preparing the acceptors…",
        "paused": "Not accepting money right now",
        "total": "Inserted: {amount}",
        "credited_pending": "Credited {credited} · waiting {pending}",
        "last_coin": "Last: {amount} {kind}, {status}",
        "no_coin_yet": "Nothing inserted yet",
        "coin": "coin",
        "note": "note",
        "status_credited": "credited",
        "status_pending": "being credited",
        "pieces": "{count} piece(s)",
        "finish": "Finish",
        "closing_title": "Finishing your recharge…",
        "closing_body": "Please wait for your receipt.",
        "voucher_title": "Type your voucher code",
        "backspace": "⌫",
        "redeem": "Redeem",
        "summary_recharge": "Recharge complete",
        "summary_voucher": "Voucher redeemed",
        "summary_amount": "Amount: {amount}",
        "summary_balance": "New balance: {balance}",
        "summary_receipt": "Take your receipt.",
        "done": "Done",
        "out_of_order": "Out of order",
        "out_of_order_body": "This kiosk takes no money right now. Please use another one.",
        "disabled": "Kiosk disabled",
        "reenroll": "Enroll this kiosk again",
        "operator_title": "Operator: {name}",
        "cash_box_expected": "Cash box: {amount} expected",
        "cash_box_unknown": "Cash box not read yet",
        "cash_box_line": "{kind} {value}: {count}",
        "cash_box_line_counted": "{kind} {value}: {count} expected, {counted} counted",
        "cash_box_difference": "Last emptying: difference {amount}",
        "refresh": "Refresh",
        "empty_box": "Empty cash box",
        "self_test": "Self-test",
        "check_printer": "Printer status",
        "print_report": "Print report",
        "count_title": "Count the pieces taken out",
        "count_total": "Counted: {amount}",
        "confirm_empty": "Record emptying",
        "self_test_line": "{device}: {result}",
        "self_test_ok": "OK",
        "self_test_failed": "fault {code} ({name})",
        "self_test_unknown": "no result",
        "printer_line": "Receipt printer: {status}",
        "printer_ready": "ready (paper {paper})",
        "printer_not_ready": "not ready (paper {paper})",
        "printer_unknown": "not checked",
        "paper_ok": "OK",
        "paper_low": "low",
        "paper_out": "out",
        "paper_unknown": "unknown",
        "alarms": "Alarms: {count} (last: {last})",
        "pending_events": "{count} cash event(s) waiting for the server",
        "offline_banner": "Server offline",
        "countdown": "{seconds} s",
        "dismiss": "OK",
        "fault_fault": "a fault",
        "fault_fraud": "a tamper attempt",
    },
    "de": {
        "starting": "Startet…",
        "idle_title": "Karte auflegen, PIN eingeben oder anmelden",
        "idle_body": "Druckguthaben aufladen: mit Münzen, Scheinen oder Gutschein.",
        "enter_pin": "PIN eingeben",
        "password_login": "Anmelden",
        "language": "English",
        "pin_title": "Bitte PIN eingeben",
        "pin_second_factor": "Karte erkannt: Bitte PIN eingeben",
        "clear": "Löschen",
        "ok": "OK",
        "cancel": "Abbrechen",
        "username": "Benutzername",
        "password": "Passwort",
        "login": "Anmelden",
        "identifying": "Einen Moment…",
        "hello": "Hallo, {name}",
        "balance": "Guthaben: {amount}",
        "arrears": "Offen: {amount}",
        "insert_money": "Geld einwerfen",
        "redeem_voucher": "Gutschein einlösen",
        "logout": "Abmelden",
        "insert_title": "Münzen oder Scheine einwerfen",
        "opening": "Geldprüfer werden vorbereitet…",
        "paused": "Gerade keine Geldannahme",
        "total": "Eingeworfen: {amount}",
        "credited_pending": "Gutgeschrieben {credited} · ausstehend {pending}",
        "last_coin": "Zuletzt: {amount} {kind}, {status}",
        "no_coin_yet": "Noch nichts eingeworfen",
        "coin": "Münze",
        "note": "Schein",
        "status_credited": "gutgeschrieben",
        "status_pending": "wird gutgeschrieben",
        "pieces": "{count} Stück",
        "finish": "Fertig",
        "closing_title": "Aufladung wird abgeschlossen…",
        "closing_body": "Bitte warten Sie auf Ihren Beleg.",
        "voucher_title": "Gutscheincode eingeben",
        "backspace": "⌫",
        "redeem": "Einlösen",
        "summary_recharge": "Aufladung abgeschlossen",
        "summary_voucher": "Gutschein eingelöst",
        "summary_amount": "Betrag: {amount}",
        "summary_balance": "Neues Guthaben: {balance}",
        "summary_receipt": "Bitte Beleg entnehmen.",
        "done": "Fertig",
        "out_of_order": "Außer Betrieb",
        "out_of_order_body": "Dieses Gerät nimmt gerade kein Geld an. Bitte ein anderes benutzen.",
        "disabled": "Gerät gesperrt",
        "reenroll": "Gerät neu registrieren",
        "operator_title": "Betreiber: {name}",
        "cash_box_expected": "Kasse: {amount} erwartet",
        "cash_box_unknown": "Kasse noch nicht gelesen",
        "cash_box_line": "{kind} {value}: {count}",
        "cash_box_line_counted": "{kind} {value}: {count} erwartet, {counted} gezählt",
        "cash_box_difference": "Letzte Leerung: Differenz {amount}",
        "refresh": "Aktualisieren",
        "empty_box": "Kasse leeren",
        "self_test": "Selbsttest",
        "check_printer": "Druckerstatus",
        "print_report": "Bericht drucken",
        "count_title": "Entnommene Stücke zählen",
        "count_total": "Gezählt: {amount}",
        "confirm_empty": "Leerung buchen",
        "self_test_line": "{device}: {result}",
        "self_test_ok": "OK",
        "self_test_failed": "Fehler {code} ({name})",
        "self_test_unknown": "kein Ergebnis",
        "printer_line": "Belegdrucker: {status}",
        "printer_ready": "bereit (Papier {paper})",
        "printer_not_ready": "nicht bereit (Papier {paper})",
        "printer_unknown": "nicht geprüft",
        "paper_ok": "OK",
        "paper_low": "wenig",
        "paper_out": "leer",
        "paper_unknown": "unbekannt",
        "alarms": "Alarme: {count} (zuletzt: {last})",
        "pending_events": "{count} Geldereignis(se) warten auf den Server",
        "offline_banner": "Server offline",
        "countdown": "{seconds} s",
        "dismiss": "OK",
        "fault_fault": "eine Störung",
        "fault_fraud": "einen Manipulationsversuch",
    },
}

KIOSK_CATALOGUE: dict[str, dict[str, str]] = {
    language: {**labels, **{key.value: text for key, text in _MESSAGES[language].items()}}
    for language, labels in _LABELS.items()
}
"""Every kiosk text by language and key (message keys are the engine's ``KioskMessage`` values)."""


def ktr(language: str, key: str, **args: object) -> str:
    """The kiosk text for ``key`` in ``language`` (English if unknown), placeholders filled."""
    texts = KIOSK_CATALOGUE.get(language, KIOSK_CATALOGUE["en"])
    return texts[key].format(**args) if args else texts[key]


def amount(value_minor: int, currency: str, language: str) -> str:
    """Minor units as the language writes them: euros as ``€2.50`` / ``2,50 €``, others with the code."""
    if currency in ("EUR", ""):
        return money(value_minor, language)
    sign = "-" if value_minor < 0 else ""
    whole, rest = divmod(abs(value_minor), 100)
    separator = "," if language == "de" else "."
    return f"{sign}{whole}{separator}{rest:02d} {currency}"


def kiosk_message_text(state: KioskState) -> str:
    """The state's message in its language with amounts formatted, or ``""`` when there is none."""
    if state.message is None:
        return ""
    args = dict(state.message_args)
    for name in _AMOUNT_ARGS:
        if name in args and args[name].lstrip("-").isdigit():
            args[name] = amount(int(args[name]), state.currency, state.language)
    if args.get("device") in ("coin", "note"):
        args["device"] = ktr(state.language, args["device"])
    if f"fault_{args.get('fault')}" in KIOSK_CATALOGUE["en"]:  # the kind of a device fault, in words
        args["fault"] = ktr(state.language, f"fault_{args['fault']}")
    if "paper" in args:
        args["paper"] = (
            ktr(state.language, f"paper_{args['paper']}") if _is_paper(args["paper"]) else args["paper"]
        )
    return ktr(state.language, state.message.value, **args)


def _is_paper(value: str) -> bool:
    return f"paper_{value}" in KIOSK_CATALOGUE["en"]


def kiosk_missing_keys() -> dict[str, set[str]]:
    """Keys some language lacks (per language); empty when the catalogue is complete."""
    every = set().union(*(texts.keys() for texts in KIOSK_CATALOGUE.values()))
    every |= {key.value for key in KioskMessage}
    return {
        language: missing for language, texts in KIOSK_CATALOGUE.items() if (missing := every - texts.keys())
    }
