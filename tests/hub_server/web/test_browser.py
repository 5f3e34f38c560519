"""The console and the portal as people use them, in a real browser: Debian's chromium driven by
Playwright over HTTPS. Chromium trusts exactly the hub's server key (its SPKI pin), nothing
else. With ``PRINTGATE_SCREENS_DIR`` set, the main pages are photographed there
(docs/screens/web_*.png come from this run)."""

from __future__ import annotations

import base64
import hashlib
import io
import os
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import openpyxl
import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from playwright.async_api import Browser, Page, async_playwright, expect
from printgate.v1 import admin_pb2, common_pb2, terminal_pb2
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen.canvas import Canvas

from hub_server.config import WebConfig
from hub_server.domain.uploads import PrintUploads
from hub_server.domain.users import UserRef
from hub_server.web import start_web
from tests.hub_server.test_release_site import open_site
from tests.hub_server.web.conftest import PASSWORD, WebSite, make_tls

pytestmark = [pytest.mark.slow, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _spki_pin(certificate: Path) -> str:
    leaf = x509.load_pem_x509_certificates(certificate.read_bytes())[0]
    spki = leaf.public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


@pytest_asyncio.fixture
async def chromium(tmp_path: Path) -> AsyncIterator[tuple[Browser, Path]]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail("chromium is not installed (scripts/setup.sh installs it)")
    pki = tmp_path / "browser-pki"
    make_tls(pki)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[*FLAGS, f"--ignore-certificate-errors-spki-list={_spki_pin(pki / 'server.crt')}"],
        )
        try:
            yield browser, pki
        finally:
            await browser.close()


async def _shot(page: Page, name: str) -> None:
    directory = os.environ.get("PRINTGATE_SCREENS_DIR")
    if directory:
        await page.screenshot(path=str(Path(directory) / f"web_{name}.png"), full_page=True)


async def _login(page: Page, base: str, app: str, name: str, password: str = PASSWORD) -> None:
    await page.goto(f"{base}/{app}/login")
    await page.fill("input[name=username]", name)
    await page.fill("input[name=password]", password)
    await page.click("button[type=submit]")


async def test_admin_creates_a_user_adjusts_credit_and_finds_it_in_ledger_report_and_export(
    tmp_path: Path, database_url: str, chromium: tuple[Browser, Path]
) -> None:
    browser, pki = chromium
    async with open_site(tmp_path / "site", database_url) as print_site:
        running = print_site.running
        tls = make_tls(pki)
        web = await start_web(
            running.hub, WebConfig(listen="127.0.0.1:0", dashboard_cache_s=0.0), "127.0.0.1", 0, tls.server
        )
        base = f"https://127.0.0.1:{web.port}"
        try:
            await running.hub.console.create_account("root", "admin", PASSWORD)
            context = await browser.new_context(
                accept_downloads=True, viewport={"width": 1280, "height": 900}
            )
            page = await context.new_page()
            await _login(page, base, "console", "root")
            await expect(page.locator("h1")).to_have_text("Dashboard")
            # a new user, with the form
            await page.click("text=Users")
            await page.click("text=New user")
            await page.fill("input[name=username]", "carol")
            await page.fill("input[name=full_name]", "Carol Jones")
            await page.fill("input[name=department]", "Physics")
            await page.click("button[type=submit]")
            await expect(page.locator("h1")).to_contain_text("carol")
            # credit, with a reason
            await page.fill("#adjust input[name=amount]", "12.50")
            await page.fill("#adjust input[name=reason]", "welcome credit")
            await page.click("#adjust button")
            await expect(page.locator("#balance")).to_have_text("€12.50")
            await expect(page.locator("#ledger")).to_contain_text("welcome credit")
            await expect(page.locator("#ledger")).to_contain_text("€12.50")
            # she copies at the terminal: it shows on the dashboard and in the usage report
            await print_site.clients.call_admin(
                "AddCard", admin_pb2.Card(user=admin_pb2.UserRef(username="carol"), number="C-CAROL")
            )
            token = (await print_site.terminal.tap("C-CAROL")).session_token
            await print_site.clients.set_price(common_pb2.FUNCTION_COPY, common_pb2.COLOR_MODE_MONO, 10)
            await print_site.terminal.report(token, "copy-1", 7, performed=True)
            # search as you type finds her
            await page.click("text=Users")
            await page.fill("input[type=search]", "car")
            await expect(page.locator("#results tbody tr")).to_have_count(1)
            await expect(page.locator("#results")).to_contain_text("Carol Jones")
            await _shot(page, "users")
            await page.click("#results a")
            await _shot(page, "user")
            await page.goto(f"{base}/console/reports?kind=usage&by=user")
            await expect(page.locator("#report")).to_contain_text("carol")
            await _shot(page, "report")
            await page.goto(f"{base}/console/reports?kind=cash")
            await expect(page.locator("#report")).to_contain_text("Adjustments by admins")
            # carol's 12.50 and the 5.00 the site gave alice this month
            await expect(page.locator("#ledger-adjustments")).to_have_text("€17.50")
            async with page.expect_download() as download_info:
                await page.click("a.button:text('XLSX')")
            download = await download_info.value
            workbook = openpyxl.load_workbook(io.BytesIO(Path(await download.path()).read_bytes()))
            sheet = workbook.active
            assert sheet is not None
            rows = {row[0]: row for row in sheet.iter_rows(values_only=True) if row and row[0]}
            period = running.hub.reports.period(*_this_month(running.hub.clock.now_us()))
            ledger = running.hub.reports.ledger_totals(period)
            credited = [c.value for c in sheet[3]].index("Credited in all")
            assert (
                round(float(str(rows["Adjustments by admins"][credited])) * 100) == ledger.adjustments_cents
            )
            start_credit = 500  # alice's, from the site
            assert ledger.adjustments_cents == 1250 + start_credit
            await page.goto(f"{base}/console/")
            await expect(page.locator(".tiles")).to_contain_text("7")
            await _shot(page, "dashboard")
            await context.close()
        finally:
            await web.close()


