"""Denomination data: how ccTalk coin and bill ids map to a currency and a value in minor units.

A coin id is six characters, ``CCVVVI``: country, value, issue (``EU200A`` = 200 euro cents). A
bill id is seven, ``CCVVVVI``, and its value is multiplied by the country scaling factor of
header 156. Positions whose id is blank (``......``) or not understood are left out; a caller can
map any id explicitly with ``overrides``. Vendors differ in data only, never in code.
"""

from __future__ import annotations

from collections.abc import Mapping

__all__ = ["COIN_VALUE_MULTIPLIERS", "COUNTRY_CURRENCIES", "parse_bill_id", "parse_coin_id"]

# ccTalk country code -> ISO 4217 currency
COUNTRY_CURRENCIES: dict[str, str] = {
    "EU": "EUR",
    "GB": "GBP",
    "US": "USD",
    "CH": "CHF",
    "CA": "CAD",
    "AU": "AUD",
    "NZ": "NZD",
    "DK": "DKK",
    "NO": "NOK",
    "SE": "SEK",
    "PL": "PLN",
    "CZ": "CZK",
    "HU": "HUF",
}

# coin value field -> minor units; 1 where coin ids count in the minor unit (EU200A = 200 cents)
COIN_VALUE_MULTIPLIERS: dict[str, int] = {country: 1 for country in COUNTRY_CURRENCIES}

Override = Mapping[str, tuple[int, str]]


def parse_coin_id(coin_id: str, overrides: Override | None = None) -> tuple[int, str] | None:
    """``(value_minor, currency)`` of a coin id, or None for a blank or unknown position."""
    if overrides and coin_id in overrides:
        return overrides[coin_id]
    if len(coin_id) != 6 or not coin_id[2:5].isdigit() or coin_id[:2] not in COUNTRY_CURRENCIES:
        return None
    value = int(coin_id[2:5]) * COIN_VALUE_MULTIPLIERS[coin_id[:2]]
    return (value, COUNTRY_CURRENCIES[coin_id[:2]]) if value > 0 else None


def parse_bill_id(bill_id: str, scaling: int, overrides: Override | None = None) -> tuple[int, str] | None:
    """``(value_minor, currency)`` of a bill id given its country scaling factor, or None."""
    if overrides and bill_id in overrides:
        return overrides[bill_id]
    if len(bill_id) != 7 or not bill_id[2:6].isdigit() or bill_id[:2] not in COUNTRY_CURRENCIES:
        return None
    value = int(bill_id[2:6]) * scaling
    return (value, COUNTRY_CURRENCIES[bill_id[:2]]) if value > 0 else None
