"""PC/SC: the real driver through a private pcscd and vsmartcard's vpcd to a Python card (readers.md §3.2)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hw_sim.readers.vpcd_card import VirtualCard
from reader_drivers.base import HealthState
from reader_drivers.errors import CardCommandError
from reader_drivers.pcsc_reader import PcscReader, uid_from_response
from tests.reader_drivers.conftest import Pcscd, no_more_reads, ready, run, until

UID7 = "04A2246A7F5B80"
READER = "Virtual PCD 00 00"


@pytest.mark.parametrize(
    ("response", "message"),
    [
        ("6282", "62 82: end of UID reached before Le bytes"),
        ("6C07", "6C 07: wrong length, the UID is 7 bytes"),
        ("6300", "63 00: operation failed"),
        ("6A81", "6A 81: function not supported"),
        ("6D00", "6D 00: unexpected status word"),
        ("9000", "90 00 without a UID"),
        ("90", "no status word"),
    ],
)
def test_status_words_are_explained(response: str, message: str) -> None:
    with pytest.raises(CardCommandError, match=message):
        uid_from_response(list(bytes.fromhex(response)))


def test_get_data_response_gives_the_uid() -> None:
    assert uid_from_response(list(bytes.fromhex(UID7 + "9000"))) == bytes.fromhex(UID7)


def _wait_until_pcscd_sees_no_card(timeout_ms: int = 10_000) -> None:
    """pcscd notices a removal only when it next polls vpcd; the next test needs an empty reader."""
    from smartcard import scard

    _, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    try:
        state = scard.SCARD_STATE_UNAWARE
        for _ in range(20):
            _, states = scard.SCardGetStatusChange(context, timeout_ms // 20, [(READER, state)])
            state = states[0][1] & ~scard.SCARD_STATE_CHANGED
            if state & scard.SCARD_STATE_EMPTY:
                return
        pytest.fail("pcscd still reports a card after it was removed")
    finally:
        scard.SCardReleaseContext(context)


@pytest.fixture
def card(pcscd: Pcscd) -> Iterator[VirtualCard]:
    virtual = VirtualCard(pcscd.vpcd_port)
    yield virtual
    virtual.remove()
    if pcscd.process is not None:
        _wait_until_pcscd_sees_no_card()


def test_insert_reads_uid_and_removal_ends_presence(card: VirtualCard) -> None:
    async def scenario() -> None:
        async with PcscReader(READER, convert="reverse-bytes|hex2dec") as reader:
            await ready(reader)
            card.insert(UID7)
            read = await reader.read(timeout_s=15)
            assert (read.raw_hex, read.technology, read.card_number) == (
                UID7,
                "iso14443a",
                "36129399818723844",
            )
            assert read.reader_id == f"pcsc:{READER}"
            card.remove()
            card.insert(UID7)  # the same card again after it left: a new read despite the 3 s debounce
            assert (await reader.read(timeout_s=15)).raw_hex == UID7
            card.remove()
            card.insert("1A2B3C4D")
            assert (await reader.read(timeout_s=15)).card_number == "1295788826"
            await no_more_reads(reader)
            assert reader.health.frames_rejected == 0

    run(scenario())


def test_wrong_length_is_retried_with_the_length_the_card_gave(card: VirtualCard) -> None:
    async def scenario() -> None:
        async with PcscReader(READER) as reader:
            await ready(reader)
            card.fail_next("6C07")
            card.insert(UID7)
            assert (await reader.read(timeout_s=15)).raw_hex == UID7
            apdus = [event.detail for event in card.history if event.action == "apdu"]
            assert apdus == ["ffca000000 -> 6c07", f"ffca000007 -> {UID7.lower()}9000"]

    run(scenario())


@pytest.mark.parametrize(
    ("status_word", "explanation"),
    [("6A81", "function not supported"), ("6282", "end of UID reached"), ("6D00", "unexpected status word")],
)
def test_final_error_status_word_is_a_logged_rejection_not_a_read(
    card: VirtualCard, caplog: pytest.LogCaptureFixture, status_word: str, explanation: str
) -> None:
    async def scenario() -> None:
        async with PcscReader(READER) as reader:
            await ready(reader)
            card.fail_next(status_word)
            card.insert(UID7)
            await until(lambda: reader.health.frames_rejected == 1)
            await no_more_reads(reader)
            assert reader.health.frames_rejected == 1  # not retried: the answer will not change

    with caplog.at_level(logging.WARNING, "reader_drivers"):
        run(scenario())
    assert any(explanation in message for message in caplog.messages)


def test_operation_failed_is_retried_while_the_card_stays(
    card: VirtualCard, caplog: pytest.LogCaptureFixture
) -> None:
    async def scenario() -> None:
        async with PcscReader(READER) as reader:
            await ready(reader)
            card.fail_next("6300")
            card.insert(UID7)
            assert (await reader.read(timeout_s=15)).raw_hex == UID7
            assert reader.health.frames_rejected == 1

    with caplog.at_level(logging.WARNING, "reader_drivers"):
        run(scenario())
    assert any("63 00: operation failed" in message for message in caplog.messages)


def test_unknown_reader_name_is_a_health_state(pcscd: Pcscd) -> None:
    async def scenario() -> None:
        async with PcscReader("No Such Reader") as reader:
            await until(lambda: reader.health.state == HealthState.RECONNECTING)
            assert "no PC/SC reader matching 'No Such Reader'" in (reader.health.last_error or "")

    run(scenario())


def test_pcscd_restart_is_survived(pcscd: Pcscd, card: VirtualCard) -> None:
    async def scenario() -> None:
        async with PcscReader(READER) as reader:
            await ready(reader)
            pcscd.stop()
            await until(lambda: reader.health.state == HealthState.RECONNECTING)
            pcscd.start()
            await ready(reader, reconnects=1)
            card.insert(UID7)
            assert (await reader.read(timeout_s=15)).raw_hex == UID7

    run(scenario())


@given(st.binary(max_size=300))
def test_get_data_response_fuzz_gives_uid_only_with_90_00(response: bytes) -> None:
    try:
        uid = uid_from_response(list(response))
    except CardCommandError as exc:
        assert str(exc)
        return
    assert response.endswith(b"\x90\x00") and uid == response[:-2] and uid
