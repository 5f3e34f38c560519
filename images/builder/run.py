"""Running the build's tools: every failure becomes a :class:`BuildError` naming the step."""

from __future__ import annotations

import logging
import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path

from images.errors import BuildError

__all__ = ["in_chroot", "run"]

log = logging.getLogger("images.build")
TAIL_CHARS = 3000


def run(
    step: str,
    command: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    input_text: str | None = None,
    env: dict[str, str] | None = None,
) -> str:
    """Run ``command``; return its stdout. A non-zero exit is a :class:`BuildError` with stderr's tail."""
    argv = [str(part) for part in command]
    log.debug("%s: %s", step, shlex.join(argv))
    try:
        done = subprocess.run(
            argv, cwd=cwd, input=input_text, env=env, capture_output=True, text=True, check=False
        )
    except FileNotFoundError as exc:
        raise BuildError(step, f"{argv[0]} is not installed (scripts/setup.sh installs it)") from exc
    if done.returncode != 0:
        tail = (done.stderr or done.stdout)[-TAIL_CHARS:]
        raise BuildError(step, f"{shlex.join(argv[:3])}... exited with {done.returncode}:\n{tail}")
    return done.stdout


# /proc, /sys and /dev are mounted inside a private mount namespace: they vanish with the
# command, even when the build is killed, and never show up in the host's mount table.
_CHROOT = (
    'root="$1"; shift; mount -t proc proc "$root/proc" && mount -t sysfs sysfs "$root/sys" '
    '&& mount --rbind /dev "$root/dev" && exec chroot "$root" "$@"'
)


def in_chroot(step: str, root: Path, command: Sequence[str], *, input_text: str | None = None) -> str:
    """Run ``command`` inside the root file system at ``root`` (foreign arches through binfmt/qemu-user)."""
    env = {
        "PATH": "/usr/sbin:/usr/bin:/sbin:/bin",
        "LC_ALL": "C.UTF-8",
        "HOME": "/root",
        "PIP_NO_CACHE_DIR": "1",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
    }
    return run(
        step,
        [
            "unshare",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            "-c",
            _CHROOT,
            "sh",
            str(root),
            *command,
        ],
        input_text=input_text,
        env=env,
    )