def _this_month(now_us: int) -> tuple[str, str]:
    import calendar
    from datetime import UTC, datetime

    today = datetime.fromtimestamp(now_us / 1_000_000, UTC).date()
    last = calendar.monthrange(today.year, today.month)[1]
    return today.replace(day=1).isoformat(), today.replace(day=last).isoformat()


async def test_helpdesk_cannot_change_prices(site: WebSite, chromium: tuple[Browser, Path]) -> None:
    browser, pki = chromium
    # the site's server certificate is pinned: restart its web listener with the pinned key
    assert site.running.web is not None
    await site.running.web.close()
    tls = make_tls(pki)
    site.running.web = await start_web(
        site.running.hub, WebConfig(listen="127.0.0.1:0", dashboard_cache_s=0.0), "127.0.0.1", 0, tls.server
    )
    await site.console_user("helen", "helpdesk")
    page = await browser.new_page()
    await _login(page, site.base, "console", "helen")
    await page.goto(f"{site.base}/console/prices")
    await expect(page.locator("main")).to_contain_text("Only admins change prices.")
    assert await page.locator("#set-price").count() == 0
    # the form is not there; a request made by hand with her CSRF token is refused by the server
    csrf = await page.locator("input[name=csrf]").first.get_attribute("value")
    status = await page.evaluate(
        """async (csrf) => (await fetch("/console/prices", {method: "POST",
             body: new URLSearchParams({csrf, function: "print", color: "mono", price: "1.00"})})).status""",
        csrf,
    )
    assert status == 403
    assert all(p.price_cents_per_page == 0 for p in site.running.hub.prices.all())
    await page.close()


def _pdf(path: Path) -> Path:
    """Two A4 pages: colour on the first, text on the second."""
    canvas = Canvas(str(path), pagesize=A4)
    canvas.setFillColorRGB(1, 0, 0)
    canvas.rect(72, 72, 200, 200, fill=1)
    canvas.showPage()
    canvas.setFillGray(0)  # grey, not RGB black: Ghostscript's inkcov sees RGB black as a trace of colour
    canvas.drawString(72, 700, "page two")
    canvas.showPage()
    canvas.save()
    return path


async def test_a_user_prints_from_the_browser_and_releases_at_the_terminal(
    tmp_path: Path, database_url: str, chromium: tuple[Browser, Path]
) -> None:
    browser, pki = chromium
    async with open_site(tmp_path / "site", database_url, credit_cents=500) as print_site:
        running = print_site.running
        assert running.printing is not None
        await running.hub.users.set_password(UserRef(username="alice"), PASSWORD)
        tls = make_tls(pki)
        web = await start_web(
            running.hub,
            replace(WebConfig(listen="127.0.0.1:0", dashboard_cache_s=0.0)),
            "127.0.0.1",
            0,
            tls.server,
            uploads=PrintUploads(running.printing.intake.service),
        )
        base = f"https://127.0.0.1:{web.port}"
        try:
            context = await browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
            page = await context.new_page()
            await _login(page, base, "portal", "alice")
            await expect(page.locator("#balance")).to_have_text("€5.00")
            await page.set_input_files("input[name=document]", str(_pdf(tmp_path / "report.pdf")))
            await page.click("form.upload button")
            await expect(page.locator("p.ok")).to_contain_text("held")
            await running.printing.intake.service.wait_idle()
            await page.reload()
            job = page.locator("li.job")
            await expect(job).to_have_count(1)
            # 1 colour page at 50 + 1 mono page at 10 (the site's prices)
            await expect(job.locator(".price")).to_have_text("€0.60")
            await expect(job).to_contain_text("2 pages, 1 in colour")
            width = await job.locator("img").evaluate("(image) => image.complete ? image.naturalWidth : 0")
            assert width > 0  # the thumbnail loaded (a PNG of page 1)
            await _shot(page, "portal")
            # at the printer: tap, release everything
            token = await print_site.session("c-alice")
            progress = await print_site.release(token, str(uuid.uuid4()), release_all=True)
            assert [p.state for p in progress][-1] == terminal_pb2.RELEASE_STATE_PRINTED
            await page.reload()
            await expect(page.locator("#balance")).to_have_text("€4.40")
            await expect(page.locator("#history")).to_contain_text("print job")
            await expect(page.locator("#history")).to_contain_text("-€0.60")
            assert await print_site.clients.balance("alice") == 440
            # the same page in German, as a user who switches language sees it
            await page.click("button[name=language][value=de]")
            await expect(page.locator("html")).to_have_attribute("lang", "de")
            await expect(page.locator("h2").first).to_have_text("Guthaben")
            await expect(page.locator("#balance")).to_contain_text("4,40")
            await _shot(page, "portal_de")
            await context.close()
        finally:
            await web.close()
