"""printgate's edge devices: the terminal beside a printer and the recharge kiosk, as peers.

::

    errors      one exception tree for both roles
    hub/        the hub client: plain values in and out; the only module tree that speaks protobuf
    session/    what both roles share: the engine skeleton, intents, clock, observable state,
                the durable store, the card reader pump
    terminal/   the terminal: engine (identification, held jobs, copy session), journal, offline
                cache, config, wiring, cli; ui/ its Kivy screens
    kiosk/      the kiosk: engine (acceptors, recharges, crediting, operator), cash journal,
                config, wiring, control lines, cli; ui/ its Kivy screens
    ui/         what both roles' screens share: widgets, layouts, the base view with the status bar

Nothing outside the ``ui`` folders imports Kivy; ``terminal`` and ``kiosk`` never import each other.
"""
