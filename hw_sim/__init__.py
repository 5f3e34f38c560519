"""Simulated devices: the device side of every wire protocol printgate speaks."""
