"""AppTest of the Fine-tune page's "cost elsewhere" and the Decision guide's lifecycle facts and projection on both
sides of 2027-01-06 (``RAGFT_TODAY``).

Slow: the pages load the embedded model (the Fine-tune page counts tokens with its tokenizer, the sidebar status).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.apptest_helpers import embedded_settings, open_page

pytestmark = pytest.mark.slow  # loads a model, trains, or starts a server or a browser

BEFORE = date(2026, 12, 2)
ON = date(2027, 1, 6)
PAGE = str(Path(__file__).resolve().parent.parent / "pages" / "guide.py")


def _open(tmp_path, monkeypatch, day: str):
    monkeypatch.setenv("RAGFT_TODAY", day)
    return open_page("pages/finetune.py", embedded_settings(tmp_path))


def _cost_tables(at) -> list[str]:
    """The "cost elsewhere" tables as CSV text: the open services, then (when any) the ended ones."""
    return [d.value.to_csv() for d in at.dataframe if "status" in d.value.columns]


def _markdown(at) -> str:
    return "\n".join(str(m.value) for m in at.markdown) + "\n".join(str(c.value) for c in at.caption)


def test_before_the_end_openai_and_fireworks_are_both_offered(tmp_path, monkeypatch):
    at = _open(tmp_path, monkeypatch, "2026-12-02")
    text = _markdown(at)
    assert "**Elsewhere, as of 2026-12-02:** OpenAI self-serve fine-tuning, Fireworks AI fine-tuning." in text
    assert "ends for everyone on 2027-01-06 (in 35 days)" in text
    tables = _cost_tables(at)
    assert len(tables) == 1, "nothing has ended yet"
    assert "gpt-4o-mini" in tables[0] and "closed to new users, ends 2027-01-06" in tables[0]
    assert "open models up to 16B" in tables[0] and "https://fireworks.ai/pricing" in tables[0]


def test_from_the_end_date_openai_is_history_and_the_rest_remains(tmp_path, monkeypatch):
    at = _open(tmp_path, monkeypatch, "2027-01-06")
    text = _markdown(at)
    assert "**Elsewhere, as of 2027-01-06:** Fireworks AI fine-tuning (plus 6 ended price row(s) below" in text
    assert "ended for everyone on 2027-01-06" in text
    table, ended = _cost_tables(at)
    assert "Fireworks AI fine-tuning" in table and "OpenAI" not in table
    assert "gpt-4o-mini" in ended and "ended 2027-01-06" in ended and "Fireworks" not in ended


def _guide(monkeypatch, day: str) -> AppTest:
    monkeypatch.setenv("RAGFT_TODAY", day)
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    for key, value in {"volume": "medium", "behaviour": "brand_voice", "examples": "hundreds"}.items():
        at.selectbox(key=f"guide_q_{key}").set_value(value)
    at.run()
    assert not at.exception, at.exception
    return at


def _text(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [i.value for i in at.info] + [c.value for c in at.caption]
    return "\n".join(str(p) for p in parts)


def test_guide_page_before_the_end_date(monkeypatch):
    at = _guide(monkeypatch, "2026-12-02")
    assert at.date_input(key="guide_today").value == BEFORE
    text = _text(at)
    assert "ends for everyone on 2027-01-06 (in 35 days)" in text
    assert "Hosted fine-tuning that remains after 2027-01-06" in text
    assert "has ended, so fine-tuning and hybrid are priced as a LoRA" not in text


def test_guide_page_on_the_end_date(monkeypatch):
    at = _guide(monkeypatch, "2027-01-06")
    assert at.date_input(key="guide_today").value == ON
    text = _text(at)
    assert "ended for everyone on 2027-01-06" in text
    assert "Hosted fine-tuning you can still buy" in text
    assert "priced as a LoRA of accounts/fireworks/models/llama-v3p1-8b-instruct on Fireworks AI fine-tuning" in text


def test_guide_page_with_a_bad_date_says_so(monkeypatch):
    monkeypatch.setenv("RAGFT_TODAY", "soon")
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.run()
    assert not at.exception
    assert any("RAGFT_TODAY must be a date" in e.value for e in at.error)
