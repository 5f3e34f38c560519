"""``printgate image build|provision|bundle|flash|keys``: the technician's and release engineer's tools.

Exit codes: 0 done, 1 failed (the message says which step and why), 2 usage or an invalid
``printgate.toml``.
"""

from __future__ import annotations

import argparse
import logging
import subprocess
import sys
from pathlib import Path

from images.boards import board_names, load_board
from images.errors import ImageError, ProvisioningError

__all__ = ["register"]


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``image`` verbs."""
    verbs = parser.add_subparsers(dest="verb", required=True)

    build = verbs.add_parser("build", help="build a board's disk image (cached stages)")
    build.add_argument("--board", required=True, choices=board_names())
    build.add_argument("--version", required=True, help="dotted numbers, e.g. 1.4.0")
    build.add_argument("--output", type=Path, required=True, help="directory for the image and its files")
    build.add_argument("--keyring", type=Path, required=True, help="update CA certificate the image trusts")
    build.add_argument(
        "--cache-dir", type=Path, help="stage cache (default $PRINTGATE_IMAGE_CACHE or ~/.cache)"
    )
    build.add_argument("--config", type=Path, help="a printgate.toml to put on the boot partition")
    build.add_argument("--mirror", default="", help="Debian mirror URL (default deb.debian.org)")
    build.add_argument("--url-base", default="", help="where the image will be served (for os_list JSON)")
    build.set_defaults(func=_build)

    provision = verbs.add_parser(
        "provision", help="put a checked printgate.toml on an image's boot partition"
    )
    provision.add_argument("image", type=Path, help="a built image, or a flashed card")
    provision.add_argument("--config", type=Path, required=True)
    provision.set_defaults(func=_provision)

    bundle = verbs.add_parser("bundle", help="sign a root slot into a RAUC update bundle")
    bundle.add_argument("--board", required=True, choices=board_names())
    bundle.add_argument("--rootfs", type=Path, required=True, help="the build's *.rootfs.squashfs")
    bundle.add_argument("--version", required=True)
    bundle.add_argument("--keys", type=Path, required=True, help="directory from `printgate image keys`")
    bundle.add_argument("--output", type=Path, required=True, help="the .raucb file to write")
    bundle.set_defaults(func=_bundle)

    flash = verbs.add_parser("flash", help="write an image to an SD card or eMMC and verify it")
    flash.add_argument("image", type=Path)
    flash.add_argument("device", type=Path)
    flash.add_argument("--yes", action="store_true", help="do not ask before writing")
    flash.set_defaults(func=_flash)

    keys = verbs.add_parser("keys", help="create an update CA and a bundle signing certificate")
    keys.add_argument("directory", type=Path)
    keys.set_defaults(func=_keys)


def _fail(exc: ImageError) -> int:
    print(f"printgate image: {exc}", file=sys.stderr)
    return 2 if isinstance(exc, ProvisioningError) else 1


def _build(args: argparse.Namespace) -> int:
    from images.builder.cache import StageCache, default_cache_dir
    from images.builder.pipeline import build
    from images.builder.rootfs import DEBIAN_MIRROR, Sources
    from images.provisioning import parse_text

    logging.basicConfig(level="INFO", format="%(asctime)s %(message)s")
    try:
        config = args.config.read_text() if args.config else None
        if config is not None:
            parse_text(config)
        result = build(
            load_board(args.board),
            args.version,
            args.output,
            StageCache(args.cache_dir or default_cache_dir()),
            args.keyring,
            sources=Sources(args.mirror or DEBIAN_MIRROR),
            provisioning=config,
            url_base=args.url_base,
        )
    except ImageError as exc:
        return _fail(exc)
    print(f"{result.image}: {result.allocated_bytes // 2**20} MiB of data; stages {result.stage_s}")
    return 0


def _provision(args: argparse.Namespace) -> int:
    from images.provision import provision_image

    try:
        provision_image(args.image, args.config.read_text())
    except ImageError as exc:
        if isinstance(exc, ProvisioningError):
            print("printgate image: the file was not written:", *exc.problems, sep="\n  ", file=sys.stderr)
            return 2
        return _fail(exc)
    print(f"{args.image}: printgate.toml written to the boot partition")
    return 0


def _bundle(args: argparse.Namespace) -> int:
    from images.bundle import bundle_info, make_bundle
    from images.keys import UpdateKeys

    keys = UpdateKeys(args.keys)
    board = load_board(args.board)
    try:
        make_bundle(board, args.rootfs, args.version, keys.cert, keys.key, keys.keyring, args.output)
        print(bundle_info(board, args.output, keys.keyring), end="")
    except ImageError as exc:
        return _fail(exc)
    return 0


def _flash(args: argparse.Namespace) -> int:
    from images.flash import flash

    def confirm(question: str) -> bool:
        if args.yes:
            return True
        return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")

    try:
        flash(args.image, args.device, confirm=confirm)
    except ImageError as exc:
        return _fail(exc)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"printgate image: {exc}", file=sys.stderr)
        return 1
    return 0


def _keys(args: argparse.Namespace) -> int:
    from images.keys import create_update_keys

    keys = create_update_keys(args.directory)
    print(
        f"keyring (bake into images with --keyring): {keys.keyring}\nsigning: {keys.cert}, {keys.key}\n"
        f"CA key (keep offline): {keys.ca_key}"
    )
    return 0
