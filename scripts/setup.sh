#!/usr/bin/env bash
# Sets up a fresh Debian machine (as root) for printgate: system packages, then a virtual
# environment in .venv/ at the repository root with printgate installed in editable mode.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

SYSTEM_PACKAGES=(
    # PC/SC card readers: the daemon, headers and swig for building pyscard, the virtual reader driver
    pcscd libpcsclite-dev swig vsmartcard-vpcd
    # print intake analysis and IPP conformance clients / reference printer; a private CUPS
    # (scheduler, lp/lpadmin, filters) as the real desktop client; avahi-browse for DNS-SD
    ghostscript poppler-utils qpdf cups-ipp-utils dbus avahi-daemon avahi-utils
    cups-daemon cups-client cups-filters iproute2
    # fleet broker and its command-line clients (ACL tests), and the scale-out database
    mosquitto mosquitto-clients postgresql
    # Kivy under a virtual screen
    xvfb xauth libmtdev1 libgl1 libegl1 libgles2
    # benchmarks: h2load, a C load generator for the hub's gRPC endpoint
    nghttp2-client
    # directory sync: python-ldap builds against libldap; the tests run a private slapd
    libldap-dev libsasl2-dev slapd ldap-utils
    # scan intake: OCR (searchable PDF/A) with German and English data; Samba for the SMB tests
    ocrmypdf tesseract-ocr-deu tesseract-ocr-eng samba
    # terminal OS images: root file systems, slots, disk images, bundles, arm64 chroots, boots
    mmdebstrap squashfs-tools fdisk dosfstools mtools e2fsprogs bmap-tools grub-efi-amd64-bin grub-common
    rauc qemu-user-static binfmt-support arch-test
    qemu-system-x86 qemu-system-data seabios ipxe-qemu ovmf openssh-client
    # web console and portal: end-to-end tests drive Debian's chromium (Playwright's own browser
    # builds are not fetched: the tests point it at /usr/bin/chromium)
    chromium chromium-driver fonts-dejavu-core
)

missing=()
for package in "${SYSTEM_PACKAGES[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing system packages: ${missing[*]}"
    apt-get update -qq
    # slapd's package would otherwise configure and start a system-wide directory; the tests
    # start their own, so only the binaries are wanted
    echo "slapd slapd/no_configuration boolean true" | debconf-set-selections
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
    .venv/bin/pip install -q --upgrade pip
fi
.venv/bin/pip install -q -e ".[dev]"
echo "setup: ready (.venv/bin/printgate)"
