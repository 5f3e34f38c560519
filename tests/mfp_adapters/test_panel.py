"""FIH panel lock on gpiozero MockFactory pins, driven by the simulated copier's count pulses."""

from __future__ import annotations

import asyncio

import pytest
from gpiozero.pins.mock import MockFactory

from hw_sim.mfp import FihCopier, MfpSimServer, SimulatedMfp
from mfp_adapters.errors import PanelLockError
from mfp_adapters.panel import EmbeddedPlatformAdapter, FihPanelLock, PanelLock, PulseCounts
from tests.mfp_adapters.conftest import run

# pysnmp 7 calls its own deprecated pysmi helpers; that noise is not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def rig():
    factory = MockFactory()
    lock = FihPanelLock(pin_factory=factory, grace_s=0.05)
    copier = FihCopier(factory)
    device = SimulatedMfp("kyocera")
    copier.attach(device)
    yield lock, copier, device
    lock.close()
    factory.close()


def test_locked_panel_refuses_copies(rig):
    lock, _copier, device = rig
    assert not lock.enabled
    assert device.copy(2) == 0
    assert device.counts()["copy_mono"] == 0
    assert device.history[-1].verb == "copy_refused"


def test_unlocked_session_counts_mono_and_colour_pulses(rig):
    lock, _copier, device = rig
    lock.unlock()
    assert device.copy(3) == 3
    assert device.copy(2, color=True) == 2
    counts = run(lock.lock())
    assert counts == PulseCounts(mono=3, color=2, large=0, rejected=0)
    assert counts.total == device.counts()["copy_total"] == 5  # pulses agree with the SNMP copy counters
    assert not lock.enabled
    assert device.copy(1) == 0


def test_large_format_pulse_marks_without_adding(rig):
    lock, copier, _device = rig
    lock.unlock()
    copier.emit(2, color=False, duplex=False, large=True)
    counts = run(lock.lock())
    assert (counts.mono, counts.large, counts.total) == (2, 2, 2)


def test_glitches_and_bounces_are_rejected(rig):
    lock, copier, _device = rig
    lock.unlock()
    copier.glitch()
    copier.glitch(color=True)
    copier.gap_s = 0.0
    copier.emit(
        2, color=False, duplex=False
    )  # two pulses back to back: the second is a bounce (< 10 Hz rule)
    counts = lock.counts()
    assert (counts.mono, counts.color, counts.rejected) == (1, 0, 3)


def test_credit_budget_drops_enable_when_used_up(rig):
    lock, _copier, device = rig
    lock.unlock(credit_pages=2)
    device.copy(2)
    assert not lock.enabled
    assert device.copy(1) == 0
    assert lock.counts().mono == 2


def test_unlock_resets_the_counts(rig):
    lock, _copier, device = rig
    lock.unlock()
    device.copy(1)
    run(lock.lock())
    lock.unlock()
    assert lock.counts() == PulseCounts()


def test_busy_pins_are_a_panel_lock_error(rig):
    lock, _copier, _device = rig
    with pytest.raises(PanelLockError):
        FihPanelLock(pin_factory=lock.factory)  # enable pin 17 is already in use


def test_embedded_platform_adapters_share_the_panel_lock_interface():
    assert issubclass(EmbeddedPlatformAdapter, PanelLock)
    with pytest.raises(TypeError):
        EmbeddedPlatformAdapter()  # type: ignore[abstract]  # abstract until a vendor implements it


def test_simulator_server_wires_fih_pins_for_the_terminal():
    factory = MockFactory()

    async def body():
        async with MfpSimServer("kyocera", fih_factory=factory) as mfp:
            lock = FihPanelLock(pin_factory=factory, grace_s=0.05)
            try:
                refused = mfp.device.copy(1)
                lock.unlock(allow_color=True)
                made = await asyncio.to_thread(mfp.device.copy, 2, color=True)
                counts = await lock.lock()
            finally:
                lock.close()
            assert mfp.fih is not None
            return refused, made, counts, mfp.fih.pulses_sent

    refused, made, counts, sent = run(body())
    factory.close()
    assert (refused, made) == (0, 2)
    assert counts == PulseCounts(color=2) and sent == {"mono": 0, "color": 2, "large": 0}
