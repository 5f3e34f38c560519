"""Errors of the image tooling, one tree.

::

    ImageError
    ├── RecipeError (ValueError)       a board file or the recipe is inconsistent
    ├── ProvisioningError (ValueError) printgate.toml is invalid; ``problems`` lists every finding
    ├── BuildError                     a build step failed; ``step`` names it
    │   └── ArchiveUnreachable         the step needs a package archive this machine cannot reach
    ├── BundleError                    a RAUC bundle could not be made or checked
    └── FlashError                     a disk was refused (mounted, the running system) or failed to verify
"""

from __future__ import annotations

__all__ = [
    "ArchiveUnreachable",
    "BuildError",
    "BundleError",
    "FlashError",
    "ImageError",
    "ProvisioningError",
    "RecipeError",
]


class ImageError(Exception):
    """Base of every error raised by :mod:`images`."""


class RecipeError(ImageError, ValueError):
    """A board definition or recipe file is missing or inconsistent."""


class ProvisioningError(ImageError, ValueError):
    """``printgate.toml`` is invalid: ``problems`` holds one line per finding."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class BuildError(ImageError):
    """A build step failed; ``step`` is its name, the message says why."""

    def __init__(self, step: str, message: str) -> None:
        self.step = step
        super().__init__(f"build step {step!r}: {message}")


class ArchiveUnreachable(BuildError):
    """A build step needs packages from an archive this machine cannot reach."""

    def __init__(self, step: str, archive: str, packages: list[str]) -> None:
        self.archive = archive
        self.packages = list(packages)
        super().__init__(
            step,
            f"needs {', '.join(packages)} from {archive}, which cannot be reached from here; "
            "run this step on a machine with access to that archive",
        )


class BundleError(ImageError):
    """A RAUC bundle could not be made, signed or checked."""


class FlashError(ImageError):
    """Writing an image to a disk was refused or did not verify."""
