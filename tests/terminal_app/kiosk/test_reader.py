"""``printgate kiosk`` with a ``[reader]``: a card tapped on a real serial reader driver (against
the simulated RDM6300 on a pty) identifies the user at the kiosk process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest_asyncio
from printgate.v1 import admin_pb2

from hw_sim.readers.serial_sim import SerialReaderSim
from tests.hub_server.conftest import HubClients
from tests.terminal_app.kiosk.rig import seed_kiosk_site, wait_for
from tests.terminal_app.kiosk.test_crash import KioskProcess, Site, StallProxy

READER_CARD = "04A1B2C3D4"


@pytest_asyncio.fixture
async def reader_site(hub: HubClients, tmp_path: Path) -> AsyncIterator[tuple[Site, SerialReaderSim]]:
    terminal = await seed_kiosk_site(hub)
    await hub.call_admin(
        "AddCard", admin_pb2.Card(user=admin_pb2.UserRef(username="alice"), number=READER_CARD)
    )
    proxy = await StallProxy(hub.running.port).start()
    site = Site(hub, tmp_path, proxy, terminal.state_dir)
    reader = SerialReaderSim("rdm6300", str(tmp_path / "reader-tty")).start()
    config = tmp_path / "kiosk.toml"
    config.write_text(config.read_text() + f'\n[reader]\ndriver = "rdm6300"\nurl = "{reader.path}"\n')
    site.kiosk = KioskProcess(tmp_path, config)
    yield site, reader
    site.close()
    reader.close()
    await proxy.close()


async def test_a_card_on_the_kiosks_reader_logs_its_user_in(
    reader_site: tuple[Site, SerialReaderSim],
) -> None:
    site, reader = reader_site
    site.kiosk.start()
    await site.kiosk.wait_screen("idle")
    reader.tap(READER_CARD)
    await site.kiosk.wait_screen("home")
    state = site.kiosk.state()
    assert (state["username"], state["balance_minor"]) == ("alice", 0)
    await wait_for(lambda: not site.coins.master_accepting, "the acceptor inhibited", 10)
