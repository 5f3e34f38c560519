"""Bad input and the wrong people: every route needs a session (the router is crawled), roles
are checked on the server, CSRF on every change, names with HTML are shown escaped, uploads
are bounded in size and type, logins are rate-limited and lock, report ranges are bounded,
and every answer carries the security headers."""

from __future__ import annotations

import asyncio
import re
import ssl
from typing import ClassVar

import aiohttp
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from hub_server.domain.users import UserRecord, UserRef
from hub_server.server import PKI_DIR
from hub_server.web.app import build_app
from hub_server.web.security import is_public
from tests.hub_server.web.conftest import PASSWORD, WebSite

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PUBLIC = {
    ("GET", "/console/login"),
    ("POST", "/console/login"),
    ("GET", "/portal/login"),
    ("POST", "/portal/login"),
    ("GET", "/scans/{token}"),  # only sends the browser to /portal/scans/<token>, behind the login
}


def _routes(site: WebSite) -> list[tuple[str, str, object]]:
    """Every (method, path, handler) of the apps, sub-applications included."""
    assert site.running.web is not None
    root = build_app(site.running.web.context)
    found: list[tuple[str, str, object]] = []
    for resource in root.router.resources():
        app = getattr(resource, "_app", None)
        if app is not None:  # a mounted sub-application
            for route in app.router.routes():
                path = route.resource.canonical if route.resource else ""
                found.append((route.method, path, route.handler))
        else:
            for route in resource:
                found.append((route.method, resource.canonical, route.handler))
    return found


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", lambda m: "1" if "\\d" in m.group(0) or "id" in m.group(0) else "alice", path)


async def test_every_route_needs_a_session(site: WebSite) -> None:
    routes = _routes(site)
    assert len(routes) > 40
    anonymous = site.browser()
    checked = 0
    for method, path, handler in routes:
        if method == "HEAD" or path.startswith("/static") or path == "/":
            continue
        if (method, path) in PUBLIC:
            assert is_public(handler)
            continue
        assert not is_public(handler), path
        url = _concrete(path)
        async with anonymous.session.request(
            method, anonymous.base + url, allow_redirects=False, data={"csrf": "x"}
        ) as response:
            if method == "GET" and "/api/" not in url:
                assert response.status == 302, (method, url)
                assert response.headers["Location"].split("?")[0] in ("/console/login", "/portal/login")
            else:
                assert response.status == 401, (method, url, response.status)
        checked += 1
    assert checked > 35


async def test_a_portal_session_opens_nothing_in_the_console(site: WebSite) -> None:
    await site.running.hub.users.create(UserRecord("alice"), PASSWORD)
    browser = site.browser()
    status, _ = await browser.login("portal", "alice")
    assert status == 200
    status, _ = await browser.get("/console/", follow=False)
    assert status == 302  # the portal's cookie is not the console's


async def test_roles_are_checked_on_the_server(site: WebSite) -> None:
    await site.console_user("helen", "helpdesk")
    await site.console_user("audrey", "auditor")
    await site.running.hub.users.create(UserRecord("alice"))
    helpdesk = site.browser()
    await helpdesk.login("console", "helen")
    await helpdesk.get("/console/prices")
    status, _ = await helpdesk.post(
        "/console/prices", {"function": "print", "color": "mono", "price": "9.99"}
    )
    assert status == 403
    assert all(p.price_cents_per_page == 0 for p in site.running.hub.prices.all())
    status, _ = await helpdesk.post("/console/users/alice/adjust", {"amount": "5", "reason": "welcome"})
    assert status == 200  # helpdesk may adjust credit
    auditor = site.browser()
    await auditor.login("console", "audrey")
    await auditor.get("/console/users/alice")
    status, _ = await auditor.post("/console/users/alice/adjust", {"amount": "5", "reason": "x"})
    assert status == 403
    status, _ = await auditor.post(
        "/console/accounts", {"username": "eve", "role": "admin", "password": PASSWORD}
    )
    assert status == 403
    status, page = await auditor.get("/console/audit")
    assert status == 200 and "user.adjust" in page and "helen" in page
    status, _ = await helpdesk.get("/console/audit")
    assert status == 403
    assert [a.username for a in site.running.hub.console.accounts()] == ["audrey", "helen"]


