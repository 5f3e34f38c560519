"""The header 229/159 event-counter rules, on their own (readers.md §4.1 host rules table)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cash_devices.counter import CounterTracker, NewPair
from cash_devices.errors import FrameError
from cash_devices.events import CounterState


def reply(counter, *pairs):
    flat = [byte for pair in pairs for byte in pair]
    return bytes([counter, *flat, *[0] * (10 - len(flat))])


def test_first_reply_only_synchronises():
    tracker = CounterTracker()
    update = tracker.update(reply(3, (6, 1), (5, 1), (4, 1)))
    assert (update.reset, update.lost, update.pairs) == (False, 0, [])
    assert tracker.state == CounterState(0, 3)


def test_new_pairs_come_oldest_first():
    tracker = CounterTracker()
    tracker.update(reply(0))
    update = tracker.update(reply(2, (0, 2), (3, 1)))  # the reference vector: newest = error 2
    assert update.pairs == [NewPair(1, 0, 3, 1), NewPair(2, 0, 0, 2)]


def test_zero_after_non_zero_is_a_reset_and_zero_after_zero_is_nothing():
    tracker = CounterTracker(CounterState(0, 9))
    assert tracker.update(reply(0)).reset is True
    assert tracker.update(reply(0)).reset is False
    assert tracker.state == CounterState(1, 0)


def test_jump_of_seven_loses_two():
    tracker = CounterTracker(CounterState(0, 250))
    update = tracker.update(reply(2, *[(n, 0) for n in (7, 6, 5, 4, 3)]))  # 251..255, 1, 2
    assert update.lost == 2
    assert [(p.event_counter, p.epoch, p.result_a) for p in update.pairs] == [
        (253, 0, 3),
        (254, 0, 4),
        (255, 0, 5),
        (1, 1, 6),
        (2, 1, 7),
    ]


def test_wrong_reply_length_is_a_frame_error():
    with pytest.raises(FrameError):
        CounterTracker().update(b"\x01\x02")


@given(st.lists(st.one_of(st.just("poll"), st.integers(1, 16)), max_size=250), st.integers(0, 255))
@settings(max_examples=300, deadline=None)
def test_model_device_every_event_once_or_counted_lost(script, start):
    """A model device fires events; polls come at random. Nothing is invented or doubled.

    (Fewer than 255 events between two polls: a full lap of the counter is undetectable.)
    """
    counter, fired = start, []
    buffer: list[tuple[int, int]] = []
    tracker = CounterTracker()
    tracker.update(reply(counter, *buffer[:5]))
    seen, lost = [], 0
    for step in script:
        if step == "poll":
            update = tracker.update(reply(counter, *buffer[:5]))
            seen += [p.result_a for p in update.pairs]
            lost += update.lost
        else:
            counter = 1 if counter == 255 else counter + 1
            buffer.insert(0, (step, 0))
            fired.append(step)
    update = tracker.update(reply(counter, *buffer[:5]))
    seen += [p.result_a for p in update.pairs]
    lost += update.lost
    assert len(seen) + lost == len(fired)
    # what was seen is exactly the fired sequence with the lost stretches cut out, in order
    iterator = iter(fired)
    assert all(any(item == value for item in iterator) for value in seen)


@given(st.binary(min_size=11, max_size=11), st.binary(min_size=11, max_size=11))
@settings(max_examples=300, deadline=None)
def test_fuzz_any_two_replies(first, second):
    tracker = CounterTracker()
    tracker.update(first)
    update = tracker.update(second)
    assert len(update.pairs) <= 5
    assert update.lost >= 0
