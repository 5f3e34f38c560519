"""Every account's name, in one place: the ledger finds accounts by these names.

A user's credit is ``user:<username>`` and what they owe ``arrears:<username>``; departments and
projects have post-paid accounts; the hub's own books are ``system:`` accounts (see
:mod:`hub_server.domain.ledger` for their sign rule).
"""

from __future__ import annotations

__all__ = [
    "ADJUSTMENTS",
    "CASH_COLLECTED",
    "CASH_DIFFERENCES",
    "HOLDS",
    "REVENUE",
    "VOUCHERS",
    "arrears",
    "cashbox",
    "department",
    "prepaid",
    "project",
]

REVENUE = "system:revenue"  # what usage was charged
ADJUSTMENTS = "system:adjustments"  # what admins added or took away
HOLDS = "system:holds"  # estimates reserved for print jobs being released
VOUCHERS = "system:vouchers"  # what redeemed vouchers were worth
CASH_COLLECTED = "system:cash-collected"  # cash taken out of kiosk boxes
CASH_DIFFERENCES = "system:cash-differences"  # counted minus expected at each emptying


def prepaid(username: str) -> str:
    """A user's own credit account."""
    return f"user:{username}"


def arrears(username: str) -> str:
    """The account holding what a user owes."""
    return f"arrears:{username}"


def department(name: str) -> str:
    """A department's post-paid account."""
    return f"department:{name}"


def project(code: str) -> str:
    """A project's (cost centre's) post-paid account."""
    return f"project:{code}"


def cashbox(kiosk_id: str) -> str:
    """The system account mirroring the cash in a kiosk's box."""
    return f"system:cashbox:{kiosk_id}"
