"""Card-reader speed: frame-to-event latency and sustained rate per driver family.

Each family runs its real driver against its simulator over the real transport (pty,
input-event FIFO, nfcpy ``udp``, pcscd + vpcd). Latency is measured from the moment the
simulator puts the frame's last byte on the transport (serial: the write of the frame;
wedge: the write of the burst; NFC: the last anticollision answer; PC/SC: the GET DATA
response) to the consumer holding the normalised ``CardRead``. The rate is sustained
reads per second with back-to-back distinct cards (serial: a 10,000-frame burst; wedge:
2,000 typed cards; NFC: new tags as fast as the sense cycle finds them). PC/SC's rate is
printed too but left out of the headline: it is bounded by pcscd noticing an insert and a
removal (hundreds of ms per card), not by the driver.

Prints one line per family, then the worst family:

    frame_to_event_p50_ms=… frame_to_event_p99_ms=… frames_per_s=… cores=…

Run: ``.venv/bin/python benchmarks/readers.py [--samples 2000] [--pcsc-samples 60]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from hw_sim.readers import NfcTagSim, SerialReaderSim, VirtualCard, WedgeSim
from reader_drivers import CardReader, HealthState, open_reader

CHAIN = "reverse-bytes|hex2dec|lpad:20:0"  # a typical normalisation, part of every measured read


@dataclass
class Result:
    family: str
    latencies_ms: list[float]
    frames_per_s: float

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def line(self) -> str:
        return (
            f"family={self.family} samples={len(self.latencies_ms)} "
            f"frame_to_event_p50_ms={statistics.median(self.latencies_ms):.3f} "
            f"frame_to_event_p99_ms={self.percentile_ms(0.99):.3f} frames_per_s={self.frames_per_s:.0f}"
        )


async def _ready(reader: CardReader) -> None:
    async with asyncio.timeout(30):
        while reader.health.state != HealthState.READY:
            await asyncio.sleep(0.01)


async def bench_serial(samples: int, work: Path) -> Result:
    with SerialReaderSim("rdm6300", str(work / "tty")) as sim:
        async with open_reader("rdm6300", device=sim.path, convert=CHAIN) as reader:
            await _ready(reader)
            latencies = []
            for n in range(samples):
                started = time.monotonic()
                sim.tap(f"{n:010X}")
                await reader.read(timeout_s=10)
                latencies.append((time.monotonic() - started) * 1000)
            cards = [f"{n + samples:010X}" for n in range(10_000)]
            started = time.monotonic()
            sender = asyncio.create_task(asyncio.to_thread(sim.burst, cards))
            for _ in cards:
                await reader.read(timeout_s=30)
            await sender
            return Result("serial", latencies, len(cards) / (time.monotonic() - started))


async def bench_wedge(samples: int, work: Path) -> Result:
    with WedgeSim(str(work / "events"), key_delay_s=0.002) as sim:
        async with open_reader("wedge", device=sim.path, convert="lpad:12:0") as reader:
            await _ready(reader)
            latencies = []
            for n in range(samples):
                started = time.monotonic()
                sim.tap(f"{n:010d}")
                await reader.read(timeout_s=10)
                latencies.append((time.monotonic() - started) * 1000)
            count = 2000
            started = time.monotonic()
            text = "".join(f"{n + samples:010d}\n" for n in range(count))
            sender = asyncio.create_task(asyncio.to_thread(sim.type_text, text))
            for _ in range(count):
                await reader.read(timeout_s=30)
            await sender
            return Result("wedge", latencies, count / (time.monotonic() - started))


async def bench_nfc(samples: int) -> Result:
    with NfcTagSim() as tag:
        async with open_reader("nfc", url=tag.path, convert=CHAIN) as reader:
            await _ready(reader)
            latencies = []
            started = time.monotonic()
            for n in range(samples):
                tag.place(f"04{n:012X}")  # a new 7-byte UID in the field each time
                await reader.read(timeout_s=10)
                latencies.append((time.monotonic() - tag.last_answer_s) * 1000)
            return Result("nfc", latencies, samples / (time.monotonic() - started))


async def bench_pcsc(samples: int, work: Path) -> Result | str:
    try:
        from tests.reader_drivers.conftest import Pcscd

        daemon = Pcscd(work / "pcscd")
        daemon.start()
    except BaseException as exc:  # pytest.fail raises an Exception subclass outside pytest too
        return f"family=pcsc skipped: {exc}"
    try:
        card = VirtualCard(daemon.vpcd_port)
        async with open_reader("pcsc", device="Virtual PCD 00 00", convert=CHAIN) as reader:
            await _ready(reader)
            latencies = []
            started = time.monotonic()
            for n in range(samples):
                card.insert(f"04{n:012X}")
                await reader.read(timeout_s=15)
                answered_s = next(e.monotonic_s for e in reversed(card.history) if e.action == "apdu")
                latencies.append((time.monotonic() - answered_s) * 1000)
                card.remove()
            return Result("pcsc", latencies, samples / (time.monotonic() - started))
    finally:
        card.remove()
        daemon.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000, help="latency samples per stream family")
    parser.add_argument("--nfc-samples", type=int, default=500)
    parser.add_argument("--pcsc-samples", type=int, default=60)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="pg-bench-readers-"))
    results: list[Result] = []
    for run in (
        bench_serial(args.samples, work),
        bench_wedge(args.samples, work),
        bench_nfc(args.nfc_samples),
        bench_pcsc(args.pcsc_samples, work),
    ):
        result = await run
        print(result if isinstance(result, str) else result.line(), flush=True)
        if isinstance(result, Result):
            results.append(result)
    worst = max(results, key=lambda r: r.percentile_ms(0.99))
    rate_bound = [r for r in results if r.family != "pcsc"]
    print(
        f"frame_to_event_p50_ms={max(statistics.median(r.latencies_ms) for r in results):.3f} "
        f"frame_to_event_p99_ms={worst.percentile_ms(0.99):.3f} "
        f"frames_per_s={min(r.frames_per_s for r in rate_bound):.0f} cores={os.cpu_count()}"
    )


if __name__ == "__main__":
    asyncio.run(main())
