"""Debounce and backoff rules of the reader interface, with explicit times."""

from __future__ import annotations

from reader_drivers.base import Backoff, Debouncer


def test_debounce_window_slides_with_every_sighting() -> None:
    debouncer = Debouncer(3.0)
    card, other = b"\x01", b"\x02"
    assert debouncer.admit(card, 100.0)
    assert not debouncer.admit(card, 102.9)  # still present
    assert not debouncer.admit(card, 105.8)  # seen 2.9 s ago: the window moved on
    assert debouncer.admit(card, 108.8)  # 3.0 s without a sighting: a new tap
    assert debouncer.admit(other, 108.9)  # another card is always new
    assert debouncer.admit(card, 109.0)


def test_removal_ends_the_presence() -> None:
    debouncer = Debouncer(3.0)
    assert debouncer.admit(b"\x01", 0.0)
    debouncer.card_removed()
    assert debouncer.admit(b"\x01", 0.1)


def test_backoff_doubles_to_a_ceiling_and_resets() -> None:
    backoff = Backoff(initial_s=0.1, max_s=0.5)
    assert [backoff.next_delay_s() for _ in range(5)] == [0.1, 0.2, 0.4, 0.5, 0.5]
    backoff.reset()
    assert backoff.next_delay_s() == 0.1
