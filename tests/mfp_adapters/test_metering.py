"""Copy-session metering: the real meter reading the simulated MFP over SNMP."""

from __future__ import annotations

import asyncio

import pytest
from gpiozero.pins.mock import MockFactory

from hw_sim.mfp import MfpSimServer
from mfp_adapters.device import MfpSnmp
from mfp_adapters.errors import MeteringError, MeterStateError
from mfp_adapters.metering import CopyMeter, reconcile
from mfp_adapters.panel import FihPanelLock
from mfp_adapters.snmp import CommunityAuth, SnmpClient, parse_oid
from tests.mfp_adapters.conftest import run

# pysnmp 7 calls its own deprecated pysmi helpers; that noise is not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

KYOCERA_COPY_MONO = parse_oid("1.3.6.1.4.1.1347.42.3.1.2.1.1.2.1")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def session(vendor: str, scenario, **meter_kw):
    """Run ``scenario(mfp, meter)`` against a fresh simulated MFP; return what it returns."""
    async with MfpSimServer(vendor) as mfp:
        auth = CommunityAuth(mfp.community)
        async with SnmpClient("127.0.0.1", mfp.snmp_port, auth, timeout_s=0.3, retries=0) as snmp:
            meter_kw.setdefault("retry_delay_s", 0.01)
            meter = CopyMeter(MfpSnmp(snmp), **meter_kw)
            return await scenario(mfp, meter)


@pytest.mark.parametrize(
    "vendor", ["kyocera", "ricoh", "sharp", "konica_minolta", "lexmark", "brother", "xerox", "toshiba"]
)
def test_usage_by_function_and_colour(vendor):
    async def scenario(mfp, meter):
        mfp.device.copy(10)  # before the session: not charged
        await meter.unlock("s1")
        mfp.device.copy(3, color=True)
        mfp.device.copy(2, duplex=True)
        return await meter.lock()

    usage = run(session(vendor, scenario))
    assert usage.complete and usage.flags == frozenset()
    assert (usage.usage["copy_color"], usage.usage["copy_mono"]) == (3, 2)
    assert usage.usage.get("print_mono", 0) == 0
    if vendor in ("sharp", "konica_minolta"):
        assert usage.usage["duplex"] == 2
    assert usage.session == "s1" and usage.end_reason == "lock"


def test_network_print_during_session_does_not_touch_copy_counts():
    async def scenario(mfp, meter):
        await meter.unlock("s")
        mfp.device.copy(4)
        mfp.device.print_pages(9)
        return await meter.lock()

    usage = run(session("kyocera", scenario))
    assert (usage.usage["copy_mono"], usage.usage["print_mono"]) == (4, 9)


def test_reboot_with_counter_reset_charges_only_proven_pages():
    async def scenario(mfp, meter):
        mfp.device.copy(50)
        await meter.unlock("s")
        mfp.device.copy(3)
        await meter.observe()
        mfp.device.reboot(reset_counters=True)
        mfp.device.copy(2)
        return await meter.lock()

    usage = run(session("kyocera", scenario))
    assert usage.usage["copy_mono"] == 5
    assert {"reboot", "counter_reset"} <= usage.flags
    assert not usage.complete


def test_reboot_with_reset_and_no_observation_charges_the_lower_bound():
    async def scenario(mfp, meter):
        mfp.device.copy(50)
        await meter.unlock("s")
        mfp.device.copy(3)
        mfp.device.reboot(reset_counters=True)
        mfp.device.copy(2)
        return await meter.lock()

    usage = run(session("kyocera", scenario))
    assert usage.usage["copy_mono"] == 2  # the 3 before the reset cannot be proven
    assert all(value >= 0 for value in usage.usage.values())
    assert not usage.complete


def test_plain_reboot_is_informational_only():
    async def scenario(mfp, meter):
        await meter.unlock("s")
        mfp.device.copy(3)
        mfp.device.reboot()
        mfp.device.copy(1)
        return await meter.lock()

    usage = run(session("kyocera", scenario))
    assert usage.usage["copy_mono"] == 4
    assert usage.flags == {"reboot"} and usage.complete


