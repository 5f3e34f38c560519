"""Card-number conversion chains, written as text an administrator can put in a config file.

A chain is steps separated by ``|``; a step's arguments follow its name after ``:``::

    reverse-bytes|hex2dec|lpad:10:0
    regex:/^;(\\d+)=/|ltrim:2
    wiegand:h10301:card

Steps (vectors from PaperCut and MyQ documentation are in the tests):

==================  ==============================================================
``regex:PATTERN``   first group of the first match (whole match if no group); write
                    ``regex:/PATTERN/`` when the pattern contains ``|`` or ``:``
``hex2dec``         hexadecimal to decimal (``946EBD28`` -> ``2490285352``)
``dec2hex``         decimal to upper-case hexadecimal
``hex2bin``         ``bin2hex`` ``dec2bin`` ``bin2dec``: the other base changes
``ascii-enc``       ASCII-hex pairs to text (``3934`` -> ``94``)
``reverse-bytes``   reverse the order of hex pairs (``1234AB`` -> ``AB3412``); alias ``reverse``
``bit-reverse-bytes``  reverse the bit order inside each byte (``0E`` -> ``70``)
``ltrim:N``         drop N characters on the left; ``rtrim:N`` on the right
``lstrip:C``        drop every leading C (default ``0``); ``rstrip:C`` trailing
``lpad:W:C``        pad on the left with C (default ``0``) to width W; ``rpad:W:C``
``left:N``          keep N leftmost characters; ``right:N`` rightmost
``mid:X:Y``         drop X characters on the left and Y on the right (MyQ semantics)
``prepend:S``       add S before; ``append:S`` after
``upper``           ``lower``: change letter case
``wiegand:F:MODE``  decode a hex Wiegand frame of format F (h10301, h10304, c1k35,
                    c1k48) with parity checked; MODE ``card`` (default) or
                    ``facility-card`` (``104-989``); a third argument sets
                    the separator (``wiegand:h10301:facility-card::`` gives ``2:10482``)
==================  ==============================================================

Every value is limited to ``MAX_CHARS`` characters, so a 200-digit card number converts
but a hostile megabyte does not turn into a megabyte of work.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from card_numbers.errors import ChainSyntaxError, ConversionError
from card_numbers.wiegand import WIEGAND_FORMATS, decode_wiegand

__all__ = ["MAX_CHARS", "ConversionChain"]

MAX_CHARS = 1024

_HEX = re.compile(r"[0-9A-Fa-f]+")
_DEC = re.compile(r"[0-9]+")
_BIN = re.compile(r"[01]+")

Step = Callable[[str], str]


def _require(value: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(value):
        raise ConversionError(f"expected {what} digits, got {value[:40]!r}")
    return value


def _base(source: re.Pattern[str], source_base: int, what: str, out: Callable[[int], str]) -> Step:
    return lambda value: out(int(_require(value, source, what), source_base))


def _hex_pairs(value: str) -> bytes:
    _require(value, _HEX, "hexadecimal")
    if len(value) % 2:
        raise ConversionError(f"odd number of hex digits in {value[:40]!r}")
    return bytes.fromhex(value)


def _ascii_enc(value: str) -> str:
    text = _hex_pairs(value).decode("latin-1")
    if not text.isprintable() or not text.isascii():
        raise ConversionError(f"ascii-enc: {value[:40]!r} is not printable ASCII")
    return text


def _reverse_bytes(value: str) -> str:
    return _hex_pairs(value)[::-1].hex().upper()


def _bit_reverse_bytes(value: str) -> str:
    return bytes(int(f"{b:08b}"[::-1], 2) for b in _hex_pairs(value)).hex().upper()


def _int_arg(step: str, text: str) -> int:
    if not _DEC.fullmatch(text) or int(text) > MAX_CHARS:
        raise ChainSyntaxError(f"{step}: {text!r} is not a count from 0 to {MAX_CHARS}")
    return int(text)


def _char_arg(step: str, text: str) -> str:
    if len(text) != 1:
        raise ChainSyntaxError(f"{step}: {text!r} is not a single character")
    return text


def _regex(pattern_text: str) -> Step:
    try:
        pattern = re.compile(pattern_text)
    except re.error as exc:
        raise ChainSyntaxError(f"regex: {exc}") from exc

    def step(value: str) -> str:
        match = pattern.search(value)
        if match is None:
            raise ConversionError(f"regex {pattern_text!r} does not match {value[:40]!r}")
        return match.group(1) if pattern.groups else match.group(0)

    return step


def _wiegand(name: str, mode: str = "card", separator: str = "-") -> Step:
    fmt = WIEGAND_FORMATS.get(name.lower())
    if fmt is None:
        raise ChainSyntaxError(f"wiegand: unknown format {name!r} (know {sorted(WIEGAND_FORMATS)})")
    if mode not in ("card", "facility-card"):
        raise ChainSyntaxError(f"wiegand: mode must be card or facility-card, not {mode!r}")

    def step(value: str) -> str:
        decoded = decode_wiegand(int(_require(value, _HEX, "hexadecimal"), 16), fmt)
        if mode == "card":
            return str(decoded.card)
        return f"{decoded.facility}{separator}{decoded.card}"

    return step


def _padded(width: int, fill: str, left: bool) -> Step:
    return lambda value: value.rjust(width, fill) if left else value.ljust(width, fill)


def _slice(step: str, count_text: str, keep_left: bool, drop: bool = False) -> Step:
    """left/right keep ``count`` characters; ltrim/rtrim (``drop``) remove them."""
    count = _int_arg(step, count_text)
    if keep_left:
        return (lambda v: v[: max(0, len(v) - count)]) if drop else (lambda v: v[:count])
    return (lambda v: v[max(0, len(v) - count) :]) if drop else (lambda v: v[count:])


def _strip(step: str, char_text: str, strip: Callable[[str, str], str]) -> Step:
    char = _char_arg(step, char_text)
    return lambda value: strip(value, char)


def _mid(step: str, left: str, right: str) -> Step:
    drop_left, drop_right = _int_arg(step, left), _int_arg(step, right)
    return lambda value: value[drop_left : max(drop_left, len(value) - drop_right)]


# name -> (builder taking the step's text arguments, minimum and maximum argument count)
_STEPS: dict[str, tuple[Callable[..., Step], int, int]] = {
    "hex2dec": (lambda: _base(_HEX, 16, "hexadecimal", str), 0, 0),
    "dec2hex": (lambda: _base(_DEC, 10, "decimal", lambda n: f"{n:X}"), 0, 0),
    "hex2bin": (lambda: _base(_HEX, 16, "hexadecimal", lambda n: f"{n:b}"), 0, 0),
    "bin2hex": (lambda: _base(_BIN, 2, "binary", lambda n: f"{n:X}"), 0, 0),
    "dec2bin": (lambda: _base(_DEC, 10, "decimal", lambda n: f"{n:b}"), 0, 0),
    "bin2dec": (lambda: _base(_BIN, 2, "binary", str), 0, 0),
    "ascii-enc": (lambda: _ascii_enc, 0, 0),
    "reverse-bytes": (lambda: _reverse_bytes, 0, 0),
    "reverse": (lambda: _reverse_bytes, 0, 0),
    "bit-reverse-bytes": (lambda: _bit_reverse_bytes, 0, 0),
    "upper": (lambda: str.upper, 0, 0),
    "lower": (lambda: str.lower, 0, 0),
    "ltrim": (lambda n: _slice("ltrim", n, keep_left=False), 1, 1),
    "rtrim": (lambda n: _slice("rtrim", n, keep_left=True, drop=True), 1, 1),
    "left": (lambda n: _slice("left", n, keep_left=True), 1, 1),
    "right": (lambda n: _slice("right", n, keep_left=False, drop=True), 1, 1),
    "lstrip": (lambda c="0": _strip("lstrip", c, str.lstrip), 0, 1),
    "rstrip": (lambda c="0": _strip("rstrip", c, str.rstrip), 0, 1),
    "lpad": (lambda w, c="0": _padded(_int_arg("lpad", w), _char_arg("lpad", c), True), 1, 2),
    "rpad": (lambda w, c="0": _padded(_int_arg("rpad", w), _char_arg("rpad", c), False), 1, 2),
    "mid": (lambda x, y: _mid("mid", x, y), 2, 2),
    "prepend": (lambda s: lambda v: s + v, 1, 1),
    "append": (lambda s: lambda v: v + s, 1, 1),
    "wiegand": (_wiegand, 1, 3),
}


def _split_steps(text: str) -> list[str]:
    """Split on ``|``, keeping a ``regex:/.../`` pattern whole even if it contains ``|``."""
    steps: list[str] = []
    rest = text.strip()
    while rest:
        if rest.startswith("regex:/"):
            end = rest.find("/|", 7)
            end = len(rest) - 1 if end < 0 else end
            if end < 7 or rest[end] != "/":
                raise ChainSyntaxError("regex:/ pattern is not closed by '/'")
            steps.append(rest[: end + 1])
            rest = rest[end + 2 :]
            continue
        head, _, rest = rest.partition("|")
        steps.append(head.strip())
    return steps


def _build_step(text: str) -> Step:
    if text.startswith("regex:"):
        pattern = text[len("regex:") :]
        if pattern.startswith("/") and pattern.endswith("/") and len(pattern) >= 2:
            pattern = pattern[1:-1]
        return _regex(pattern)
    name = text.partition(":")[0]
    spec = _STEPS.get(name.strip().lower())
    if spec is None:
        raise ChainSyntaxError(f"unknown conversion step {name!r} (know regex, {', '.join(_STEPS)})")
    builder, least, most = spec
    # the last argument keeps any further ':' so "prepend:a:b" and a ':' separator work
    args = text.split(":", most)[1:]
    if not least <= len(args) <= most:
        raise ChainSyntaxError(f"{name}: takes {least} to {most} arguments, got {len(args)}")
    step: Step = builder(*args)
    return step


@dataclass(frozen=True)
class ConversionChain:
    """A parsed conversion chain; call it on a card number string to convert it.

    ``ConversionChain.parse("")`` is the identity chain.
    """

    text: str
    steps: tuple[Step, ...]

    @classmethod
    def parse(cls, text: str) -> ConversionChain:
        """Parse chain text; raise ``ChainSyntaxError`` naming the bad step."""
        if len(text) > MAX_CHARS:
            raise ChainSyntaxError(f"chain text longer than {MAX_CHARS} characters")
        parts = _split_steps(text)
        if any(not part for part in parts):
            raise ChainSyntaxError(f"empty step in chain {text!r}")
        return cls(text, tuple(_build_step(part) for part in parts))

    def __call__(self, value: str) -> str:
        """Convert ``value``; raise ``ConversionError`` saying which step failed and why."""
        _check_size(value)
        for index, step in enumerate(self.steps, 1):
            try:
                value = _check_size(step(value))
            except ConversionError as exc:
                raise type(exc)(f"step {index} of {self.text!r}: {exc}") from None
        return value


def _check_size(value: str) -> str:
    if len(value) > MAX_CHARS:
        raise ConversionError(f"value of {len(value)} characters exceeds {MAX_CHARS}")
    return value
