"""DNS-SD: the queue's avahi service file, and a real avahi-daemon announcing it to a real
avahi-browse (both in a private network and mount namespace with their own D-Bus, so nothing
leaves the test: the services directory is bind-mounted over /etc/avahi/services)."""

from __future__ import annotations

import subprocess
from dataclasses import replace
from pathlib import Path

import pytest

from hub_server.intake import InMemoryJobRegistry, Spool, start_intake
from hub_server.intake.dnssd import SERVICE_FILE, QueueAdvert, service_file

from .conftest import FAST_CONFIG, FakeHubPasswords, TlsFiles, require_binary

pytestmark = pytest.mark.asyncio

ADVERT = QueueAdvert(
    name="printgate on %h",
    uuid="d0040119-d48f-5108-a4bf-64f2bcbe6824",
    make_and_model="printgate pull-print hub",
    location="2nd floor",
    ipp_port=8631,
    ipps_port=8632,
    authenticates=True,
)
COMMON_TXT = [
    "txtvers=1",
    "qtotal=1",
    "rp=ipp/print",
    "ty=printgate pull-print hub",
    "product=(printgate pull-print hub)",
    "note=2nd floor",
]
FORMATS_TXT = [
    "pdl=application/pdf,application/postscript,image/pwg-raster,application/vnd.hp-pjl,image/jpeg,image/urf",
    "URF=V1.4,CP1,W8,SRGB24,RS300-600,DM1,PQ4-5,IS1,MT1",
    "UUID=d0040119-d48f-5108-a4bf-64f2bcbe6824",
    "Color=T",
    "Duplex=T",
    "Copies=T",
    "kind=document",
    "PaperMax=legal-A4",
    "priority=0",
]


def _records(text: str, kind: str) -> list[str]:
    block = text.split(f"<type>{kind}</type>", 1)[1].split("</service>", 1)[0]
    return [line.strip()[12:-13] for line in block.splitlines() if "<txt-record>" in line]


def test_the_service_file_announces_both_queues_with_subtypes_and_txt_keys() -> None:
    text = service_file(ADVERT)
    assert text.count("<service>") == 2
    for kind, port in (("_ipps._tcp", 8632), ("_ipp._tcp", 8631)):
        assert f"<subtype>_print._sub.{kind}</subtype>" in text
        assert f"<subtype>_universal._sub.{kind}</subtype>" in text
        assert f"<port>{port}</port>" in text
    assert _records(text, "_ipps._tcp") == [
        *COMMON_TXT,
        "adminurl=https://%h.local:8632/ipp/print",
        *FORMATS_TXT,
        "TLS=1.2",
        "air=username,password",
    ]
    assert _records(text, "_ipp._tcp") == [
        *COMMON_TXT,
        "adminurl=http://%h.local:8631/ipp/print",
        *FORMATS_TXT,
    ]


def test_markup_in_names_is_escaped_and_a_queue_without_listeners_is_refused() -> None:
    text = service_file(replace(ADVERT, location="<b>&co</b>"))
    assert "<txt-record>note=&lt;b&gt;&amp;co&lt;/b&gt;</txt-record>" in text
    with pytest.raises(ValueError, match="no IPP or IPPS listener"):
        service_file(replace(ADVERT, ipp_port=0, ipps_port=0))
    with pytest.raises(ValueError, match="too long: note"):
        service_file(replace(ADVERT, location="x" * 300))


AVAHI_CONF = """[server]
host-name=printgate-test
use-ipv4=yes
use-ipv6=no
allow-interfaces=pg0
[publish]
publish-workstation=no
"""
# Runs as root inside `unshare --mount --net`: a veth pair (multicast), a private /run with
# its own system D-Bus, avahi-daemon reading our services directory, then avahi-browse.
NAMESPACE_SCRIPT = """set -e
ip link set lo up
ip link add pg0 type veth peer name pg1
ip link set pg1 up
ip link set pg0 multicast on up
ip addr add 10.77.0.1/24 dev pg0
mount -t tmpfs none /run
mkdir -p /run/dbus /run/avahi-daemon
mount --bind "$1" /etc/avahi/services
dbus-daemon --system --fork --nopidfile
avahi-daemon --no-drop-root --no-chroot --no-rlimits -f "$2" > "$3" 2>&1 &
avahi=$!
for _ in $(seq 50); do grep -q "successfully established" "$3" && break; sleep 0.2; done
for kind in _ipps._tcp _ipp._tcp _universal._sub._ipps._tcp _print._sub._ipp._tcp; do
  echo "== $kind"
  timeout 10 avahi-browse --resolve --terminate --parsable --no-db-lookup "$kind"
done
kill $avahi
"""


def _browse(services: Path, folder: Path) -> dict[str, list[list[str]]]:
    for tool in ("avahi-daemon", "avahi-browse", "dbus-daemon", "unshare", "ip"):
        require_binary(tool)
    (folder / "avahi.conf").write_text(AVAHI_CONF)
    (folder / "ns.sh").write_text(NAMESPACE_SCRIPT)
    log = folder / "avahi.log"
    done = subprocess.run(
        [
            "unshare",
            "--mount",
            "--net",
            "sh",
            str(folder / "ns.sh"),
            str(services),
            str(folder / "avahi.conf"),
            str(log),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, (done.stderr, log.read_text() if log.exists() else "")
    found: dict[str, list[list[str]]] = {}
    kind = ""
    for line in done.stdout.splitlines():
        if line.startswith("== "):
            kind = line[3:]
            found[kind] = []
        elif line.startswith("="):
            found[kind].append(line.split(";"))
    return found


async def test_a_real_avahi_announces_the_running_queue_to_a_real_browser(
    registry: InMemoryJobRegistry,
    spool: Spool,
    tls_files: TlsFiles,
    hub_passwords: FakeHubPasswords,
    tmp_path: Path,
) -> None:
    services = tmp_path / "services"
    services.mkdir()
    server = await start_intake(
        registry,
        spool,
        ipps_listen=("127.0.0.1", 0),
        tls=tls_files.server_context(),
        config=replace(FAST_CONFIG, authentication="required", printer_location="lobby"),
        passwords=hub_passwords.check(),
        dnssd_dir=services,
    )
    try:
        assert [p.name for p in services.iterdir()] == [SERVICE_FILE]
        found = _browse(services, tmp_path)
    finally:
        await server.close()
    assert list(services.iterdir()) == []  # withdrawn on close
    ports = {"_ipps._tcp": server.ipps_port, "_ipp._tcp": server.ipp_port}
    for kind in ("_ipps._tcp", "_universal._sub._ipps._tcp", "_print._sub._ipp._tcp", "_ipp._tcp"):
        base = kind.rsplit(".", 2)[-2] + "._tcp"
        assert [(r[3], r[6], int(r[8])) for r in found[kind]] == [
            ("printgate\\032on\\032printgate-test", "printgate-test.local", ports[base])
        ], found
    txt = found["_ipps._tcp"][0][9]
    for key in ('"rp=ipp/print"', '"air=username,password"', '"TLS=1.2"', '"note=lobby"', '"URF=V1.4,'):
        assert key in txt, txt
    assert '"air=' not in found["_ipp._tcp"][0][9]  # no password over plain IPP
