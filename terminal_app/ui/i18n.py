"""What both roles' texts share: money as each language writes it."""

from __future__ import annotations

__all__ = ["money"]


def money(cents: int, language: str) -> str:
    """Integer cents as the language writes euros: ``€12.34`` / ``12,34 €``."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    if language == "de":
        return f"{sign}{whole},{rest:02d} €"
    return f"{sign}€{whole}.{rest:02d}"
