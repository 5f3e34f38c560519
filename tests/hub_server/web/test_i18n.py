"""English and German: the German catalogue has every message the pages use, and a browser
asking for German gets German pages (and money and dates in German form)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hub_server.web import i18n
from tests.hub_server.web.conftest import WebSite

WEB = Path(i18n.__file__).parent
TEMPLATE_MESSAGE = re.compile(r'_\("([^"]+)"\)')
CODE_MESSAGE = re.compile(r'gettext\("([^"]+)"\)')


def test_every_message_of_the_pages_has_a_german_translation() -> None:
    used = {m for t in (WEB / "templates").rglob("*.html") for m in TEMPLATE_MESSAGE.findall(t.read_text())}
    used |= {m for module in WEB.glob("*.py") for m in CODE_MESSAGE.findall(module.read_text())}
    german = i18n.translations("de")
    assert len(used) > 150
    assert sorted(used - set(german)) == []
    assert all(german[m] for m in used)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_browser_asking_for_german_gets_german_pages(site: WebSite) -> None:
    browser = site.browser()
    status, page = await browser.get("/portal/login", headers={"Accept-Language": "de-DE,de;q=0.9,en;q=0.5"})
    assert status == 200 and "Anmelden" in page and "Log in" not in page
    status, page = await browser.get("/console/login", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert status == 200 and "Log in" in page and "Anmelden" not in page
    await site.console_user("root", "admin")
    await browser.login("console", "root")
    await browser.post("/console/language", {"language": "de"})
    status, page = await browser.get("/console/")
    assert status == 200 and "<h1>Übersicht</h1>" in page and "Seiten diesen Monat" in page
