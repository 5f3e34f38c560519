"""Coin and bill ids as devices report them: parsed when sane, ignored (never guessed) otherwise."""

from __future__ import annotations

import string

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cash_devices.profiles import COUNTRY_CURRENCIES, parse_bill_id, parse_coin_id
from cash_devices.registry import open_acceptor
from hw_sim.cash import SimCcTalkBus, SimCoinAcceptor
from tests.cash_devices.conftest import run


@pytest.mark.parametrize(
    ("coin_id", "expected"),
    [
        ("EU200A", (200, "EUR")),
        ("GB050B", (50, "GBP")),
        ("......", None),
        ("EU000A", None),  # a zero value is no coin
        ("XX100A", None),  # unknown country: not guessed
        ("EU2.0A", None),
        ("EU200", None),
    ],
)
def test_parse_coin_id(coin_id, expected):
    assert parse_coin_id(coin_id) == expected


def test_overrides_win():
    assert parse_coin_id("TK001A", {"TK001A": (100, "EUR")}) == (100, "EUR")
    assert parse_bill_id("EU0005A", 100) == (500, "EUR")
    assert parse_bill_id("EU0005A", 0) is None  # country not supported by the validator


@given(st.text(max_size=12), st.integers(0, 65535))
@settings(max_examples=500)
def test_fuzz_ids(text, scaling):
    for parsed in (parse_coin_id(text), parse_bill_id(text, scaling)):
        if parsed is not None:
            value, currency = parsed
            assert value > 0
            assert currency in COUNTRY_CURRENCIES.values()


@given(st.lists(st.text(alphabet=string.printable[:94], max_size=8), min_size=1, max_size=16))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_driver_survives_a_hostile_coin_table(coin_ids):
    device = SimCoinAcceptor(coins=tuple(coin_ids))

    async def scenario():
        with SimCcTalkBus(device) as bus:
            acceptor = await open_acceptor("cctalk", bus.path, 2, timeout_s=0.2)
            await acceptor.close()
        return acceptor.denominations

    table = run(scenario)
    for position, denomination in table.items():
        assert parse_coin_id(coin_ids[position - 1].strip()) == (
            denomination.value_minor,
            denomination.currency,
        )
