"""A hub with its web console and portal on HTTPS (a certificate from the hub's own PKI) and
a browser-like HTTP client that keeps cookies, reads the CSRF token from forms and checks the
server's certificate against the hub CA."""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import aiohttp
import pytest_asyncio

from hub_server.clock import FakeClock
from hub_server.config import HubConfig, WebConfig
from hub_server.pki import PkiConfig, load_material
from hub_server.server import ADMIN_TOKEN_FILE, HUB_CA_FILE, RunningHub, start_hub
from tests.hub_server.conftest import HubClients, admin_channel_of, hub_config

PASSWORD = "correct horse battery"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
LOGIN_TOKEN = re.compile(r'name="login_token" value="([^"]+)"')


@dataclass(frozen=True)
class Tls:
    """How a client trusts the web listener: the CA that issued its certificate."""

    client: ssl.SSLContext
    ca_file: Path


@dataclass(frozen=True)
class ServedTls(Tls):
    """Client side as :class:`Tls`, and the server context a test hands to the web server."""

    server: ssl.SSLContext


def make_tls(directory: Path) -> ServedTls:
    """TLS material made by the hub's PKI (its CA issues the server certificate)."""
    config = PkiConfig(directory=directory)
    load_material(config, FakeClock(time.time_ns() // 1000))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(directory / "server.crt", directory / "server.key")
    client = ssl.create_default_context(cafile=str(directory / "ca.crt"))
    return ServedTls(client, directory / "ca.crt", server)


class Browser:
    """An HTTP client that behaves like a browser on our pages: cookies, the CSRF token of the
    last page it read, the Origin header on posts."""

    def __init__(self, base: str, tls: ssl.SSLContext) -> None:
        self.base = base
        self.session = aiohttp.ClientSession(
            cookie_jar=aiohttp.CookieJar(unsafe=True), connector=aiohttp.TCPConnector(ssl=tls)
        )
        self.csrf = ""

    async def close(self) -> None:
        await self.session.close()

    async def get(self, path: str, **kwargs: Any) -> tuple[int, str]:
        async with self.session.get(
            self.base + path, allow_redirects=kwargs.pop("follow", True), **kwargs
        ) as r:
            text = await r.text(errors="replace")
            found = CSRF.search(text)
            if found:
                self.csrf = found.group(1)
            return r.status, text

    async def get_bytes(self, path: str) -> tuple[int, bytes, str]:
        async with self.session.get(self.base + path) as r:
            return r.status, await r.read(), r.headers.get("Content-Type", "")

    async def post(
        self, path: str, data: dict[str, Any] | aiohttp.FormData, csrf: bool = True, follow: bool = True
    ) -> tuple[int, str]:
        if csrf and isinstance(data, dict):
            data = {"csrf": self.csrf, **data}
        async with self.session.post(
            self.base + path, data=data, allow_redirects=follow, headers={"Origin": self.base}
        ) as r:
            text = await r.text(errors="replace")
            found = CSRF.search(text)
            if found:
                self.csrf = found.group(1)
            return r.status, text

    async def login(self, app: str, name: str, password: str = PASSWORD) -> tuple[int, str]:
        _, page = await self.get(f"/{app}/login")
        token = LOGIN_TOKEN.search(page)
        assert token is not None
        return await self.post(
            f"/{app}/login",
            {"login_token": token.group(1), "username": name, "password": password},
            csrf=False,
        )


@dataclass
class WebSite:
    """A running hub with the web apps, its gRPC admin clients, and a way to open browsers."""

    clients: HubClients
    running: RunningHub
    tls: Tls
    browsers: list[Browser]

    @property
    def base(self) -> str:
        assert self.running.web is not None
        return f"https://127.0.0.1:{self.running.web.port}"

    def browser(self) -> Browser:
        browser = Browser(self.base, self.tls.client)
        self.browsers.append(browser)
        return browser

    async def console_user(self, name: str, role: str) -> None:
        await self.running.hub.console.create_account(name, role, PASSWORD)


def web_config(config: HubConfig, **web: Any) -> HubConfig:
    return replace(config, web=WebConfig(listen="127.0.0.1:0", dashboard_cache_s=0.0, **web))


@pytest_asyncio.fixture
async def site(tmp_path: Path, database_url: str) -> AsyncIterator[WebSite]:
    """The hub as configured by default: the web listener serves the hub's own server
    certificate (the browsers trust the hub CA, as a site's machines would)."""
    config = web_config(hub_config(tmp_path / "hub", database_url))
    clock = FakeClock(time.time_ns() // 1000)
    running = await start_hub(config, clock)
    ca_file = tmp_path / "hub" / HUB_CA_FILE
    tls = Tls(ssl.create_default_context(cafile=str(ca_file)), ca_file)
    token = (tmp_path / "hub" / ADMIN_TOKEN_FILE).read_text().strip()
    channel = admin_channel_of(running)  # the admin port, TLS pinned to the hub CA
    website = WebSite(HubClients(running, channel, token, clock), running, tls, [])
    try:
        yield website
    finally:
        for browser in website.browsers:
            await browser.close()
        await channel.close()
        await running.stop(0)
