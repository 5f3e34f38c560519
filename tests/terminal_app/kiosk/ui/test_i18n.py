"""The kiosk's texts: every KioskMessage and label in English and German, amounts and arguments
formatted per language (no window needed)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from terminal_app.kiosk.state import KioskMessage, KioskState
from terminal_app.kiosk.ui.i18n import KIOSK_CATALOGUE, amount, kiosk_message_text, kiosk_missing_keys, ktr


def test_every_kiosk_message_and_label_exists_in_both_languages() -> None:
    assert set(KIOSK_CATALOGUE) == {"en", "de"}
    assert kiosk_missing_keys() == {}
    for message in KioskMessage:
        assert KIOSK_CATALOGUE["en"][message.value] != KIOSK_CATALOGUE["de"][message.value]


def test_placeholders_are_the_same_in_both_languages() -> None:
    import string

    def names(text: str) -> set[str]:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field}

    for key, english in KIOSK_CATALOGUE["en"].items():
        assert names(english) == names(KIOSK_CATALOGUE["de"][key]), key


@pytest.mark.parametrize(
    ("language", "currency", "minor", "text"),
    [
        ("en", "EUR", 750, "€7.50"),
        ("de", "EUR", 750, "7,50 €"),
        ("en", "", -50, "-€0.50"),
        ("en", "CHF", 1205, "12.05 CHF"),
        ("de", "CHF", -5, "-0,05 CHF"),
    ],
)
def test_amounts_per_language_and_currency(language: str, currency: str, minor: int, text: str) -> None:
    assert amount(minor, currency, language) == text


def test_message_arguments_are_formatted_for_people() -> None:
    state = KioskState(
        currency="EUR",
        message=KioskMessage.RECHARGE_DONE,
        message_args=(("amount", "350"), ("balance", "1200")),
    )
    assert kiosk_message_text(state) == "Recharged €3.50. New balance: €12.00."
    german = replace(state, language="de")
    assert kiosk_message_text(german) == "3,50 € aufgeladen. Neues Guthaben: 12,00 €."
    paper = KioskState(
        message=KioskMessage.PRINTER_NOT_READY, message_args=(("paper", "out"),), language="de"
    )
    assert kiosk_message_text(paper) == (
        "Der Belegdrucker ist nicht bereit (leer): Es wird kein Geld angenommen."
    )
    # a device fault arrives as its kind and code: worded in the user's language, never the driver's English
    fault = KioskState(
        message=KioskMessage.DEVICE_FAULT,
        message_args=(("device", "note"), ("fault", "fault"), ("code", "7")),
    )
    assert kiosk_message_text(fault) == "The note acceptor reports a fault (code 7). Please ask for help."
    assert kiosk_message_text(replace(fault, language="de")) == (
        "Das Gerät „Schein“ meldet eine Störung (Code 7). Bitte Hilfe holen."
    )
    fraud = replace(
        fault, message_args=(("device", "coin"), ("fault", "fraud"), ("code", "16")), language="de"
    )
    assert (
        kiosk_message_text(fraud)
        == "Das Gerät „Münze“ meldet einen Manipulationsversuch (Code 16). Bitte Hilfe holen."
    )
    assert kiosk_message_text(KioskState()) == ""
    assert ktr("fr", "finish") == "Finish"  # an unknown language falls back to English
