"""The device side of the image: what runs on a terminal or kiosk, not on the build host.

Every command is ``printgate-device COMMAND`` (``python -m images.guest``): ``firstboot``
(provisioning from the boot partition), ``runtime`` (the stored configuration rendered into
/run at every boot), ``console`` (the technician's status screen), ``boot-backend`` (RAUC's
custom bootloader backend), ``pre-install`` (RAUC's version check), ``slot-health`` (marks an
updated slot good, or rolls it back), ``requests`` (performs the app's reboot and update
requests as root) and ``app`` (the terminal or kiosk with systemd's watchdog and readiness).
They use only the standard library and printgate's shared formats, except ``app``.
"""
