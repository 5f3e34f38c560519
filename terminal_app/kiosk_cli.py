"""``printgate kiosk --config kiosk.toml``: run a recharge kiosk.

The kiosk engine (:mod:`terminal_app.core.kiosk`) runs with its acceptors, receipt printer,
card reader (``[reader]``, optional) and cash journal. ``--control ui`` shows the touch window
(``[display]``, as the terminal's). With ``--control stdin`` (the default) intents arrive as JSON
lines on stdin
(``{"intent": "CardPresented", "card_number": "0012"}``, ``{"intent": "StartRecharge"}``…, the
class names of :mod:`terminal_app.core.kiosk_state` with their fields) and every state is
written to stdout as one JSON line: a test harness, a technician's console, or a UI in
another process. SIGTERM/SIGINT finish a recharge, inhibit the acceptors and exit.

kiosk.toml::

    [hub]
    address = "hub.example.org:50051"
    terminal_id = "kiosk-library-1"
    terminal_key = "…"               # or terminal_key_file = "/etc/printgate/kiosk.key"
    deadline_s = 5.0

    [kiosk]
    journal = "/var/lib/printgate/kiosk.db"
    idle_timeout_s = 60              # and every other KioskSettings field

    [printer]                        # optional: no receipts without it
    url = "tcp://10.0.0.9:9100"
    timeout_s = 2.0

    [reader]                         # optional: cards also arrive as intents
    driver = "rdm6300"               # as the terminal's [reader]
    url = "/dev/ttyUSB1"
    convert = ""

    [display]                        # for --control ui, as the terminal's [display]
    width_px = 800
    height_px = 480

    [[acceptor]]
    name = "coin"
    driver = "cctalk"
    url = "/dev/ttyUSB0"
    address = 2
    kind = "coin"                    # other keys go to cash_devices.open_acceptor
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import signal
import sys
import threading
import tomllib
import typing
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, cast

from cash_devices import CashDeviceError, ReceiptPrinter, open_receipt_printer
from reader_drivers import open_reader
from terminal_app.core.errors import ConfigError
from terminal_app.core.kiosk import KioskEngine, KioskSettings
from terminal_app.core.kiosk_devices import AcceptorConfig, OpenAcceptors, open_acceptors
from terminal_app.core.kiosk_hub import KioskHubClient
from terminal_app.core.kiosk_journal import CashJournal
from terminal_app.core.kiosk_state import KioskIntent, KioskState
from terminal_app.core.state import CardPresented

__all__ = ["INTENTS", "KioskConfig", "load_kiosk_config", "parse_intent", "register", "state_json"]

log = logging.getLogger(__name__)

# every intent a kiosk takes, by class name (the terminal's identification intents included)
INTENTS: dict[str, type] = {cls.__name__: cls for cls in typing.get_args(KioskIntent)}
_SETTINGS_FIELDS = {f.name for f in fields(KioskSettings)}


@dataclass(frozen=True)
class KioskConfig:
    """A parsed kiosk.toml."""

    hub_address: str
    terminal_id: str
    terminal_key: str
    journal: Path
    settings: KioskSettings
    acceptors: list[AcceptorConfig]
    printer_url: str = ""
    printer_timeout_s: float = 2.0
    deadline_s: float = 5.0
    reader: dict[str, Any] = dataclasses.field(default_factory=dict)
    display: dict[str, Any] = dataclasses.field(default_factory=dict)


def load_kiosk_config(path: Path) -> KioskConfig:
    """Read kiosk.toml; unknown keys and missing required ones are :class:`ConfigError`."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    hub, kiosk, printer = data.get("hub", {}), dict(data.get("kiosk", {})), data.get("printer", {})
    unknown = set(data) - {"hub", "kiosk", "printer", "acceptor", "reader", "display"}
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {sorted(unknown)}")
    journal = kiosk.pop("journal", "kiosk.db")
    if set(kiosk) - _SETTINGS_FIELDS:
        raise ConfigError(f"{path}: unknown [kiosk] key(s) {sorted(set(kiosk) - _SETTINGS_FIELDS)}")
    if "accept_values_minor" in kiosk:
        kiosk["accept_values_minor"] = tuple(kiosk["accept_values_minor"])
    try:
        return KioskConfig(
            hub_address=hub["address"],
            terminal_id=hub["terminal_id"],
            terminal_key=_terminal_key(hub),
            journal=path.parent / journal,
            settings=KioskSettings(**kiosk),
            acceptors=[_acceptor(table) for table in data.get("acceptor", [])],
            printer_url=printer.get("url", ""),
            printer_timeout_s=float(printer.get("timeout_s", 2.0)),
            deadline_s=float(hub.get("deadline_s", 5.0)),
            reader=dict(data.get("reader", {})),
            display=dict(data.get("display", {})),
        )
    except KeyError as exc:
        raise ConfigError(f"{path}: missing key {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc


def _terminal_key(hub: dict[str, Any]) -> str:
    if "terminal_key_file" in hub:
        return Path(hub["terminal_key_file"]).read_text().strip()
    return str(hub["terminal_key"])


def _acceptor(table: dict[str, Any]) -> AcceptorConfig:
    options = {k: v for k, v in table.items() if k not in ("name", "driver", "url", "address")}
    return AcceptorConfig(table["name"], table["driver"], table["url"], table.get("address"), options)


def parse_intent(line: str) -> KioskIntent:
    """One JSON control line -> an intent; :class:`ValueError` for anything else."""
    data = json.loads(line)
    if not isinstance(data, dict) or not isinstance(data.get("intent"), str):
        raise ValueError("a control line is a JSON object with an 'intent' name")
    name = data.pop("intent")
    cls = INTENTS.get(name)
    if cls is None:
        raise ValueError(f"unknown intent {name!r}")
    hints = typing.get_type_hints(cls)
    if set(data) - set(hints):
        raise ValueError(f"{name} has no field(s) {sorted(set(data) - set(hints))}")
    if name == "EmptyCashBox":
        data["counted"] = _counted(data.get("counted"))
    for field_name, value in data.items():
        expected = hints[field_name]
        if expected in (str, float) and not isinstance(value, expected):
            raise ValueError(f"{name}.{field_name} must be a {expected.__name__}")
    return cast(KioskIntent, cls(**data))


def _counted(value: object) -> tuple[tuple[str, int, int], ...]:
    if not isinstance(value, list):
        raise ValueError("EmptyCashBox.counted must be a list of [kind, value_minor, count]")
    lines = []
    for line in value:
        if not (
            isinstance(line, list)
            and len(line) == 3
            and line[0] in ("coin", "note")
            and all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in line[1:])
        ):
            raise ValueError(f"EmptyCashBox.counted line {line!r} is not [kind, value_minor, count]")
        lines.append((line[0], line[1], line[2]))
    return tuple(lines)


