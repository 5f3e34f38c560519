"""Conversion chains and Wiegand decoding against ../shared/reference/readers.md §1.3, §1.5, §2, §6."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from card_numbers import MAX_CHARS, ChainSyntaxError, ConversionChain, ConversionError, WiegandParityError
from card_numbers.wiegand import WIEGAND_FORMATS, WiegandCard, decode_wiegand, encode_wiegand


def convert(chain: str, value: str) -> str:
    return ConversionChain.parse(chain)(value)


@pytest.mark.parametrize(
    ("chain", "value", "expected"),
    [
        # PaperCut (§2.1, vector 14)
        ("hex2dec", "946EBD28", "2490285352"),
        ("dec2hex", "2490285352", "946EBD28"),
        ("ascii-enc", "3934364542443238", "946EBD28"),
        ("ascii-enc|hex2dec", "3934364542443238", "2490285352"),
        (r"regex:(.{10})", "5235092385=8", "5235092385"),
        (r"regex:\d*=(\d*)=\d*", "123453=292929=1221", "292929"),
        (r"regex:/^(?:;0)?(\d{8})/", ";012345678", "12345678"),
        # MyQ (§2.2, vector 15)
        ("ltrim:2", "123456", "3456"),
        ("rtrim:2", "123456", "1234"),
        ("prepend:AB", "123456", "AB123456"),
        ("append:AB", "123456", "123456AB"),
        ("left:2", "123456", "12"),
        ("right:2", "123456", "56"),
        ("mid:2:2", "123456", "34"),
        ("lpad:12:0", "123456", "000000123456"),
        ("hex2dec", "1000AB", "1048747"),
        ("dec2hex", "1048747", "1000AB"),
        ("hex2bin", "1000AB", "100000000000010101011"),
        ("bin2hex", "100000000000010101011", "1000AB"),
        ("dec2bin", "100023", "11000011010110111"),
        ("bin2dec", "11000011010110111", "100023"),
        ("reverse", "1234AB", "AB3412"),
        # Our own chain (§2.4)
        ("hex2dec", "1A2B3C4D", "439041101"),
        ("reverse-bytes|hex2dec", "1A2B3C4D", "1295788826"),
        ("reverse-bytes", "1A2B3C4D", "4D3C2B1A"),
        ("hex2dec", "04A2246A7F5B80", "1304177196096384"),
        ("reverse-bytes", "04A2246A7F5B80", "805B7F6A24A204"),
        ("reverse-bytes|hex2dec", "04A2246A7F5B80", "36129399818723844"),
        ("hex2dec", "DEADBEEF", "3735928559"),
        ("reverse-bytes|hex2dec", "DEADBEEF", "4022250974"),
        ("bit-reverse-bytes", "0EEFEDC5", "70F7B7A3"),
        ("bit-reverse-bytes|hex2dec", "0EEFEDC5", "1895282595"),  # vector 1
        # EM4100 renderings (§1.3, vector 5)
        ("hex2dec", "4B00423C15", "322126887957"),
        ("right:8|hex2dec", "4B00423C15", "4340757"),
        ("right:8|hex2dec|lpad:10:0", "4B00423C15", "0004340757"),
        ("left:2|hex2dec", "4B00423C15", "75"),
        # pcProx renderings of FC 2 / CN 10482 (§1.6)
        ("wiegand:h10301", "000451E5", "10482"),
        ("wiegand:h10301:facility-card::", "000451E5", "2:10482"),
        ("wiegand:h10301|lpad:10:0", "000451E5", "0000010482"),
        ("regex:^.*:(\\d+)$", "2:10482", "10482"),
        ("lstrip:0", "0000010482", "10482"),
        ("rstrip", "104800", "1048"),
        ("rpad:6:x", "12", "12xxxx"),
        ("upper", "ab", "AB"),
        ("lower", "AB", "ab"),
        ("", "A1", "A1"),
    ],
)
def test_documented_vectors(chain: str, value: str, expected: str) -> None:
    assert convert(chain, value) == expected


def test_regex_with_pipe_and_colon_in_slashes() -> None:
    assert convert(r"regex:/(?:x|y):(\d+)/|lpad:5:0", "y:42") == "00042"


def test_200_digit_card_number_converts_exactly() -> None:
    number = "9" * 200
    assert convert("dec2hex|hex2dec", number) == number
    assert convert("right:4", number) == "9999"


@pytest.mark.parametrize(
    "chain",
    ["hexdec", "lpad", "lpad:x", "lpad:10:ab", "mid:1", "regex:(", "regex:/abc", "wiegand:h99", "a||b",
     "wiegand:h10301:both", f"lpad:{MAX_CHARS + 1}"],
)  # fmt: skip
def test_bad_chain_text_is_a_syntax_error(chain: str) -> None:
    with pytest.raises(ChainSyntaxError):
        ConversionChain.parse(chain)


@pytest.mark.parametrize(
    ("chain", "value", "message"),
    [
        ("hex2dec", "XYZ", "expected hexadecimal"),
        ("reverse-bytes", "ABC", "odd number of hex digits"),
        ("ascii-enc", "00", "not printable ASCII"),
        ("regex:(\\d{8})", "12", "does not match"),
        ("lpad:10|hex2dec", "G", "step 2 of"),
        ("wiegand:h10301", "FFFFFFFF", "does not fit"),
    ],
)
def test_bad_value_names_the_failing_step(chain: str, value: str, message: str) -> None:
    with pytest.raises(ConversionError, match=message):
        convert(chain, value)


def test_value_longer_than_limit_is_refused() -> None:
    with pytest.raises(ConversionError, match="exceeds"):
        convert("hex2dec", "1" * (MAX_CHARS + 1))
    with pytest.raises(ConversionError, match="exceeds"):
        convert("hex2bin", "F" * 300)  # grows past the limit


# --- Wiegand (§1.5, vectors 6-8) -------------------------------------------------------

H10301_SAMPLES = [
    ("02D007BB", 104, 989), ("000451E5", 2, 10482), ("006232C8", 49, 6500),
    ("00045081", 2, 10304), ("000451E6", 2, 10483), ("0004507E", 2, 10303),
    (f"{int('1' '11010100' '0001101110000001' '0', 2):X}", 212, 7041),
    ("0000001", 0, 0), ("2020002", 1, 1), ("1FFFFFF", 255, 65535), ("0246073", 18, 12345),
]  # fmt: skip
DERIVED = [
    ("h10304", "0000000001", 0, 0), ("h10304", "104D21BBAA", 1234, 56789),
    ("h10304", "0FFFFFFFFF", 65535, 524287),
    ("c1k35", "000000001", 0, 0), ("c1k35", "600200003", 1, 1), ("c1k35", "60C806072", 100, 12345),
    ("c1k35", "5FFFFFFFE", 4095, 1048575),
    ("c1k48", "000000000001", 0, 0), ("c1k48", "400064006073", 100, 12345),
    ("c1k48", "BFFFFFFFFFFF", 0x3FFFFF, 0x7FFFFF),
]  # fmt: skip
VECTORS = [("h10301", *sample) for sample in H10301_SAMPLES] + DERIVED


@pytest.mark.parametrize(("name", "frame_hex", "facility", "card"), VECTORS)
def test_wiegand_vectors_decode_and_encode(name: str, frame_hex: str, facility: int, card: int) -> None:
    fmt = WIEGAND_FORMATS[name]
    assert decode_wiegand(int(frame_hex, 16), fmt) == WiegandCard(facility, card)
    assert encode_wiegand(WiegandCard(facility, card), fmt) == int(frame_hex, 16)
    assert convert(f"wiegand:{name}:facility-card", frame_hex) == f"{facility}-{card}"


def test_cn56_bit_string_matches_h10301_encoding() -> None:
    frame = encode_wiegand(WiegandCard(212, 7041), WIEGAND_FORMATS["h10301"])
    assert f"{frame:026b}" == "11101010000011011100000010"


@pytest.mark.parametrize(("name", "frame_hex", "facility", "card"), VECTORS)
def test_every_single_bit_flip_is_rejected(name: str, frame_hex: str, facility: int, card: int) -> None:
    fmt = WIEGAND_FORMATS[name]
    for bit in range(fmt.length_bits):
        with pytest.raises(WiegandParityError):
            decode_wiegand(int(frame_hex, 16) ^ (1 << bit), fmt)


@given(st.sampled_from(sorted(WIEGAND_FORMATS)), st.data())
def test_wiegand_round_trip(name: str, data: st.DataObject) -> None:
    fmt = WIEGAND_FORMATS[name]
    card = WiegandCard(
        data.draw(st.integers(0, (1 << fmt.facility[1]) - 1)),
        data.draw(st.integers(0, (1 << fmt.card[1]) - 1)),
    )
    assert decode_wiegand(encode_wiegand(card, fmt), fmt) == card


@given(st.sampled_from(sorted(WIEGAND_FORMATS)), st.integers(0, (1 << 48) - 1))
def test_wiegand_random_frames_decode_only_if_parity_holds(name: str, frame: int) -> None:
    fmt = WIEGAND_FORMATS[name]
    try:
        card = decode_wiegand(frame, fmt)
    except ConversionError:
        return
    assert encode_wiegand(card, fmt) == frame  # accepted only if it is exactly a valid frame


# --- fuzz -------------------------------------------------------------------------------

STEP_TEXTS = st.sampled_from(
    ["hex2dec", "dec2hex", "hex2bin", "bin2hex", "dec2bin", "bin2dec", "ascii-enc", "reverse-bytes",
     "bit-reverse-bytes", "ltrim:2", "rtrim:3", "lstrip:0", "lpad:10:0", "rpad:12:F", "left:4",
     "right:6", "mid:1:1", "prepend:9", "append:0", "upper", "lower", "wiegand:h10301",
     "wiegand:c1k48:facility-card", r"regex:(\d+)"]
)  # fmt: skip


@given(st.lists(STEP_TEXTS, min_size=1, max_size=6), st.text(max_size=300))
def test_any_chain_on_any_text_converts_or_raises_conversion_error(steps: list[str], value: str) -> None:
    chain = ConversionChain.parse("|".join(steps))
    try:
        result = chain(value)
    except ConversionError:
        return
    assert isinstance(result, str)
    assert len(result) <= MAX_CHARS


@given(st.text(max_size=200))
def test_any_chain_text_parses_or_raises_syntax_error(text: str) -> None:
    with contextlib.suppress(ChainSyntaxError):
        ConversionChain.parse(text)


@given(st.binary(min_size=1, max_size=64))
def test_hex_dec_round_trip(raw: bytes) -> None:
    hex_text = raw.hex().upper()
    assert convert(f"hex2dec|dec2hex|lpad:{len(hex_text)}:0", hex_text) == hex_text
    assert convert("reverse-bytes|reverse-bytes", hex_text) == hex_text