def test_counter_backwards_without_reboot_is_not_charged():
    async def scenario(mfp, meter):
        mfp.device.copy(20)
        await meter.unlock("s")
        mfp.device.inject(KYOCERA_COPY_MONO, 0x02, 5)
        return await meter.lock()

    usage = run(session("kyocera", scenario))
    assert "copy_mono" not in usage.usage
    assert usage.flags == {"counter_reset"}


def test_absurd_jump_is_flagged_and_not_charged():
    async def scenario(mfp, meter):
        await meter.unlock("s")
        mfp.device.inject(KYOCERA_COPY_MONO, 0x02, 4_000_000)
        return await meter.lock()

    usage = run(session("kyocera", scenario, max_pages_per_minute=150))
    assert "copy_mono" not in usage.usage and "implausible" in usage.flags


def test_agent_timeout_at_lock_charges_what_observations_proved():
    async def scenario(mfp, meter):
        await meter.unlock("s")
        mfp.device.copy(3)
        await meter.observe()
        mfp.device.copy(2)
        mfp.device.snmp_silent = True
        return await meter.lock()

    usage = run(session("kyocera", scenario, snapshot_attempts=2))
    assert usage.usage["copy_mono"] == 3
    assert usage.flags == {"end_snapshot_missing"} and not usage.complete


def test_agent_timeout_at_unlock_refuses_the_session():
    async def scenario(mfp, meter):
        mfp.device.snmp_silent = True
        with pytest.raises(MeteringError):
            await meter.unlock("s")
        return meter.active

    assert run(session("kyocera", scenario, snapshot_attempts=2)) is False


def test_idle_timeout_ends_the_session():
    clock = FakeClock()

    async def scenario(mfp, meter):
        await meter.unlock("s")
        mfp.device.copy(2, color=True)
        clock.now += 30
        assert await meter.observe() is None
        clock.now += 61
        assert await meter.observe() is None  # 61 s since the last page: still open
        clock.now += 30
        return await meter.observe()

    usage = run(session("kyocera", scenario, idle_timeout_s=90, clock=clock))
    assert usage is not None and usage.end_reason == "idle_timeout"
    assert usage.usage["copy_color"] == 2 and usage.complete


def test_meter_refuses_out_of_order_calls():
    async def scenario(mfp, meter):
        with pytest.raises(MeterStateError):
            await meter.lock()
        await meter.unlock("a")
        with pytest.raises(MeterStateError):
            await meter.unlock("b")
        await meter.lock()
        return True

    assert run(session("kyocera", scenario))


def test_counter32_wrap_is_an_exact_delta():
    async def scenario(mfp, meter):
        mfp.device.inject(KYOCERA_COPY_MONO, 0x41, 2**32 - 2)
        await meter.unlock("s")
        mfp.device.inject(KYOCERA_COPY_MONO, 0x41, 3)
        return await meter.lock()

    usage = run(session("kyocera", scenario))
    assert usage.usage["copy_mono"] == 5
    assert usage.flags == {"counter_wrap"} and usage.complete


def test_fih_pulses_and_snmp_deltas_reconcile():
    factory = MockFactory()

    async def body():
        async with MfpSimServer("kyocera", fih_factory=factory) as mfp:
            assert mfp.fih is not None
            lock = FihPanelLock(pin_factory=factory, grace_s=0.05)
            auth = CommunityAuth(mfp.community)
            async with SnmpClient("127.0.0.1", mfp.snmp_port, auth, timeout_s=1.0) as snmp:
                meter = CopyMeter(MfpSnmp(snmp))
                try:
                    await meter.unlock("s")
                    lock.unlock()
                    await asyncio.to_thread(mfp.device.copy, 2, color=True)
                    await asyncio.to_thread(mfp.device.copy, 1)
                    agreeing = reconcile(await lock.lock(), await meter.lock())
                    await meter.unlock("t")
                    lock.unlock()
                    await asyncio.to_thread(mfp.fih.emit, 1, False, False)  # a pulse with no copy behind it
                    disagreeing = reconcile(await lock.lock(), await meter.lock())
                finally:
                    lock.close()
            return agreeing, disagreeing

    agreeing, disagreeing = run(body())
    factory.close()
    assert agreeing == {}
    assert disagreeing == {"mono": 1}
