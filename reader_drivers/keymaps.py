"""Key code -> character tables for decoding keyboard-wedge readers (Linux input key codes).

A wedge reader presses keys as its configured layout dictates; decoding its key codes with
that same table (not with the host's layout) makes the result independent of the
keyboard layout of the machine. Digits sit on the same keys in ``us`` and ``de``; the
keypad and Alt+keypad codes are the same in every layout.

Each table maps a key code to ``(unshifted, shifted)``; ``""`` means the key types nothing.
"""

from __future__ import annotations

__all__ = ["ALT_KEYS", "ENTER_KEYS", "KEYMAPS", "KEYPAD_DIGITS", "SHIFT_KEYS"]

SHIFT_KEYS = frozenset({42, 54})  # KEY_LEFTSHIFT, KEY_RIGHTSHIFT
ALT_KEYS = frozenset({56, 100})  # KEY_LEFTALT, KEY_RIGHTALT
ENTER_KEYS = frozenset({28, 96})  # KEY_ENTER, KEY_KPENTER
# KEY_KP0..KEY_KP9
KEYPAD_DIGITS = {82: "0", 79: "1", 80: "2", 81: "3", 75: "4", 76: "5", 77: "6", 71: "7", 72: "8", 73: "9"}


def _row(first_code: int, plain: str, shifted: str) -> dict[int, tuple[str, str]]:
    return {first_code + i: (p, s) for i, (p, s) in enumerate(zip(plain, shifted, strict=True))}


def _letters(first_code: int, letters: str) -> dict[int, tuple[str, str]]:
    return _row(first_code, letters, letters.upper())


_COMMON = {57: (" ", " "), **{code: (digit, digit) for code, digit in KEYPAD_DIGITS.items()}}

KEYMAPS: dict[str, dict[int, tuple[str, str]]] = {
    "us": {
        **_COMMON,
        **_row(2, "1234567890-=", "!@#$%^&*()_+"),
        **_letters(16, "qwertyuiop"),
        **_row(26, "[]", "{}"),
        **_letters(30, "asdfghjkl"),
        **_row(39, ";'`", ':"~'),
        43: ("\\", "|"),
        **_letters(44, "zxcvbnm"),
        **_row(51, ",./", "<>?"),
    },
    "de": {
        **_COMMON,
        **_row(2, "1234567890ß´", '!"§$%&/()=?`'),
        **_letters(16, "qwertzuiop"),
        **_row(26, "ü+", "Ü*"),
        **_letters(30, "asdfghjkl"),
        **_row(39, "öä^", "ÖÄ°"),
        43: ("#", "'"),
        **_letters(44, "yxcvbnm"),
        **_row(51, ",.-", ";:_"),
        86: ("<", ">"),
    },
}
