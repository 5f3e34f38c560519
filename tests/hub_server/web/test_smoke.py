from __future__ import annotations

import pytest

from tests.hub_server.web.conftest import WebSite

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


async def test_admin_logs_in_and_sees_the_dashboard(site: WebSite) -> None:
    await site.console_user("root", "admin")
    browser = site.browser()
    status, page = await browser.login("console", "root")
    assert status == 200, page
    assert "Dashboard" in page
