"""``printgate kiosk --config kiosk.toml``: run a recharge kiosk; ``printgate kiosk enroll --token
TOKEN [--config kiosk.toml | --state-dir DIR]``: get its certificate first
(:mod:`terminal_app.hub.enrollment.command`).

The kiosk engine (:mod:`terminal_app.kiosk.engine`) runs with its acceptors, receipt printer,
card reader (``[reader]``, optional) and cash journal (:mod:`terminal_app.kiosk.config` for the file).
``--control ui`` shows the touch window (``[display]``, as the terminal's). With ``--control stdin``
(the default) intents arrive as JSON lines on stdin and every state is written to stdout as one
JSON line (:mod:`terminal_app.kiosk.control`): a test harness, a technician's console, or a UI in
another process. Under systemd it reports ready at its first idle screen and feeds the watchdog
from its loop, as the terminal does (:mod:`terminal_app.session.service`). SIGTERM/SIGINT finish
a recharge, inhibit the acceptors and exit.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from cash_devices import CashDeviceError, ReceiptPrinter, open_receipt_printer
from reader_drivers import open_reader
from terminal_app.errors import ConfigError, ReenrollRequired
from terminal_app.hub import HubClient
from terminal_app.hub.enrollment import DeviceEnrollment
from terminal_app.hub.enrollment.command import add_enroll_action
from terminal_app.hub.renewal import CertificateRenewal
from terminal_app.kiosk.config import KioskConfig, load_kiosk_config
from terminal_app.kiosk.control import parse_intent, state_json
from terminal_app.kiosk.engine import KioskEngine
from terminal_app.kiosk.journal import CashJournal
from terminal_app.kiosk.state import KioskScreen, KioskState
from terminal_app.kiosk.wiring import OpenAcceptors, open_acceptors
from terminal_app.session.reader import pump_cards
from terminal_app.session.service import ServiceReport, service_manager, watchdog

__all__ = ["describe", "register", "run_kiosk"]

log = logging.getLogger(__name__)


DEFAULT_STATE_DIR = Path("identity")  # what a kiosk.toml here without [hub] state_dir uses


def register(parser: argparse.ArgumentParser) -> None:
    """Add ``--config``, ``--control`` and ``--log-level``, and the ``enroll`` action."""
    parser.add_argument("--config", type=Path, help="kiosk.toml")
    parser.add_argument(
        "--control",
        choices=["stdin", "ui", "none"],
        default="stdin",
        help="stdin: JSON intents in, states out; ui: the touch window; none: devices only",
    )
    parser.add_argument("--log-level", default="WARNING")
    parser.set_defaults(func=_main)
    actions = parser.add_subparsers(dest="action", metavar="ACTION")
    add_enroll_action(actions, "kiosk", lambda path: load_kiosk_config(path).identity_dir, DEFAULT_STATE_DIR)


def _main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    if args.config is None:
        print("printgate kiosk: give --config kiosk.toml (or the enroll action)", file=sys.stderr)
        return 2
    try:
        config = load_kiosk_config(args.config)
    except ConfigError as exc:
        print(f"printgate kiosk: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(run_kiosk(config, args.control))


async def run_kiosk(config: KioskConfig, control: str) -> int:
    """Open everything, run the engine until a signal (or stdin closes), close in order."""
    enrollment = DeviceEnrollment(config.identity_dir, "kiosk")
    credentials = enrollment.store.current()
    if credentials is None or credentials.kind != "kiosk":
        error = ReenrollRequired(f"this kiosk is not enrolled (no kiosk identity in {config.identity_dir})")
        print(
            f"printgate kiosk: {error}: printgate kiosk enroll --token TOKEN --config kiosk.toml",
            file=sys.stderr,
        )
        return 1
    journal = CashJournal.open(config.journal)
    hub = HubClient(credentials, address=config.hub_address, deadline_s=config.deadline_s)
    renewal = CertificateRenewal(enrollment, hub.channel, check_s=config.renew_check_s)
    printer = None
    if config.printer_url:
        printer = open_receipt_printer(config.printer_url, timeout_s=config.printer_timeout_s)
    try:
        devices = await open_acceptors(config.acceptors, journal)
    except CashDeviceError as exc:  # nothing takes money: say why and stop (systemd restarts us)
        print(f"printgate kiosk: cannot open the acceptors: {exc}", file=sys.stderr)
        await hub.close()
        journal.close()
        return 1
    engine = KioskEngine(
        hub=hub, acceptors=devices.slots, journal=journal, printer=printer, settings=config.settings
    )
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: asyncio.ensure_future(engine.close()))
    if control == "stdin":
        engine.subscribe(lambda state: print(state_json(state), flush=True))
        threading.Thread(target=_read_intents, args=(engine, loop), daemon=True).start()
    manager = service_manager()
    engine.subscribe(ServiceReport[KioskState](manager, describe, _idle))
    helpers = [
        asyncio.create_task(watchdog(manager)),
        asyncio.create_task(renewal.run(), name="certificate-renewal"),
    ]
    if config.reader:
        helpers.append(asyncio.create_task(_pump_cards(engine, config.reader)))
    if control == "ui":
        helpers.append(asyncio.create_task(_window(engine, config.display)))
    try:
        await engine.run()
    finally:
        for task in helpers:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await _shutdown(engine, devices, hub, printer, journal)
    return 0


def describe(state: KioskState) -> str:
    """One status line for a state (what systemd and the technician's console show)."""
    parts = [f"screen={state.screen}"]
    if state.username:
        parts.append(f"user={state.username}")
    if state.recharge_total_minor or state.pending_minor:
        parts.append(f"recharge={state.recharge_total_minor} pending={state.pending_minor}")
    if state.offline:
        parts.append("offline")
    if state.device_alarms:
        parts.append(f"alarms={len(state.device_alarms)}")
    return " ".join(parts)


def _idle(state: KioskState) -> bool:
    return state.screen is KioskScreen.IDLE


async def _pump_cards(engine: KioskEngine, reader_table: dict[str, Any]) -> None:
    """Card reads from the ``[reader]`` become CardPresented intents."""
    options = dict(reader_table)
    reader = open_reader(options.pop("driver"), **options)
    async with reader:
        await pump_cards(reader, engine.submit)


async def _window(engine: KioskEngine, display: dict[str, Any]) -> None:
    """The touch window; closing it stops the kiosk."""
    from terminal_app.kiosk.ui.app import serve_kiosk_ui  # Kivy only when a window is wanted
    from terminal_app.ui.settings import UiSettings

    try:
        await serve_kiosk_ui(engine, UiSettings.from_mapping(display))
    finally:
        await engine.close()


def _read_intents(engine: KioskEngine, loop: asyncio.AbstractEventLoop) -> None:
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            intent = parse_intent(line)
        except (ValueError, TypeError) as exc:
            print(json.dumps({"error": f"bad control line: {exc}"}), file=sys.stderr, flush=True)
            continue
        loop.call_soon_threadsafe(engine.submit, intent)
    loop.call_soon_threadsafe(lambda: asyncio.ensure_future(engine.close()))


async def _shutdown(
    engine: KioskEngine,
    devices: OpenAcceptors,
    hub: HubClient,
    printer: ReceiptPrinter | None,
    journal: CashJournal,
) -> None:
    await engine.close()
    await devices.close()
    await hub.close()
    if printer is not None:
        with contextlib.suppress(Exception):
            printer.close()
    journal.close()
