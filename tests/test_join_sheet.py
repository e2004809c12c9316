"""Join codes on paper: each code's own link, the CSV neutralises formulas, the printable sheet escapes every value
and lists only unused codes (ragft/classroom/join.py)."""

from __future__ import annotations

import csv
import io

from ragft.classroom.join import code_link, codes_csv, codes_sheet_html
from ragft.store.join_codes import JoinCode, display, normalise


def _codes() -> list[JoinCode]:
    return [
        JoinCode("ABCDEFGHJK", '=HYPERLINK("http://evil.example")', 0.0, None, None, False),
        JoinCode("MNPQRSTUVW", "<img src=http://evil.example/a.png>", 0.0, 5.0, "ws-1", False),
        JoinCode("XYZ2345678", "", 0.0, None, None, True),
    ]


def test_a_code_is_typed_any_way_and_carried_by_its_own_link():
    assert normalise(" abcde - fghjk ") == "ABCDEFGHJK" and display("ABCDEFGHJK") == "ABCDE-FGHJK"
    assert normalise("ABCDE-FGHJ0") == "" and normalise("short") == ""  # 0 is not in the alphabet
    assert code_link("https://w.example.org/?ws=abc#x", "ABCDEFGHJK") == "https://w.example.org/?code=ABCDE-FGHJK"
    assert code_link("", "ABCDEFGHJK") == ""


def test_the_csv_neutralises_formulas_and_names_who_used_a_code():
    rows = list(csv.DictReader(io.StringIO(codes_csv(_codes(), {"ws-1": "Participant 1"}, "http://127.0.0.1:8501/"))))
    assert [r["status"] for r in rows] == ["unused", "used", "revoked"]
    assert rows[0]["note"].startswith("'=") and rows[0]["link"] == "http://127.0.0.1:8501/?code=ABCDE-FGHJK"
    assert rows[1]["participant"] == "Participant 1"


def test_the_sheet_lists_unused_codes_as_text():
    page = codes_sheet_html(_codes(), "http://127.0.0.1:8501/")
    assert "ABCDE-FGHJK" in page and "MNPQR-STUVW" not in page and "XYZ23-45678" not in page
    assert "<img" not in page.split("<body>", 1)[1] and "src=" not in page
    assert "=HYPERLINK(&quot;http://evil.example&quot;)" in page
