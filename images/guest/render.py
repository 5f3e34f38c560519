"""What a checked ``printgate.toml`` becomes on the device: files, rendered but not yet written.

* the role's own configuration (``terminal.toml`` or ``kiosk.toml``, docs/terminal.md and
  docs/kiosk.md) with the hub, reader, printer, language and display from the provisioning file,
  and the ``[app]`` table merged over it for anything the provisioning file does not name;
* system configuration applied at every boot from the data partition (the root is read-only):
  NetworkManager profiles (wired DHCP/static, Wi-Fi with its country), time servers, host name,
  time zone;
* Kivy's configuration: exactly one touch input provider for the panel, rotated like the display;
* the service login's authorized keys (no keys: no ssh).

Rendering is pure: :func:`render` returns ``{relative path: RenderedFile}``; the first-boot
step writes them atomically. Secrets (the terminal key, the Wi-Fi passphrase) go only into files
of mode 0600 on the data partition.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from images.guest.layout import Layout
from images.provisioning import Provisioning

__all__ = ["PANEL_SIZES", "RenderedFile", "deep_merge", "render", "role_document", "toml_dumps"]

# panel -> (width_px, height_px) of its native landscape mode
PANEL_SIZES: dict[str, tuple[int, int]] = {
    "none": (800, 480),
    "official-7in": (800, 480),
    "official-touch2": (1280, 720),
    "hdmi-usb-touch": (1024, 600),
}
# panel -> the input device name the one touch provider matches (Kivy's probesysfs "match")
_PANEL_MATCH = {
    "official-7in": "FT5406|raspberrypi-ts",
    "official-touch2": "Goodix|ft5x06",
    "hdmi-usb-touch": "",
}
ROLE_FILE_MODE = 0o640  # readable by the printgate group: the app runs as printgate
SECRET_MODE = 0o600


@dataclass(frozen=True)
class RenderedFile:
    """A file to write: content, mode, and whether the printgate user owns it."""

    content: str
    mode: int = 0o644
    app_owned: bool = False


# --- a small TOML writer (the standard library only reads TOML) --------------------------------

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else _string(name)


def _string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    escaped = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\u{ord(m.group()):04x}", escaped)
    return f'"{escaped}"'


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return _string(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {type(value).__name__} as TOML")


def _is_table_array(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(item, dict) for item in value)


def toml_dumps(document: dict[str, Any], _prefix: str = "") -> str:
    """``document`` as TOML: scalars and lists first, then tables and arrays of tables."""
    lines = [
        f"{_key(k)} = {_value(v)}"
        for k, v in document.items()
        if not isinstance(v, dict) and not _is_table_array(v)
    ]
    blocks = ["\n".join(lines)] if lines else []
    for key, value in document.items():
        name = f"{_prefix}.{_key(key)}" if _prefix else _key(key)
        if isinstance(value, dict):
            body = toml_dumps(value, name)
            scalars = any(not isinstance(v, dict) and not _is_table_array(v) for v in value.values())
            blocks.append(f"[{name}]\n{body}" if scalars or not value else body)
        elif _is_table_array(value):
            blocks.extend(f"[[{name}]]\n{toml_dumps(item, name)}" for item in value)
    return "\n\n".join(block.rstrip("\n") for block in blocks if block) + "\n"


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``override`` merged in: tables merge key by key, anything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


# --- the role's configuration ------------------------------------------------------------------


def role_document(p: Provisioning, layout: Layout) -> dict[str, Any]:
    """``terminal.toml`` or ``kiosk.toml`` for this provisioning, ``[app]`` merged over it."""
    width_px, height_px = PANEL_SIZES[p.panel]
    display = {"width_px": width_px, "height_px": height_px, "rotation": p.rotation, "fullscreen": True}
    reader = {key: value for key, value in p.reader.items() if value != ""}
    # who the device is and where the hub is come from its enrollment (the state directory)
    hub: dict[str, Any] = {"state_dir": str(layout.identity)}
    if p.hub_addresses:
        hub["address"] = p.hub_addresses[0]
    document: dict[str, Any]
    if p.role == "terminal":
        mfp: dict[str, Any] = {"counter": p.printer["counter"]}
        if p.printer["address"]:
            mfp.update(address=p.printer["address"], community=p.printer["community"])
        document = {
            "hub": hub,
            "reader": reader,
            "mfp": mfp,
            "session": {"language": p.language},
            "storage": {"data_dir": str(layout.state / "terminal")},
        }
    else:
        document = {
            "hub": hub,
            "kiosk": {"journal": str(layout.state / "kiosk.db")},
            "reader": reader,
        }
    # the fleet's reboot and install_update go through the root service (printgate-requests.path)
    document["fleet"] = {"ops_dir": str(layout.device_ops)}
    if p.display_enabled:
        document["display"] = display
    return deep_merge(document, p.app)


def check_role_document(p: Provisioning, layout: Layout) -> str | None:
    """What the role's own configuration loader says about the rendered file (None: fine).

    The terminal's and kiosk's loaders are the one home of their configuration rules, so the
    ``[app]`` table is checked by them before anything is applied.
    """
    import tempfile
    from pathlib import Path

    from terminal_app.errors import ConfigError

    document = role_document(p, layout)
    try:
        if p.role == "terminal":
            from terminal_app.terminal.config import config_from_document

            config_from_document(document, layout.state)
            return None
        from terminal_app.kiosk.config import load_kiosk_config

        with tempfile.TemporaryDirectory() as scratch:
            (Path(scratch) / "kiosk.toml").write_text(toml_dumps(document))
            load_kiosk_config(Path(scratch) / "kiosk.toml")
    except ConfigError as exc:
        return f"{p.role} configuration (with [app]): {exc}"
    return None


# --- system configuration, applied from the data partition at every boot ------------------------


def _ipv4(p: Provisioning) -> str:
    if p.network_mode == "dhcp":
        return "[ipv4]\nmethod=auto\n"
    gateway = f",{p.gateway}" if p.gateway else ""
    dns = f"dns={';'.join(p.dns)};\n" if p.dns else ""
    return f"[ipv4]\nmethod=manual\naddress1={p.address}{gateway}\n{dns}"


def network_profiles(p: Provisioning) -> dict[str, str]:
    """NetworkManager keyfiles: ``{file name: content}`` (wired always, Wi-Fi when configured)."""
    ipv6 = "[ipv6]\nmethod=auto\n" if p.network_mode == "dhcp" else "[ipv6]\nmethod=ignore\n"
    profiles = {
        "printgate-wired.nmconnection": (
            "[connection]\nid=printgate-wired\ntype=ethernet\nautoconnect=true\nautoconnect-priority=20\n\n"
            f"{_ipv4(p)}\n{ipv6}"
        )
    }
    if p.wifi is not None:
        profiles["printgate-wifi.nmconnection"] = (
            "[connection]\nid=printgate-wifi\ntype=wifi\nautoconnect=true\nautoconnect-priority=10\n\n"
            f"[wifi]\nmode=infrastructure\nssid={p.wifi.ssid}\n\n"
            f"[wifi-security]\nkey-mgmt=wpa-psk\npsk={p.wifi.psk}\n\n{_ipv4(p)}\n{ipv6}"
        )
    return profiles


def kivy_config(p: Provisioning) -> str:
    """Kivy's config.ini: one touch provider for the panel (no duplicated touches), rotated."""
    lines = ["[input]"]
    if p.panel != "none":
        match = _PANEL_MATCH[p.panel]
        options = ["probesysfs", "provider=hidinput"]
        if match:
            options.append(f"match={match}")
        if p.rotation:
            options.append(f"param=rotation={p.rotation}")
        lines.append(f"touchscreen = {','.join(options)}")
    lines += ["", "[graphics]", f"rotation = {p.rotation}", "show_cursor = 0", ""]
    return "\n".join(lines)


