"""English and German: the templates' messages (``{{ _("...") }}``) translated from
``locale/de.po``, and money and times in the reader's language.

The language of a request is its session's, else the browser's ``Accept-Language``, else
English; it lives in a context variable for the time of one request, so the templates'
gettext needs no argument.
"""

from __future__ import annotations

import contextvars
from datetime import datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal

__all__ = ["LANGUAGES", "current", "gettext", "language_of", "money", "number", "translations", "when"]

LANGUAGES = ("en", "de")
_LOCALES = {"en": "en_GB", "de": "de_DE"}
_current: contextvars.ContextVar[str] = contextvars.ContextVar("language", default="en")
LOCALE_DIR = Path(__file__).with_name("locale")


@cache
def translations(language: str) -> dict[str, str]:
    """msgid -> msgstr of one language (English is the msgids themselves)."""
    if language == "en":
        return {}
    with (LOCALE_DIR / f"{language}.po").open("rb") as handle:
        catalog = read_po(handle)
    return {str(m.id): str(m.string) for m in catalog if m.id and m.string}


def language_of(accept_language: str, chosen: str = "") -> str:
    """The session's choice, else the first language of ``Accept-Language`` we speak."""
    if chosen in LANGUAGES:
        return chosen
    for part in accept_language.split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"


def use(language: str) -> contextvars.Token[str]:
    """Make ``language`` the current request's."""
    return _current.set(language if language in LANGUAGES else "en")


def current() -> str:
    """The current request's language."""
    return _current.get()


def gettext(message: str) -> str:
    """``message`` in the current language (itself when it has no translation)."""
    return translations(current()).get(message, message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Singular or plural, translated."""
    return gettext(singular if count == 1 else plural)


def money(cents: int, currency: str) -> str:
    """Integer cents as the reader writes money: ``€12.34`` / ``12,34 €``."""
    return format_currency(Decimal(cents).scaleb(-2), currency, locale=_LOCALES[current()])


def number(value: int | float) -> str:
    """A count in the reader's digits (``12,345`` / ``12.345``)."""
    return format_decimal(value, locale=_LOCALES[current()])


def when(microseconds: int | None, timezone: str) -> str:
    """A hub time in the site's zone, short form; empty for none."""
    if microseconds is None:
        return ""
    moment = datetime.fromtimestamp(microseconds / 1_000_000, ZoneInfo(timezone))
    return format_datetime(moment, "short", locale=_LOCALES[current()])
