"""The ``printgate`` command: the one place that knows every role (hub, terminal, kiosk, admin,
simulators, probes) and the demo that runs a whole simulated site from all of them.

``printgate_cli`` may import every package of printgate; no package imports it.
"""
