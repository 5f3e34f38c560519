"""The enrollment token format (printgate.enrollment_token), shared by hub and devices."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st
from printgate.enrollment_token import EnrollmentToken, MalformedToken, certificate_fingerprint, parse_token

FINGERPRINT = certificate_fingerprint(b"not really a certificate")


def test_a_token_round_trips_and_hides_its_secret() -> None:
    token = EnrollmentToken.new(FINGERPRINT, ["hub.example.org:50052", "[2001:db8::1]:50052", "10.0.0.5:7"])
    text = str(token)
    assert text.startswith(f"pge1-{token.token_id}-{token.secret}-{FINGERPRINT}-")
    assert text.endswith("@hub.example.org:50052,[2001:db8::1]:50052,10.0.0.5:7")
    assert parse_token(f"  {text.upper().split('@')[0]}@{text.split('@')[1]}\n") == token
    assert len(token.secret) == 32 and token.secret not in repr(token)


def test_fingerprint_is_sha256_of_der() -> None:
    assert (
        certificate_fingerprint(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda t: "", "must start with 'pge1-'"),
        (lambda t: t.replace("pge1-", "pge2-"), "must start with 'pge1-'"),
        (lambda t: t.split("@")[0], "expected pge1-<id>"),
        (lambda t: t.replace("-", "--", 1), "expected pge1-<id>"),
        (lambda t: t[:10] + ("0" if t[10] != "0" else "1") + t[11:], "damaged"),
        (lambda t: t + ",", "damaged"),
        (lambda t: "x" * 2000, "too long"),
    ],
)
def test_malformed_tokens_say_what_is_wrong(mangle, message: str) -> None:
    token = str(EnrollmentToken.new(FINGERPRINT, ["hub:1"]))
    with pytest.raises(MalformedToken, match=message):
        parse_token(mangle(token))


@pytest.mark.parametrize("address", ["hub", "hub:0", "hub:70000", "-hub:1", "hub name:1", "[zz]:1", "a@b:1"])
def test_bad_addresses_are_refused(address: str) -> None:
    with pytest.raises(MalformedToken, match=r"address|hub addresses|expected"):
        EnrollmentToken.new(FINGERPRINT, [address])


def test_field_lengths_are_checked() -> None:
    with pytest.raises(MalformedToken, match="secret must be 32"):
        EnrollmentToken("0123456789", "abc", FINGERPRINT, ("hub:1",))
    with pytest.raises(MalformedToken, match="fingerprint must be 64"):
        EnrollmentToken("0123456789", "0" * 32, "ab", ("hub:1",))
    with pytest.raises(MalformedToken, match="1 to 8 hub addresses"):
        EnrollmentToken("0123456789", "0" * 32, FINGERPRINT, ())


@given(st.text(max_size=300))
def test_any_text_parses_or_says_malformed(text: str) -> None:
    with contextlib.suppress(MalformedToken):
        parse_token(text)


@given(st.binary(min_size=1, max_size=4).map(lambda b: b.hex()), st.integers(0, 150))
def test_any_damage_to_a_real_token_is_detected(noise: str, position: int) -> None:
    text = str(EnrollmentToken.new(FINGERPRINT, ["hub.example:443"]))
    head = text.split("@")[0]
    position = min(position, len(head) - 1)
    damaged = head[:position] + noise + head[position + len(noise) :] + "@" + text.split("@")[1]
    if damaged.lower() != text.lower():
        with pytest.raises(MalformedToken):
            parse_token(damaged)
