"""NFC: real nfcpy (``udp`` device) against the simulated Type A tag (readers.md §1.9, §3.1, vector 11)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hw_sim.readers.nfc_tag import NfcTagSim
from reader_drivers.base import HealthState
from reader_drivers.nfc_reader import NfcReader, check_uid
from tests.reader_drivers.conftest import no_more_reads, ready, run, until


@pytest.mark.parametrize(
    ("uid", "problem"),
    [("1A2B3C4D", None), ("04A2246A7F5B80", None), ("0102030405060708090A", None),
     ("88112233", "cascade tag"), ("010203", "3 bytes"), ("0102030405", "5 bytes")],
)  # fmt: skip
def test_check_uid(uid: str, problem: str | None) -> None:
    result = check_uid(bytes.fromhex(uid))
    assert result is None if problem is None else problem in (result or "")


@pytest.fixture
def tag() -> Iterator[NfcTagSim]:
    sim = NfcTagSim().start()
    yield sim
    sim.close()


@pytest.mark.parametrize(
    ("uid", "number"),
    [("1A2B3C4D", "1295788826"), ("04A2246A7F5B80", "36129399818723844"),
     ("0102030405060708090A", str(int("0A090807060504030201", 16)))],
)  # fmt: skip
def test_real_nfcpy_reads_4_7_10_byte_uids(tag: NfcTagSim, uid: str, number: str) -> None:
    async def scenario() -> None:
        async with NfcReader(tag.path, convert="reverse-bytes|hex2dec") as reader:
            await ready(reader)
            tag.place(uid)
            read = await reader.read(timeout_s=15)
            assert (read.raw_hex, read.technology, read.card_number) == (uid, "iso14443a", number)
            assert read.reader_id == f"nfc:{tag.path}"
            await no_more_reads(reader)  # the tag stays in the field: reported once

    run(scenario())


def test_removal_then_same_tag_is_a_new_read_and_bad_answers_are_counted(tag: NfcTagSim) -> None:
    async def scenario() -> None:
        async with NfcReader(tag.path) as reader:
            await ready(reader)
            tag.place("1A2B3C4D")
            await reader.read(timeout_s=15)
            tag.remove()
            polls = tag.requests_unanswered
            await until(lambda: tag.requests_unanswered > polls)  # that poll will report the field empty
            tag.corrupt_next()
            tag.place("1A2B3C4D")
            await until(lambda: reader.health.frames_rejected == 1)
            assert (await reader.read(timeout_s=15)).raw_hex == "1A2B3C4D"
            tag.place("88112233")  # a UID that cannot exist
            await until(lambda: reader.health.frames_rejected >= 2)
            await no_more_reads(reader)

    run(scenario())


def test_missing_device_is_a_health_state() -> None:
    async def scenario() -> None:
        async with NfcReader("tty:NO_SUCH_PORT:pn532") as reader:
            await until(lambda: reader.health.state == HealthState.RECONNECTING)
            assert "cannot open NFC device" in (reader.health.last_error or "")

    run(scenario())


@given(st.binary(max_size=16))
def test_check_uid_fuzz_accepts_only_possible_uids(uid: bytes) -> None:
    if check_uid(uid) is None:
        assert len(uid) in (4, 7, 10) and uid[0] != 0x88
