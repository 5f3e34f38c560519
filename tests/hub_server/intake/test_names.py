"""Name sanitising: exact outputs for hostile user and job names."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hub_server.intake.names import JOB_NAME_MAX, USER_NAME_MAX, clean_job_name, clean_user_name


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("alice", "alice"),
        ("Bob.Smith@example.org", "Bob.Smith@example.org"),
        ("eve; rm -rf /", "everm-rf"),
        ("../../root", "root"),
        ("\x1b%-12345X@PJL", "12345X@PJL"),
        ("", ""),
        ("$$$", ""),
    ],
)
def test_clean_user_name(raw: str, clean: str) -> None:
    assert clean_user_name(raw) == clean


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Quarterly report.pdf", "Quarterly report.pdf"),
        ("C:\\Users\\bob\\secret.docx", "secret.docx"),
        ("/etc/passwd", "passwd"),
        ('a"b`c$d;e|f', "a_b_c_d_e_f"),
        ("\x1b%-12345X@PJL ENTER LANGUAGE=PCL", "_PJL ENTER LANGUAGE_PCL"),
        ("line\r\nbreak\ttab", "linebreaktab"),
        ("bidi\u202etxt.exe", "biditxt.exe"),
        ("///", "untitled"),
    ],
)
def test_clean_job_name(raw: str, clean: str) -> None:
    assert clean_job_name(raw) == clean


@given(st.text(max_size=2000))
def test_cleaned_names_are_always_safe(raw: str) -> None:
    job, user = clean_job_name(raw), clean_user_name(raw)
    assert 0 < len(job) <= JOB_NAME_MAX and len(user) <= USER_NAME_MAX
    for forbidden in ('"', "\x1b", "\n", "\r", "/", "\\", ";", "`", "$", "|"):
        assert forbidden not in job and forbidden not in user
    assert not job.upper().startswith("@PJL")
