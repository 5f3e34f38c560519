"""Terminal and kiosk OS images: build, provision, update, flash.

Two halves share this package:

* the **host side** (``printgate image build|provision|bundle|flash|keys``): the recipe in
  ``recipe/`` and ``boards/`` built with Debian's own tools (mmdebstrap, mksquashfs, mkfs.vfat +
  mtools, mke2fs, sfdisk) into a disk image with a boot partition, two read-only root slots (A/B)
  and a data partition; RAUC bundles; the technician's flasher and rpi-imager list;
* the **device side** (:mod:`images.guest`), installed in the image's venv with the rest of
  printgate: first-boot provisioning from ``printgate.toml`` on the boot partition, the runtime
  configuration rendered at every boot, the console status screen, the RAUC boot backend and the
  slot health check that marks an updated slot good or rolls it back.

:mod:`images.provisioning` (the ``printgate.toml`` schema) is used by both.
"""
