"""reboot and install_update through the device's root service: the app's request client
(terminal_app.session.device_ops) and the root side's processor (images.guest.device_requests)
together, over real files, a real HTTPS server with a certificate of the hub's PKI, and fake
``rauc`` and ``systemctl`` (they need a booted image: tests/device_ops_rig.py says more)."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from pathlib import Path

import pytest
from printgate.device_requests import (
    DOWNLOADS,
    REQUESTS,
    RESULTS,
    DeviceRequest,
    RequestError,
    encode_request,
    file_name,
    parse_request,
    parse_result,
)

from images.guest.device_requests import RequestProcessor
from images.guest.layout import Layout
from terminal_app.session.device_ops import UPDATE_UNDER_WAY
from terminal_app.session.fleet import DeviceCommands, DeviceHooks, FleetSettings, device_ops
from terminal_app.telemetry import CommandResult
from tests.hub_server.web.conftest import ServedTls, make_tls
from tests.terminal_app.device_ops_rig import BundleServer, DeviceSide, device_side
from tests.terminal_app.identity import install_self_signed_identity

BUNDLE = b"signed bundle " * 300  # 4,200 bytes
BUNDLE_SHA256 = hashlib.sha256(BUNDLE).hexdigest()
ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def tls(tmp_path: Path) -> ServedTls:
    return make_tls(tmp_path / "pki")


@pytest.fixture
def device(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tls: ServedTls) -> DeviceSide:
    return device_side(tmp_path, monkeypatch, tls.ca_file, max_bundle_bytes=10_000, reserve_bytes=0)


@pytest.fixture
def server(tls: ServedTls) -> BundleServer:
    return BundleServer(tls.server, {"/b/1.1.raucb": BUNDLE})


def assert_nothing_left(device: DeviceSide) -> None:
    for name in ("staging", REQUESTS, DOWNLOADS, RESULTS, "updates"):
        assert device.entries(name) == [], name
    assert not (device.ops.directory / UPDATE_UNDER_WAY).exists()


async def test_reboot_is_answered_after_the_restart_and_reboots_the_machine(device: DeviceSide) -> None:
    async with device.root_service():
        result = await device.ops.reboot()
    assert (result.status, result.restart_pending, result.detail) == ("accepted", True, "rebooting in 0 s")
    assert result.expect_version is None
    assert device.systemctl.calls == [{"argv": ["reboot"]}]
    assert device.rauc.calls == []
    assert_nothing_left(device)


async def test_an_update_is_downloaded_checked_installed_and_rebooted_into(
    device: DeviceSide, server: BundleServer
) -> None:
    with server.running():
        async with device.root_service():
            result = await device.ops.install_update(server.url("/b/1.1.raucb"), "1.1", BUNDLE_SHA256)
    assert (result.status, result.restart_pending, result.expect_version) == ("accepted", True, "1.1")
    assert result.detail == "installed 1.1; rebooting in 0 s (4200 bytes)"
    [install] = device.rauc.calls
    assert install["argv"][0] == "install" and install["sha256"] == BUNDLE_SHA256
    # rauc read the bundle from root's own directory, out of the app's reach
    assert Path(install["argv"][1]).parent == device.layout.updates
    assert device.systemctl.calls == [{"argv": ["reboot"]}]
    assert_nothing_left(device)  # the bundle is removed once installed


async def test_a_bundle_already_on_the_device_is_installed_from_file_url(
    device: DeviceSide, tmp_path: Path
) -> None:
    local = tmp_path / "usb" / "update 1.1.raucb"
    local.parent.mkdir()
    local.write_bytes(BUNDLE)
    async with device.root_service():
        result = await device.ops.install_update(local.as_uri(), "1.1", BUNDLE_SHA256)
    assert (result.status, result.expect_version) == ("accepted", "1.1")
    assert [call["sha256"] for call in device.rauc.calls] == [BUNDLE_SHA256]
    assert local.read_bytes() == BUNDLE  # the original is left where it was


async def test_a_refused_install_reports_raucs_reason_and_removes_the_bundle(
    device: DeviceSide, server: BundleServer
) -> None:
    device.rauc.fail(
        1,
        "rauc-Message: installing /data/updates/x.raucb\n"
        "LastError: Failed verifying signature: signature not valid\n"
        "Installing `/data/updates/x.raucb` failed\n",
    )
    with server.running():
        async with device.root_service():
            result = await device.ops.install_update(server.url("/b/1.1.raucb"), "1.1", BUNDLE_SHA256)
    assert (result.status, result.restart_pending) == ("failed", False)
    assert result.detail == (
        "rauc install failed: rauc-Message: installing /data/updates/x.raucb / "
        "LastError: Failed verifying signature: signature not valid / "
        "Installing `/data/updates/x.raucb` failed"
    )
    assert len(device.rauc.calls) == 1 and device.systemctl.calls == []
    assert_nothing_left(device)


async def test_a_sha256_mismatch_is_refused_before_anything_is_asked(
    device: DeviceSide, server: BundleServer
) -> None:
    wrong = "f" * 64
    with server.running():
        async with device.root_service():
            result = await device.ops.install_update(server.url("/b/1.1.raucb"), "1.1", wrong)
    assert (result.status, result.detail) == (
        "failed",
        f"sha256 mismatch: the bundle's is {BUNDLE_SHA256}, the command's {wrong}",
    )
    assert device.rauc.calls == [] and device.systemctl.calls == []
    assert_nothing_left(device)


@pytest.mark.parametrize(
    ("path", "detail"),
    [
        ("/b/1.1.raucb", "the bundle is 4200 bytes, more than the 1000 allowed"),
        # no Content-Length: the cap stops the stream itself
        ("/unsized/b/1.1.raucb", "the bundle is more than the 1000 bytes allowed"),
        ("/b/missing.raucb", "the server answered HTTP 404"),
    ],
)
async def test_a_bundle_over_the_cap_or_not_there_is_refused(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    tls: ServedTls,
    server: BundleServer,
    path: str,
    detail: str,
) -> None:
    device = device_side(tmp_path, monkeypatch, tls.ca_file, max_bundle_bytes=1000, reserve_bytes=0)
    with server.running():
        result = await device.ops.install_update(server.url(path), "1.1", BUNDLE_SHA256)
    assert (result.status, result.detail) == ("failed", detail)
    assert device.rauc.calls == []
    assert_nothing_left(device)


async def test_too_little_free_space_is_refused_before_the_download(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tls: ServedTls, server: BundleServer
) -> None:
    device = device_side(tmp_path, monkeypatch, tls.ca_file, max_bundle_bytes=10_000, reserve_bytes=1 << 60)
    with server.running():
        result = await device.ops.install_update(server.url("/b/1.1.raucb"), "1.1", BUNDLE_SHA256)
    assert result.status == "failed" and result.detail.startswith("not enough free space: ")
    assert result.detail.endswith(
        f" bytes free, {4200 + (1 << 60)} needed (the bundle and {1 << 60} in reserve)"
    )
    assert_nothing_left(device)


async def test_a_server_the_hub_ca_did_not_certify_is_refused(
    device: DeviceSide, tmp_path: Path, server: BundleServer
) -> None:
    stranger = make_tls(tmp_path / "other-pki")
    device.ops.ca_file = stranger.ca_file
    with server.running():
        result = await device.ops.install_update(server.url("/b/1.1.raucb"), "1.1", BUNDLE_SHA256)
    assert result.status == "failed" and "CERTIFICATE_VERIFY_FAILED" in result.detail
    assert_nothing_left(device)


async def asked_for_update(device: DeviceSide, server: BundleServer) -> asyncio.Task[CommandResult]:
    """An install_update under way: downloaded and its request written, no root service yet."""
    asking = asyncio.create_task(device.ops.install_update(server.url("/b/1.1.raucb"), "1.1", BUNDLE_SHA256))
    requests = device.layout.device_ops / REQUESTS
    while not any(requests.iterdir()):
        await asyncio.sleep(0.01)
    return asking


async def test_one_update_at_a_time(device: DeviceSide, server: BundleServer) -> None:
    with server.running():
        first = await asked_for_update(device, server)
        second = await device.ops.install_update(server.url("/b/1.1.raucb"), "1.1", BUNDLE_SHA256)
        assert (second.status, second.detail) == ("failed", "an update is already under way")
        async with device.root_service():
            assert (await first).expect_version == "1.1"
    assert len(device.rauc.calls) == 1


async def test_an_update_asked_for_by_an_app_that_stopped_is_answered_to_the_next_start(
    device: DeviceSide, server: BundleServer
) -> None:
    """The app stops after writing its request, before the root side took it: the next start
    keeps that request and its bundle (and drops every other leftover), and reads the answer."""
    with server.running():
        asking = await asked_for_update(device, server)
        asking.cancel()  # the app stops
        with pytest.raises(asyncio.CancelledError):
            await asking
    [request] = device.entries(REQUESTS)
    (device.layout.device_ops / RESULTS / "stale.json").write_text("{}")  # an older run's
    device.ops.prepare()  # the next start
    assert device.entries(REQUESTS) == [request] and device.entries(RESULTS) == []
    assert device.entries(DOWNLOADS) == [request.removesuffix(".json") + ".raucb"]
    assert await device.ops.resume_update("2.0") is None  # not the update under way
    async with device.root_service():
        result = await device.ops.resume_update("1.1")
    assert result is not None
    assert (result.status, result.restart_pending, result.expect_version) == ("accepted", True, "1.1")
    assert [call["sha256"] for call in device.rauc.calls] == [BUNDLE_SHA256]
    assert await device.ops.resume_update("1.1") is None  # answered once
    assert_nothing_left(device)


async def test_an_unreadable_note_of_an_update_is_not_resumed(device: DeviceSide) -> None:
    (device.ops.directory / UPDATE_UNDER_WAY).write_text('{"id": "../../etc", "version": "1.1"}')
    device.ops.prepare()
    assert await device.ops.resume_update("1.1") is None
    assert not (device.ops.directory / UPDATE_UNDER_WAY).exists()


async def test_a_request_nobody_takes_is_withdrawn(device: DeviceSide) -> None:
    device.ops.reboot_answer_s = 0.2
    result = await device.ops.reboot()
    assert (result.status, result.detail) == (
        "failed",
        "the device's request service did not take the request in 0.2 s",
    )
    assert_nothing_left(device)  # withdrawn: a root service started later reboots nothing
    assert device.processor.run() == 0 and device.systemctl.calls == []


def hostile(device: DeviceSide, name: str, content: bytes) -> None:
    (device.layout.device_ops / REQUESTS / name).write_bytes(content)


def answer(device: DeviceSide, request_id: str = ID) -> tuple[str, str]:
    result = parse_result((device.layout.device_ops / RESULTS / file_name(request_id)).read_bytes())
    return result.status, result.detail


def request(**document: object) -> bytes:
    return json.dumps({"v": 1, "id": ID, **document}).encode()


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "not UTF-8 JSON"),
        (b"[1, 2]", "not a JSON object"),
        (request(verb="format_disk"), "unknown verb 'format_disk' (known: reboot, install_update)"),
        (request(verb="reboot", v=2), "schema version 2 is not known (known: 1)"),
        (
            request(verb="install_update", version="1.1", sha256=BUNDLE_SHA256, bundle="../../../etc/shadow"),
            "install_update takes no bundle",
        ),
        (
            request(verb="install_update", version="1.1; reboot", sha256=BUNDLE_SHA256),
            "version must be a version string",
        ),
        (request(verb="reboot", id="../../x"), "id must be 32 lower-case hex digits"),
        (request(verb="reboot", id="f" * 32), f"file name '{ID}.json' is not the request's id"),
        (request(verb="reboot", padding="x" * 5000), "larger than 4096 bytes"),
    ],
)
def test_hostile_requests_are_refused_with_a_reason_and_nothing_run(
    device: DeviceSide, content: bytes, reason: str
) -> None:
    (device.layout.device_ops / DOWNLOADS / f"{ID}.raucb").write_bytes(BUNDLE)
    hostile(device, file_name(ID), content)
    assert device.processor.run() == 0
    assert answer(device) == ("failed", f"request refused: {reason}")
    assert device.rauc.calls == [] and device.systemctl.calls == []
    assert device.entries(REQUESTS) == [] and device.entries(DOWNLOADS) == []


def test_links_and_strangers_in_the_request_directories_are_refused(
    device: DeviceSide, tmp_path: Path
) -> None:
    outside = tmp_path / "outside.json"
    outside.write_bytes(encode_request(DeviceRequest(ID, "reboot")))
    (device.layout.device_ops / REQUESTS / file_name(ID)).symlink_to(outside)
    hostile(device, "evil.json", encode_request(DeviceRequest("e" * 32, "reboot")))  # not named by its id
    (device.layout.device_ops / REQUESTS / "a-directory").mkdir()
    assert device.processor.run() == 0
    assert answer(device) == (
        "failed",
        "request refused: cannot be opened (Too many levels of symbolic links)",
    )
    assert device.systemctl.calls == [] and device.entries(REQUESTS) == []
    assert device.entries(RESULTS) == [file_name(ID)]  # the stranger named no id to answer
    assert outside.exists()  # the link was removed, not what it points at


def test_a_linked_bundle_is_never_installed(device: DeviceSide, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.raucb"
    elsewhere.write_bytes(BUNDLE)
    (device.layout.device_ops / DOWNLOADS / f"{ID}.raucb").symlink_to(elsewhere)
    hostile(device, file_name(ID), encode_request(DeviceRequest(ID, "install_update", "1.1", BUNDLE_SHA256)))
    assert device.processor.run() == 0
    assert answer(device) == ("failed", "the bundle cannot be opened (Too many levels of symbolic links)")
    assert device.rauc.calls == [] and elsewhere.read_bytes() == BUNDLE
    assert device.entries("updates") == [] and device.entries(DOWNLOADS) == []


def test_a_bundle_changed_after_the_apps_check_is_not_installed(device: DeviceSide) -> None:
    (device.layout.device_ops / DOWNLOADS / f"{ID}.raucb").write_bytes(BUNDLE + b"tail")
    hostile(device, file_name(ID), encode_request(DeviceRequest(ID, "install_update", "1.1", BUNDLE_SHA256)))
    assert device.processor.run() == 0
    status, detail = answer(device)
    assert (status, detail) == (
        "failed",
        f"the bundle's sha256 is {hashlib.sha256(BUNDLE + b'tail').hexdigest()}, not {BUNDLE_SHA256}",
    )
    assert device.rauc.calls == [] and device.entries("updates") == []


def test_a_missing_bundle_is_answered(device: DeviceSide) -> None:
    hostile(device, file_name(ID), encode_request(DeviceRequest(ID, "install_update", "1.1", BUNDLE_SHA256)))
    assert device.processor.run() == 0
    assert answer(device) == ("failed", "no bundle for the request (No such file or directory)")
    assert device.rauc.calls == []


def test_a_linked_request_directory_is_not_followed(device: DeviceSide, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    os.rename(device.layout.device_ops, elsewhere)
    device.layout.device_ops.symlink_to(elsewhere)
    (elsewhere / REQUESTS / file_name(ID)).write_bytes(encode_request(DeviceRequest(ID, "reboot")))
    assert device.processor.run() == 1
    assert device.systemctl.calls == [] and (elsewhere / REQUESTS / file_name(ID)).exists()


def test_without_the_directories_there_is_nothing_to_do(tmp_path: Path) -> None:
    assert RequestProcessor(Layout(tmp_path)).run() == 0


def test_the_format_round_trips_and_is_strict() -> None:
    install = DeviceRequest(ID, "install_update", "1.1", BUNDLE_SHA256)
    assert parse_request(encode_request(install)) == install
    assert encode_request(DeviceRequest(ID, "reboot")) == b'{"id":"%s","v":1,"verb":"reboot"}' % ID.encode()
    with pytest.raises(RequestError, match="reboot takes no version or sha256"):
        DeviceRequest(ID, "reboot", "1.1")
    with pytest.raises(RequestError, match="no integer schema version"):
        parse_request(b'{"id":"%s","verb":"reboot"}' % ID.encode())


async def test_without_an_ops_directory_the_verbs_are_not_available(tmp_path: Path) -> None:
    hooks = DeviceHooks(show_notice=lambda text, duration_s: None, config_document=dict).use(None)
    commands = DeviceCommands(hooks, None, None, {})  # type: ignore[arg-type]
    reboot = await commands.reboot()
    update = await commands.install_update("https://hub/b.raucb", "1.1", BUNDLE_SHA256)
    assert (reboot.status, reboot.detail) == ("failed", "reboot is not available on this device")
    assert (update.status, update.detail) == ("failed", "install_update is not available on this device")
    assert FleetSettings(ops_dir="/data/printgate/ops").ops_dir == "/data/printgate/ops"
    with pytest.raises(ValueError, match="absolute path"):
        FleetSettings(ops_dir="ops")


async def test_the_device_toml_turns_the_verbs_on_with_the_enrolled_hub_ca(tmp_path: Path) -> None:
    identity = tmp_path / "identity"
    credentials = install_self_signed_identity(identity, "t1", "127.0.0.1:1")
    ops_dir = tmp_path / "ops"
    (ops_dir / RESULTS).mkdir(parents=True)
    (ops_dir / RESULTS / "left-over.json").write_text("{}")  # an earlier run's
    ops = device_ops(credentials, identity, FleetSettings(ops_dir=str(ops_dir), update_max_bytes=5000))
    assert ops is not None and ops.max_bundle_bytes == 5000
    assert ops.ca_file is not None and ops.ca_file.read_bytes() == credentials.anchor_path.read_bytes()
    assert sorted(path.name for path in ops_dir.iterdir()) == [DOWNLOADS, REQUESTS, RESULTS, "staging"]
    assert list((ops_dir / RESULTS).iterdir()) == []
    hooks = DeviceHooks(show_notice=lambda text, duration_s: None, config_document=dict).use(ops)
    assert (hooks.reboot, hooks.install_update, hooks.resume_update) == (
        ops.reboot,
        ops.install_update,
        ops.resume_update,
    )
    assert device_ops(credentials, identity, FleetSettings()) is None