async def test_every_change_needs_the_csrf_token(site: WebSite) -> None:
    await site.console_user("root", "admin")
    await site.running.hub.users.create(UserRecord("alice"))
    browser = site.browser()
    await browser.login("console", "root")
    await browser.get("/console/users/alice")
    for token in ("", "forged", browser.csrf[:-1] + "x"):
        status, _ = await browser.post(
            "/console/users/alice/adjust", {"csrf": token, "amount": "50", "reason": "r"}, csrf=False
        )
        assert status == 403
    async with browser.session.post(  # the right token from another site's page
        browser.base + "/console/users/alice/adjust",
        data={"csrf": browser.csrf, "amount": "50", "reason": "r"},
        headers={"Origin": "https://evil.example"},
    ) as response:
        assert response.status == 403
    alice = site.running.hub.accounts.all(UserRef(username="alice"))
    assert [(a.name, a.balance_cents) for a in alice] == [("user:alice", 0)]
    # the login form has its own double-submit token
    status, _ = await browser.post(
        "/console/login", {"login_token": "x", "username": "root", "password": PASSWORD}, csrf=False
    )
    assert status == 403


async def test_names_with_html_are_shown_escaped(site: WebSite) -> None:
    await site.console_user("root", "admin")
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    await site.running.hub.users.create(UserRecord("mallory", full_name=evil[:120], department="<b>dept</b>"))
    browser = site.browser()
    await browser.login("console", "root")
    for path in (
        "/console/users?q=mall",
        "/console/users/mallory",
        "/console/groups",
        "/console/reports?by=department",
    ):
        status, page = await browser.get(path)
        assert status == 200
        assert "<script>alert" not in page and "<img src=x" not in page and "<b>dept</b>" not in page, path
    status, page = await browser.get("/console/users/mallory")
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    async with browser.session.get(browser.base + "/console/api/users?q=mall") as response:
        assert response.content_type == "application/json"
        assert (await response.json())[0]["full_name"] == evil[:120]  # JSON, rendered with textContent


async def test_answers_carry_the_security_headers(site: WebSite) -> None:
    browser = site.browser()
    for path in ("/console/login", "/portal/login", "/console/nowhere", "/static/app.css"):
        async with browser.session.get(browser.base + path, allow_redirects=False) as response:
            headers = response.headers
            assert "script-src 'self'" in headers["Content-Security-Policy"]
            assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
            assert "unsafe-inline" not in headers["Content-Security-Policy"]
            assert headers["X-Frame-Options"] == "DENY"
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert headers["Referrer-Policy"] == "same-origin"
            assert headers["Strict-Transport-Security"].startswith("max-age=")
    await site.console_user("root", "admin")
    await browser.login("console", "root")
    cookie = next(c for c in browser.session.cookie_jar if c.key == "pg_console")
    assert (
        cookie["httponly"]
        and cookie["secure"]
        and cookie["samesite"] == "Strict"
        and cookie["path"] == "/console/"
    )


async def test_logins_are_rate_limited_and_lock(site: WebSite) -> None:
    await site.console_user("root", "admin")
    browser = site.browser()
    statuses = [(await browser.login("console", "root", "wrong password"))[0] for _ in range(5)]
    assert statuses == [401] * 5
    status, page = await browser.login("console", "root")  # the right password, but locked now
    assert status == 403 and "locked" in page
    await site.running.hub.console.unlock("root")
    flood = site.browser()
    statuses = [(await flood.login("console", "nobody", "x" * 8))[0] for _ in range(6)]
    assert 429 in statuses  # 10 a minute from one address: 5 + 1 + 6 > 10


async def test_report_ranges_are_validated(site: WebSite) -> None:
    await site.console_user("root", "admin")
    browser = site.browser()
    await browser.login("console", "root")
    for query in (
        "first=2020-01-01&last=2026-01-01",
        "first=2026-02-01&last=2026-01-01",
        "first=yesterday",
        "kind=../etc",
        "by=1;drop",
    ):
        status, _ = await browser.get(f"/console/reports?{query}")
        assert status == 400, query
    status, _ = await browser.get("/console/reports/export?format=exe")
    assert status == 400
    status, body, kind = await browser.get_bytes(
        "/console/reports/export?format=csv&first=2026-01-01&last=2026-12-31"
    )
    assert status == 200 and kind.startswith("text/csv") and body.startswith(b"\xef\xbb\xbf")