def render(p: Provisioning, layout: Layout) -> dict[str, RenderedFile]:
    """Every file this provisioning writes, by path relative to the data partition."""
    state = layout.state.relative_to(layout.data)
    system = layout.system.relative_to(layout.data)
    files: dict[str, RenderedFile] = {
        f"{state}/role": RenderedFile(p.role + "\n", ROLE_FILE_MODE, app_owned=True),
        f"{state}/{p.role}.toml": RenderedFile(toml_dumps(role_document(p, layout)), ROLE_FILE_MODE, True),
        f"{state}/kivy/config.ini": RenderedFile(kivy_config(p), 0o644, app_owned=True),
        f"{system}/hostname": RenderedFile((p.hostname or _hostname(p)) + "\n"),
        f"{system}/timezone": RenderedFile(p.timezone + "\n"),
        f"{system}/site": RenderedFile(p.site + "\n"),
        f"{system}/hub": RenderedFile(p.hub_address + "\n"),
    }
    for name, content in network_profiles(p).items():
        files[f"{system}/NetworkManager/system-connections/{name}"] = RenderedFile(content, SECRET_MODE)
    if p.wifi is not None:
        files[f"{system}/wifi-country"] = RenderedFile(p.wifi.country + "\n")
    if p.time_servers:
        files[f"{system}/systemd/timesyncd.conf.d/printgate.conf"] = RenderedFile(
            f"[Time]\nNTP={' '.join(p.time_servers)}\n"
        )
    if p.ssh_keys:
        ssh = layout.ssh.relative_to(layout.data)
        files[f"{ssh}/authorized_keys"] = RenderedFile("\n".join(p.ssh_keys) + "\n", SECRET_MODE)
    return files


def _hostname(p: Provisioning) -> str:
    return f"printgate-{p.role}"
