"""Terminal speed: tap-to-unlock latency, and the terminal process's idle CPU and memory.

Tap to unlock: a real in-process hub, the hw_sim RDM6300 reader on a pty, the simulated MFP's FIH
copier on MockFactory pins, and the terminal wired from a ``terminal.toml`` exactly as
``printgate terminal`` wires it. Clock starts when the simulator has written the frame's last
byte into the pty; it stops when the copier's enable line is high (observed in the engine's
state callback, which runs right after the FIH output was switched). Between taps the user logs
out, so every tap is a full login: frame parse, Authenticate over gRPC, unlock.

Idle: ``printgate terminal`` as its own process (reader on a pty, mock GPIO, hub reachable),
CPU time over ``--idle-seconds`` from /proc and its resident set size; once headless, once with
its Kivy window (800x480, on a private Xvfb) showing the idle screen (blanking off, so it is drawn
the whole time). Xvfb draws with software OpenGL, where the tap-your-card hint does not pulse (one
redraw a second costs about 1.7 % of a core there); on a GPU it does.

Run: ``.venv/bin/python benchmarks/terminal.py [--taps 200] [--idle-seconds 20]``; last line
(idle figures of the windowed terminal, the way it runs beside a copier)::

    tap_to_unlock_p50_ms=… tap_to_unlock_p99_ms=… idle_cpu_pct=… rss_mb=… cores=…
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import select
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from gpiozero.pins.mock import MockFactory

from hub_server.clock import FakeClock
from hub_server.server import ADMIN_TOKEN_FILE, HUB_CA_FILE, start_hub
from hw_sim.mfp import FihCopier, SimulatedMfp
from hw_sim.readers import SerialReaderSim
from terminal_app.terminal import Logout, Screen, TerminalState
from terminal_app.terminal.config import load_config
from terminal_app.terminal.wiring import build_terminal
from tests.hub_server.conftest import HubClients, hub_config
from tests.hub_server.devices import admin_channel
from tests.terminal_app.conftest import ALICE_CARD, seed_site

REPO = Path(__file__).resolve().parent.parent
WAIT_S = 10.0


# The idle screen as it runs beside a copier: blanking off, so the idle animation runs throughout.
WINDOW_TABLE = """[display]
width_px = 800
height_px = 480
fullscreen = false
blank_after_s = 0
"""


def write_config(
    folder: Path,
    port: int,
    state_dir: Path,
    reader_path: str,
    pin_factory: str = "",
    window: bool = False,
) -> Path:
    """terminal.toml for an enrolled terminal (its identity in ``state_dir``)."""
    path = folder / "terminal.toml"
    path.write_text(
        f"""[hub]
address = "127.0.0.1:{port}"
state_dir = "{state_dir}"
[reader]
driver = "rdm6300"
url = "{reader_path}"
debounce_s = 0.0
[mfp.fih]
grace_s = 0.0
pin_factory = "{pin_factory}"
[session]
relogin_guard_s = 0.0
[storage]
data_dir = "data"
"""
        + (WINDOW_TABLE if window else "")
    )
    return path


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def tap_and_stamp(reader: SerialReaderSim) -> float:
    """Tap, and take the time as soon as the frame's last byte is in the pty."""
    reader.tap(ALICE_CARD)
    return time.perf_counter()


async def until(event: asyncio.Event) -> None:
    await asyncio.wait_for(event.wait(), WAIT_S)