async def test_uploads_are_bounded_in_type_and_size(site: WebSite) -> None:
    await site.running.hub.users.create(UserRecord("alice"), PASSWORD)
    browser = site.browser()
    await browser.login("portal", "alice")

    async def upload(data: bytes, name: str, csrf: str | None) -> int:
        form = aiohttp.FormData()
        if csrf is not None:
            form.add_field("csrf", csrf)
        form.add_field("document", data, filename=name, content_type="application/pdf")
        async with browser.session.post(
            browser.base + "/portal/print", data=form, headers={"Origin": browser.base}, allow_redirects=False
        ) as response:
            return response.status

    # this site has no print intake: web print is refused before anything is read
    assert await upload(b"%PDF-1.4\n", "a.pdf", browser.csrf) == 409
    assert site.running.web is not None
    site.running.web.context.uploads = _Refusing()
    assert await upload(b"%PDF-1.4\n", "a.pdf", None) == 403
    assert await upload(b"%PDF-1.4\n", "a.pdf", "forged") == 403
    assert await upload(b"MZ\x90\x00 an executable", "a.pdf", browser.csrf) == 415
    assert await upload(b"%!PS-Adobe-3.0\n", "a.ps", browser.csrf) == 415
    assert await upload(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "broken.png", browser.csrf) == 415
    site.running.web.context.config = type(site.running.web.context.config)(
        listen="127.0.0.1:0", upload_mb_max=1
    )
    assert await upload(b"%PDF-1.4\n" + b"0" * (1024 * 1024 + 10), "big.pdf", browser.csrf) == 413
    assert _Refusing.received == []


class _Refusing:
    """Stands in for intake where a test must show that nothing reaches it."""

    received: ClassVar[list[str]] = []

    async def submit(self, username: str, job_name: str, document_format: str, chunks: object) -> int:
        async for chunk in chunks:  # type: ignore[attr-defined]
            del chunk
        type(self).received.append(job_name)
        return 1


async def test_only_admins_schedule_reports_and_each_schedule_is_audited(site: WebSite) -> None:
    await site.console_user("root", "admin")
    await site.console_user("helen", "helpdesk")
    form = {"kind": "usage", "by": "department", "period": "month", "format": "xlsx"}
    helpdesk = site.browser()
    await helpdesk.login("console", "helen")
    status, page = await helpdesk.get("/console/schedules")
    assert status == 200 and 'action="/console/schedules"' not in page  # reads, has no form
    status, _ = await helpdesk.post("/console/schedules", {**form, "recipients": "finance@example.test"})
    assert status == 403
    admin = site.browser()
    await admin.login("console", "root")
    await admin.get("/console/schedules")
    status, _ = await admin.post("/console/schedules", {**form, "recipients": "<b>x</b>@example.test"})
    assert status == 400
    status, page = await admin.post("/console/schedules", {**form, "recipients": "finance@example.test"})
    assert status == 200 and "finance@example.test" in page and "No mail server is set" in page
    (schedule,) = site.running.hub.report_schedules.schedules()
    status, _ = await helpdesk.post(f"/console/schedules/{schedule.schedule_id}/delete", {})
    assert status == 403
    status, _ = await admin.post(f"/console/schedules/{schedule.schedule_id}/delete", {})
    assert status == 200 and site.running.hub.report_schedules.schedules() == []
    actions = [e.action for e in site.running.hub.console.audit_log()]
    assert actions[:2] == ["report.unschedule", "report.schedule"]


async def test_the_web_listener_serves_the_hubs_server_certificate_by_default(site: WebSite) -> None:
    """No ``[web] tls_cert_file``: HTTPS with the certificate the hub's PKI issued its gRPC and
    IPPS listeners (the one whose SANs the site configured), not plain HTTP."""
    assert site.running.web is not None
    port = site.running.web.port
    served = await asyncio.to_thread(ssl.get_server_certificate, ("127.0.0.1", port))
    issued = x509.load_pem_x509_certificate((site.tls.ca_file.parent / PKI_DIR / "server.crt").read_bytes())
    assert ssl.PEM_cert_to_DER_cert(served) == issued.public_bytes(serialization.Encoding.DER)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)  # plain HTTP is not spoken
    writer.write(b"GET /console/ HTTP/1.1\r\nHost: x\r\n\r\n")
    await writer.drain()
    assert not (await reader.read(100)).startswith(b"HTTP/")
    writer.close()
