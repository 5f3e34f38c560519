"""Sanitising user and job names that arrive from IPP and LPD clients.

Submitted names end up in PJL headers (``@PJL JOB NAME="…"``), log lines, terminal screens
and file names, so they are reduced to a safe form on arrival: no control characters (this
removes ESC and therefore the PJL universal exit), no quotes or shell metacharacters, no
directory parts, a bounded length. A user name that is empty after cleaning is refused.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["JOB_NAME_MAX", "USER_NAME_MAX", "clean_job_name", "clean_user_name"]

USER_NAME_MAX = 64
JOB_NAME_MAX = 127
_USER_ALLOWED = re.compile(r"[^A-Za-z0-9._@+-]")
_JOB_FORBIDDEN = re.compile(r"[\"'`$;&|<>*?!{}\[\]\\^~#%=]")
_PJL_UEL = re.compile(r"%-12345X", re.I)


def _printable(text: str) -> str:
    # Drop every control/format character (Cc, Cf, ...): ESC, CR, LF, NUL, bidi overrides.
    return "".join(ch for ch in text if not unicodedata.category(ch).startswith("C"))


def clean_user_name(raw: str) -> str:
    """A user name limited to ``[A-Za-z0-9._@+-]``, at most ``USER_NAME_MAX`` characters.

    Returns "" when nothing usable is left; callers treat that as "no user".
    """
    cleaned = _USER_ALLOWED.sub("", _printable(raw)).strip(".-")
    return cleaned[:USER_NAME_MAX]


def clean_job_name(raw: str, fallback: str = "untitled") -> str:
    """A display-safe job name: last path component only, no control characters, quotes,
    shell metacharacters or PJL escape, whitespace collapsed, at most ``JOB_NAME_MAX`` chars."""
    text = _PJL_UEL.sub("", _printable(raw))
    parts = [part for part in re.split(r"[/\\]", text) if part.strip()]
    text = parts[-1] if parts else ""
    text = _JOB_FORBIDDEN.sub("_", text)
    text = " ".join(text.split()).strip(". ")
    if text.upper().startswith("@PJL"):
        text = "_" + text[1:]
    return text[:JOB_NAME_MAX] or fallback