async def measure_taps(hub: HubClients, folder: Path, taps: int) -> list[float]:
    terminal_client = await seed_site(hub)
    factory = MockFactory()
    device = SimulatedMfp("kyocera")
    copier = FihCopier(factory)
    copier.attach(device)
    latencies_ms: list[float] = []
    unlocked, idle = asyncio.Event(), asyncio.Event()
    stamps: dict[str, float] = {}

    def watch(state: TerminalState) -> None:
        if state.panel_unlocked and copier.enabled() and not unlocked.is_set():
            stamps["unlocked"] = time.perf_counter()
            unlocked.set()
        if state.screen is Screen.IDLE:
            idle.set()

    with SerialReaderSim("rdm6300") as reader:
        config = load_config(write_config(folder, hub.running.port, terminal_client.state_dir, reader.path))
        terminal = build_terminal(config, pin_factory=factory)
        terminal.engine.subscribe(watch)
        task = asyncio.create_task(terminal.run())
        await until(idle)
        while terminal.reader.health.state != "ready":
            await asyncio.sleep(0.01)
        for _ in range(taps):
            unlocked.clear()
            tapped = await asyncio.to_thread(tap_and_stamp, reader)
            await until(unlocked)
            latencies_ms.append((stamps["unlocked"] - tapped) * 1000)
            idle.clear()
            terminal.engine.submit(Logout())
            await until(idle)
        await terminal.stop()
        await task
        await terminal.close()
    factory.close()
    return latencies_ms


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@contextlib.contextmanager
def private_xvfb() -> Iterator[str]:
    """A private Xvfb on a display number it picks itself; stopped by PID afterwards."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise SystemExit("Xvfb is not installed (apt-get install xvfb)")
    read_end, write_end = os.pipe()  # Xvfb writes the number here; the pipe stays open while it runs
    command = [binary, "-displayfd", str(write_end), "-screen", "0", "800x480x24", "-nolisten", "tcp"]
    process = subprocess.Popen(
        [*command, "+extension", "GLX"], pass_fds=(write_end,), stderr=subprocess.DEVNULL
    )
    os.close(write_end)
    try:
        ready, _, _ = select.select([read_end], [], [], 20.0)
        number = os.read(read_end, 32).decode().strip() if ready else ""
        if not number.isdigit():
            raise SystemExit("Xvfb did not start")
        yield f":{number}"
    finally:
        process.terminate()
        process.wait(10)
        os.close(read_end)


async def measure_idle(
    port: int, state_dir: Path, folder: Path, seconds: float, display: str = ""
) -> tuple[float, float]:
    """Idle CPU (% of one core) and RSS of ``printgate terminal``; with its window on ``display``."""
    with SerialReaderSim("rdm6300") as reader:
        config = write_config(folder, port, state_dir, reader.path, pin_factory="mock", window=bool(display))
        command = [sys.executable, "-m", "printgate_cli", "terminal", "--config", str(config)]
        env = dict(os.environ)
        if display:
            kivy_home = folder / "kivy-home"
            kivy_home.mkdir()
            env |= {"DISPLAY": display, "SDL_VIDEODRIVER": "x11", "KIVY_HOME": str(kivy_home)}
            env |= {"KIVY_NO_CONSOLELOG": "1", "KIVY_NO_FILELOG": "1", "KIVY_METRICS_DENSITY": "1"}
        process = subprocess.Popen(command, cwd=REPO, stderr=subprocess.PIPE, text=True, env=env)
        try:
            assert process.stderr is not None
            seen = [""]
            while "screen=idle" not in seen[-1]:
                seen.append(await asyncio.to_thread(process.stderr.readline))
                if process.poll() is not None:
                    lines = "".join(seen[-30:])
                    raise RuntimeError(f"printgate terminal exited ({process.returncode}): {lines}")
            await asyncio.sleep(2.0)  # let start-up settle
            ticks_per_s = os.sysconf("SC_CLK_TCK")
            before, started = cpu_ticks(process.pid), time.monotonic()
            await asyncio.sleep(seconds)
            used_s = (cpu_ticks(process.pid) - before) / ticks_per_s
            return 100.0 * used_s / (time.monotonic() - started), rss_mb(process.pid)
        finally:
            process.terminate()
            process.wait(20)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--taps", type=int, default=200)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pg-bench-terminal-") as temp:
        folder = Path(temp)
        running = await start_hub(hub_config(folder / "hub"), FakeClock())
        token = (folder / "hub" / ADMIN_TOKEN_FILE).read_text().strip()
        channel = admin_channel(f"127.0.0.1:{running.admin_port}", folder / "hub" / HUB_CA_FILE)
        hub = HubClients(running=running, channel=channel, admin_token=token, clock=FakeClock())
        (folder / "taps").mkdir()
        latencies = await measure_taps(hub, folder / "taps", args.taps)
        idle_terminal = await hub.create_terminal("t-idle")
        (folder / "idle").mkdir()
        headless_cpu, headless_rss = await measure_idle(
            running.port, idle_terminal.state_dir, folder / "idle", args.idle_seconds
        )
        with private_xvfb() as display:
            (folder / "idle-window").mkdir()
            window_terminal = idle_terminal.state_dir
            idle_cpu, rss = await measure_idle(
                running.port, window_terminal, folder / "idle-window", args.idle_seconds, display
            )
        await channel.close()
        await running.stop(0)
    p50, p99 = statistics.median(latencies), percentile(latencies, 0.99)
    spread = f"min_ms={min(latencies):.2f} median_ms={p50:.2f} p99_ms={p99:.2f} max_ms={max(latencies):.2f}"
    print(f"taps={len(latencies)} {spread}")
    over = f"of one core over {args.idle_seconds:g} s"
    print(f"idle headless: cpu_pct={headless_cpu:.2f} {over}, rss_mb={headless_rss:.1f}")
    print(f"idle window: cpu_pct={idle_cpu:.2f} {over}, rss_mb={rss:.1f}")
    print(
        f"tap_to_unlock_p50_ms={p50:.2f} tap_to_unlock_p99_ms={p99:.2f} idle_cpu_pct={idle_cpu:.2f} "
        f"rss_mb={rss:.1f} cores={os.cpu_count()}"
    )


if __name__ == "__main__":
    asyncio.run(main())