def state_json(state: KioskState) -> str:
    """One state as a JSON line (enums as their values)."""
    return json.dumps(dataclasses.asdict(state), default=str, sort_keys=True)


def register(parser: argparse.ArgumentParser) -> None:
    """Add ``--config``, ``--control`` and ``--log-level``."""
    parser.add_argument("--config", type=Path, required=True, help="kiosk.toml")
    parser.add_argument(
        "--control",
        choices=["stdin", "ui", "none"],
        default="stdin",
        help="stdin: JSON intents in, states out; ui: the touch window; none: devices only",
    )
    parser.add_argument("--log-level", default="WARNING")
    parser.set_defaults(func=_main)


def _main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")
    try:
        config = load_kiosk_config(args.config)
    except ConfigError as exc:
        print(f"printgate kiosk: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(run_kiosk(config, args.control))


async def run_kiosk(config: KioskConfig, control: str) -> int:
    """Open everything, run the engine until a signal (or stdin closes), close in order."""
    journal = CashJournal.open(config.journal)
    hub = KioskHubClient(
        config.hub_address, config.terminal_id, config.terminal_key, deadline_s=config.deadline_s
    )
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
    helpers = [asyncio.create_task(_pump_cards(engine, config.reader))] if config.reader else []
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


async def _pump_cards(engine: KioskEngine, reader_table: dict[str, Any]) -> None:
    """Card reads from the ``[reader]`` become CardPresented intents."""
    options = dict(reader_table)
    reader = open_reader(options.pop("driver"), **options)
    async with reader:
        async for read in reader.reads():
            engine.submit(CardPresented(read.card_number, read.monotonic_s))


async def _window(engine: KioskEngine, display: dict[str, Any]) -> None:
    """The touch window; closing it stops the kiosk."""
    from terminal_app.ui.kiosk_app import serve_kiosk_ui  # Kivy only when a window is wanted
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
    hub: KioskHubClient,
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
