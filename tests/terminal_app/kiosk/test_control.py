"""The JSON control lines of ``printgate kiosk`` (fuzzed): every field of every intent has its declared
type, or the line is refused."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from terminal_app.kiosk.control import INTENTS, MAX_LINE_CHARS, parse_intent
from terminal_app.kiosk.state import EmptyCashBox, RedeemVoucher, StartRecharge
from terminal_app.session.intents import CardPresented


def test_control_lines_become_intents() -> None:
    assert parse_intent('{"intent": "CardPresented", "card_number": "0012"}') == CardPresented("0012")
    assert parse_intent('{"intent": "StartRecharge"}') == StartRecharge()
    assert parse_intent('{"intent": "RedeemVoucher", "code": "ABCD-EFGH"}') == RedeemVoucher("ABCD-EFGH")
    counted = '{"intent": "EmptyCashBox", "counted": [["coin", 200, 3], ["note", 500, 1]]}'
    assert parse_intent(counted) == EmptyCashBox((("coin", 200, 3), ("note", 500, 1)))
    tapped = parse_intent('{"intent": "CardPresented", "card_number": "0012", "read_at_s": 5}')
    assert tapped == CardPresented("0012", 5.0) and isinstance(tapped.read_at_s, float)
    for bad in (
        '{"intent": "Explode"}',
        '{"intent": "CardPresented", "card_number": 12}',
        '{"intent": "StartRecharge", "force": true}',
        '{"intent": "EmptyCashBox", "counted": [["coin", -1, 3]]}',
        '["StartRecharge"]',
        '{"intent": "CardPresented", "card_number": "0012", "read_at_s": "soon"}',
        '{"intent": "CardPresented", "card_number": "0012", "read_at_s": true}',
        '{"intent": "SetLanguage", "language": null}',
        "[" * 2000,  # deeper than the JSON decoder's stack: a RecursionError would kill the reader
        '{"intent": "RedeemVoucher", "code": "' + "A" * MAX_LINE_CHARS + '"}',
    ):
        with pytest.raises(ValueError):
            parse_intent(bad)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.one_of(
        st.text(max_size=200),
        json_values.map(json.dumps),
        st.tuples(st.sampled_from("[{"), st.integers(1, 3000)).map(lambda nest: nest[0] * nest[1]),
    )
)
def test_hostile_control_lines_are_refused_not_crashed(line: str) -> None:
    try:
        intent = parse_intent(line)
    except (ValueError, TypeError):
        return  # the CLI prints "bad control line" and goes on
    assert isinstance(intent, tuple(INTENTS.values()))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    st.sampled_from(sorted(INTENTS)),
    st.dictionaries(
        st.sampled_from(
            ["card_number", "read_at_s", "pin", "code", "counted", "username", "password", "note", "language"]
        ),
        json_values,
    ),
)
def test_fields_of_the_wrong_type_are_refused(name: str, fields: dict[str, object]) -> None:
    try:
        intent = parse_intent(json.dumps({"intent": name, **fields}))
    except (ValueError, TypeError):
        return
    for value in vars(intent).values():  # whatever got through has the declared types
        assert isinstance(value, str | tuple | float | type(None))
