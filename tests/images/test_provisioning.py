"""printgate.toml: checking, scrubbing secrets, and what it renders to on the device."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from printgate.enrollment_token import EnrollmentToken

from images.boards import RECIPE_DIR
from images.errors import ProvisioningError
from images.guest.layout import Layout
from images.guest.render import (
    check_role_document,
    kivy_config,
    network_profiles,
    render,
    role_document,
    toml_dumps,
)
from images.provisioning import SCRUBBED, parse_text, scrubbed

# a well-formed token as `printgate admin enrollment create` prints it (no hub behind it here)
TOKEN = str(EnrollmentToken("0a1b2c3d4e", "5f" * 16, "c0" * 32, ("hub.example.org:50052",)))
SECRET = "5f" * 16
FILE = f"""\
role = "terminal"
site = "Library"
[hub]
addresses = ["hub.example.org:50051", "hub2.example.org:50051"]
enrollment_token = "{TOKEN}"
[printer]
name = "lib-2-mfp"
address = "192.0.2.10"
counter = "snmp"
[network]
mode = "static"
address = "192.0.2.50/24"
gateway = "192.0.2.1"
dns = ["192.0.2.1", "192.0.2.2"]
[network.wifi]
ssid = "site-devices"
psk = "wifi-pass-phrase"
country = "DE"
[display]
rotation = 90
[service]
ssh_authorized_keys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJx tech@example.org"]
[app.session]
idle_timeout_s = 90
"""


def test_the_example_next_to_the_image_is_valid() -> None:
    example = parse_text((RECIPE_DIR / "printgate.example.toml").read_text())
    assert example.role == "terminal" and example.hub_addresses == ()


def test_a_complete_file_is_read() -> None:
    p = parse_text(FILE)
    assert p.hub_addresses == ("hub.example.org:50051", "hub2.example.org:50051")
    assert (p.enrollment_token, p.rotation, p.network_mode) == (TOKEN, 90, "static")
    assert p.token.addresses == ("hub.example.org:50052",)
    assert p.hub_address == "hub.example.org:50051"  # the override, ahead of the token's
    without = parse_text(
        FILE.replace('addresses = ["hub.example.org:50051", "hub2.example.org:50051"]\n', "")
    )
    assert without.hub_addresses == () and without.hub_address == "hub.example.org:50052"
    assert p.wifi is not None and p.wifi.country == "DE"
    assert p.app == {"session": {"idle_timeout_s": 90}}


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (('role = "terminal"', 'role = "printer"'), "role must be one of terminal, kiosk"),
        (("rotation = 90", "rotation = 45"), "display.rotation must be one of 0, 90, 180, 270"),
        (("rotation = 90", "rotation = true"), "display.rotation must be an integer, not a boolean"),
        (('country = "DE"', 'country = "de"'), "network.wifi.country must be a two-letter country code"),
        (('psk = "wifi-pass-phrase"', 'psk = "short"'), "network.wifi.psk must be 8 to 63 characters"),
        (('address = "192.0.2.50/24"', 'address = "192.0.2.50"'), "network.address needs a prefix length"),
        (('"hub2.example.org:50051"', '"hub2"'), "hub.addresses has entries that are not host:port"),
        (('site = "Library"', 'site = "Library"\ncolour = "red"'), "unknown key colour"),
        (("[display]", "[display]\nbrightness = 3"), "unknown key display.brightness"),
        ((f'enrollment_token = "{TOKEN}"', ""), "hub.enrollment_token is required"),
        (
            (f'enrollment_token = "{TOKEN}"', 'terminal_id = "lib-2"\nterminal_key = "k3y"'),
            "hub.terminal_id and hub.terminal_key are gone: devices enroll with an enrollment_token",
        ),
        ((TOKEN, TOKEN[:-3]), "hub.enrollment_token is not an enrollment token"),
        ((TOKEN, TOKEN.replace("-0a1b", "-0a1c")), "is damaged (its check digits do not match)"),
        (("ssh-ed25519 AAAAC3", "AAAAC3"), "service.ssh_authorized_keys entries [0] are not ssh public keys"),
        (('mode = "static"', 'mode = "dhcp"'), "network.address and network.gateway need network.mode"),
    ],
)
def test_each_mistake_is_named(change: tuple[str, str], problem: str) -> None:
    with pytest.raises(ProvisioningError) as caught:
        parse_text(FILE.replace(*change))
    assert any(problem in line for line in caught.value.problems), caught.value.problems


def test_every_problem_is_reported_at_once() -> None:
    text = FILE.replace('role = "terminal"', 'role = "x"').replace("rotation = 90", "rotation = 7")
    with pytest.raises(ProvisioningError) as caught:
        parse_text(text)
    assert len(caught.value.problems) == 2


@pytest.mark.parametrize("text", ["role = ", "\x00", "[hub\naddresses=1", "a" * 70000])
def test_garbage_is_a_clear_error(text: str) -> None:
    with pytest.raises(ProvisioningError):
        parse_text(text)


def test_scrubbing_removes_every_secret_and_keeps_the_rest() -> None:
    clean = scrubbed(FILE)
    for secret in (SECRET, "wifi-pass-phrase"):
        assert secret not in clean
    document = tomllib.loads(clean)
    assert document["hub"]["enrollment_token"] == SCRUBBED
    assert document["network"]["wifi"]["psk"] == SCRUBBED
    assert document["network"]["wifi"]["ssid"] == "site-devices"
    assert document["hub"]["addresses"] == ["hub.example.org:50051", "hub2.example.org:50051"]


@pytest.mark.parametrize(
    "text",
    [
        'role = "terminal"\nhub = { addresses = ["h:1"], enrollment_token = "tok-inline-123" }\n',
        'role = "terminal"\n[hub]\naddresses = ["h:1"]\nenrollment_token = """tok-multi\n-line"""\n',
        'role = "terminal"\nhub.addresses = ["h:1"]\nhub.enrollment_token = "tok-dotted-9"\n',
    ],
)
def test_a_secret_written_another_way_never_survives(text: str) -> None:
    clean = scrubbed(text)
    assert "tok-" not in clean


def test_the_terminal_configuration_rendered_is_what_the_terminal_loads(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    p = parse_text(FILE)
    document = role_document(p, layout)
    assert document["hub"] == {"address": "hub.example.org:50051", "state_dir": str(layout.identity)}
    assert document["mfp"] == {"counter": "snmp", "address": "192.0.2.10", "community": "public"}
    assert document["session"] == {"language": "en", "idle_timeout_s": 90}
    assert document["display"]["rotation"] == 90
    assert document["fleet"] == {"ops_dir": str(tmp_path / "data" / "printgate" / "ops")}
    assert tomllib.loads(toml_dumps(document)) == document
    assert check_role_document(p, layout) is None


def test_app_overrides_the_terminal_refuses_are_caught_before_anything_is_applied(tmp_path: Path) -> None:
    p = parse_text(FILE.replace("idle_timeout_s = 90", "idle_timeout_z = 90"))
    problem = check_role_document(p, Layout(tmp_path))
    assert problem is not None and "idle_timeout_z" in problem


def test_secrets_go_only_into_private_files(tmp_path: Path) -> None:
    files = render(parse_text(FILE), Layout(tmp_path))
    holding = {path for path, f in files.items() if SECRET in f.content or "wifi-pass-phrase" in f.content}
    assert holding == {"system/NetworkManager/system-connections/printgate-wifi.nmconnection"}
    assert all(files[path].mode == 0o600 for path in holding)


def test_network_profiles_for_a_static_address_and_wifi() -> None:
    profiles = network_profiles(parse_text(FILE))
    wired = profiles["printgate-wired.nmconnection"]
    assert "method=manual\naddress1=192.0.2.50/24,192.0.2.1\ndns=192.0.2.1;192.0.2.2;" in wired
    wifi = profiles["printgate-wifi.nmconnection"]
    assert "ssid=site-devices" in wifi and "key-mgmt=wpa-psk" in wifi and "psk=wifi-pass-phrase" in wifi


def test_one_touch_provider_rotated_like_the_display() -> None:
    config = kivy_config(parse_text(FILE))
    inputs = config.split("[input]")[1].split("[graphics]")[0].strip().splitlines()
    assert inputs == [
        "touchscreen = probesysfs,provider=hidinput,match=FT5406|raspberrypi-ts,param=rotation=90"
    ]
    assert "rotation = 90" in config.split("[graphics]")[1]


_keys = st.text(alphabet='abcdefghijklmnopqrstuvwxyz_-ABC0123456789 ."', min_size=1, max_size=8)
_scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.text(max_size=20),
    st.floats(allow_nan=False, allow_infinity=False),
)
_documents = st.recursive(
    st.dictionaries(_keys, st.one_of(_scalars, st.lists(_scalars, max_size=3)), max_size=4),
    lambda inner: st.dictionaries(
        _keys, st.one_of(inner, st.lists(inner, min_size=1, max_size=2)), max_size=3
    ),
    max_leaves=12,
)


@settings(suppress_health_check=[HealthCheck.too_slow], max_examples=150)  # shared, noisy machine
@given(_documents)
def test_toml_writer_round_trips(document: dict) -> None:
    assert tomllib.loads(toml_dumps(document)) == document
